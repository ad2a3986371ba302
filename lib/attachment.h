/*
 * attachment.h -- what a backend derived from a dataset on one context
 * (an OpenCL device copy, say), kept until either of the two is freed.
 *
 * A dataset and a context each embed one attachment list (a lock and a
 * head). Each attachment is linked into two lists, its dataset's and its
 * context's, so that freeing either one releases it exactly once. This
 * file knows those lists and the backend's ops, nothing else of datasets
 * or contexts.
 */
#ifndef GALANN_ATTACHMENT_H
#define GALANN_ATTACHMENT_H

#include <pthread.h>

#include "backend.h"

struct galann_attachment;

/* The attachments of one dataset, or of one context. */
typedef struct galann_attachment_list {
    pthread_mutex_t lock;
    struct galann_attachment *head;
} galann_attachment_list;

/* GALANN_OK, or GALANN_ERR_NOMEM (with a message naming what) when the
 * lock cannot be made. */
int galann_attachment_list_init(galann_attachment_list *list, const char *what);
/* Destroy the lock of an empty list (release it first). */
void galann_attachment_list_destroy(galann_attachment_list *list);

/* The data the backend (ops, state: the context's) keeps for a dataset,
 * preparing it on first use and linking it into the dataset's list and
 * the context's. *out is NULL (and the status OK) when the backend keeps
 * nothing. */
int galann_attachment_for(galann_attachment_list *dataset, galann_attachment_list *context,
                          const galann_backend_ops *ops, void *state, const galann_data_view *view, void **out);

/* Release everything in a dataset's / a context's list, unlinking each
 * attachment from the other list too. Freeing a dataset and a context
 * that used it must not happen concurrently. */
void galann_attachments_release_dataset(galann_attachment_list *dataset);
void galann_attachments_release_context(galann_attachment_list *context);

#endif /* GALANN_ATTACHMENT_H */
