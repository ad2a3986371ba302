/*
 * output_file.h -- a file the galann program writes (a plot, a trace)
 * that appears all at once or not at all.
 *
 * The text goes to a temporary file beside the target; commit flushes it
 * to disk and renames it over the target, so a reader sees the old file
 * or the new one, never a part, and a failed write leaves the old file as
 * it was. Not for the library's own saves (lib/atomic_file.c) and not
 * safe for two threads writing one output_file.
 *
 * Use:
 *     output_file o;
 *     FILE *f = output_file_open(path, &o);
 *     if (!f)
 *         return -1;                        (errno says why)
 *     ... fprintf(f, ...) ...
 *     if (something_failed) {
 *         output_file_abandon(&o);         (removes the temporary)
 *         return -1;
 *     }
 *     return output_file_commit(&o);       (0, or -1 with errno)
 */
#ifndef GALANN_CLI_OUTPUT_FILE_H
#define GALANN_CLI_OUTPUT_FILE_H

#include <stdio.h>

typedef struct output_file {
    FILE *stream;      /* the temporary, open for writing */
    char *target;      /* the path it replaces on commit */
    char *temporary;   /* <folder>/<name cut to fit NAME_MAX>.tmp-XXXXXX */
    char *folder;      /* synced after the rename */
} output_file;

/* Create a temporary file beside path (mode 0666 less the umask, as a
 * new file would have) and return a stream to write it; *o holds what
 * commit and abandon need. NULL with errno set when the temporary cannot
 * be created (a missing or read-only folder: ENOENT, EACCES; ENOMEM);
 * then nothing is left behind and *o needs no clean-up. */
FILE *output_file_open(const char *path, output_file *o);

/* Flush, fsync and close the temporary, rename it over the target and
 * fsync the folder. 0 on success. On a failure before the rename
 * (including an earlier write error on the stream, as ferror reports it,
 * then errno EIO) -1 with errno set, the temporary removed and the target
 * as it was; when only the folder's fsync fails, -1 with the new file in
 * place. Either way *o is released. */
int output_file_commit(output_file *o);

/* Close and remove the temporary, leaving the target as it was; errno is
 * preserved, so a caller can abandon and then report why. */
void output_file_abandon(output_file *o);

#endif /* GALANN_CLI_OUTPUT_FILE_H */
