/*
 * test-atomic-save.c -- saving a file: temporary names that fit NAME_MAX,
 * the folder synced after the rename, and saves killed at any point
 * leaving the old file or the new one whole and at most one temporary,
 * without ever removing the temporary of a save still running.
 *
 * fsync and rename are interposed by this program (the library calls them
 * through the dynamic linker), so the test sees the order of the calls a
 * save makes. The kill test forks a child that saves without end and
 * kills it with SIGKILL at 200 points spread over a save's duration.
 *
 * Not here: the model format itself (test-model-io.c).
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

#define KILLS 200

/* ------------------------------------------- fsync and rename, recorded */

#define MAX_EVENTS 16
static int recording;
static int n_events;
static char events[MAX_EVENTS][16];

static void note(const char *what)
{
    if (recording && n_events < MAX_EVENTS)
        snprintf(events[n_events++], sizeof events[0], "%s", what);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    struct stat st;
    if (fstat(fd, &st) == 0)
        note(S_ISDIR(st.st_mode) ? "fsync folder" : "fsync file");
    return real(fd);
}

int rename(const char *from, const char *to)
{
    static int (*real)(const char *, const char *);
    if (!real)
        real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    note("rename");
    return real(from, to);
}

/* ------------------------------------------------------------ helpers */

static char folder[64];

static int setup(void **state)
{
    (void)state;
    return temp_folder_make(folder, sizeof folder, "save");
}

static int teardown(void **state)
{
    (void)state;
    return temp_folder_remove(folder);
}

static galann_model *model_with_seed(const size_t *sizes, size_t n_layers, uint32_t seed)
{
    galann_model *m = NULL;
    assert_int_equal(galann_model_new(sizes, n_layers, &m), GALANN_OK);
    assert_int_equal(galann_model_init_random(m, seed), GALANN_OK);
    return m;
}

static int same_params(const galann_model *a, const galann_model *b)
{
    size_t n = galann_model_n_params(a);
    if (n != galann_model_n_params(b))
        return 0;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    int same = x && y && galann_model_get_params(a, x, n) == GALANN_OK &&
               galann_model_get_params(b, y, n) == GALANN_OK && memcmp(x, y, n * sizeof *x) == 0;
    free(x);
    free(y);
    return same;
}

/* Names in the folder that contain ".tmp-". */
static int count_temporaries(void)
{
    DIR *d = opendir(folder);
    assert_non_null(d);
    int count = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        count += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return count;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ------------------------------------------------------------- tests */

static void names_of_240_and_255_characters_can_be_saved(void **state)
{
    (void)state;
    static const size_t sizes[] = { 5, 4, 3 };
    galann_model *m = model_with_seed(sizes, 3, 1), *back = NULL;
    static const size_t lengths[] = { 240, 255 };
    for (size_t i = 0; i < 2; i++) {
        char path[400];
        int at = snprintf(path, sizeof path, "%s/", folder);
        memset(path + at, 'm', lengths[i]);
        path[at + (int)lengths[i]] = '\0';
        expect_status(galann_model_save(m, path), GALANN_OK);
        expect_status(galann_model_load(path, &back), GALANN_OK);
        assert_true(same_params(m, back));
        galann_model_free(back);
        back = NULL;
        /* and a dataset, through the same writer */
        galann_dataset *d = random_dataset(4, 3, 2, 7);
        expect_status(galann_dataset_save_csv(d, path, 255.0), GALANN_OK);
        galann_dataset_free(d);
    }
    assert_int_equal(count_temporaries(), 0);
    galann_model_free(m);
}

static void folder_is_synced_after_the_rename(void **state)
{
    (void)state;
    static const size_t sizes[] = { 5, 4, 3 };
    galann_model *m = model_with_seed(sizes, 3, 2);
    char path[128];
    snprintf(path, sizeof path, "%s/synced.model", folder);
    n_events = 0;
    recording = 1;
    int status = galann_model_save(m, path);
    recording = 0;
    expect_status(status, GALANN_OK);
    for (int i = 0; i < n_events; i++)
        print_message("  %d: %s\n", i, events[i]);
    assert_int_equal(n_events, 3);
    assert_string_equal(events[0], "fsync file");
    assert_string_equal(events[1], "rename");
    assert_string_equal(events[2], "fsync folder");
    galann_model_free(m);
}

/* Another save's temporary of the same file, held by its writer (an flock
 * on it, as a running save holds), survives; unheld ones are orphans. */
static void clean_up_removes_orphans_but_never_a_live_writers_temporary(void **state)
{
    (void)state;
    static const size_t sizes[] = { 5, 4, 3 };
    galann_model *m = model_with_seed(sizes, 3, 3);
    char path[128], live[192], orphan[192], other[192];
    snprintf(path, sizeof path, "%s/shared.model", folder);
    snprintf(live, sizeof live, "%s.tmp-%010d-%016x", path, 1, 0xabc);
    snprintf(orphan, sizeof orphan, "%s.tmp-%010d-%016x", path, 999999, 0xdef);
    snprintf(other, sizeof other, "%s/another.model.tmp-%010d-%016x", folder, 999999, 0x123);
    const char *made[] = { live, orphan, other };
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(made[i], "w");
        assert_non_null(f);
        fputs("partial", f);
        fclose(f);
    }
    int held = open(live, O_RDONLY);
    assert_true(held >= 0);
    assert_int_equal(flock(held, LOCK_EX), 0);

    expect_status(galann_model_save(m, path), GALANN_OK);
    assert_int_equal(access(live, F_OK), 0);      /* its writer is alive */
    assert_int_equal(access(orphan, F_OK), -1);   /* its writer died */
    assert_int_equal(access(other, F_OK), 0);     /* another file's */

    close(held);  /* the writer is gone: its temporary is an orphan now */
    expect_status(galann_model_save(m, path), GALANN_OK);
    assert_int_equal(access(live, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);
    galann_model_free(m);
}

/* A child saves model a and b in turn without end; it is killed with
 * SIGKILL at KILLS points spread over three saves' time. After each kill the
 * file loads and is a or b, whole, and at most one temporary is there. */
static void killed_saves_leave_a_whole_file_and_at_most_one_temporary(void **state)
{
    (void)state;
    static const size_t sizes[] = { 1024, 100, 3 };  /* 102 803 weights, 822 KB */
    galann_model *a = model_with_seed(sizes, 3, 4), *b = model_with_seed(sizes, 3, 5);
    char path[128];
    snprintf(path, sizeof path, "%s/killed.model", folder);
    expect_status(galann_model_save(a, path), GALANN_OK);
    double start = seconds_now();
    for (int i = 0; i < 5; i++)
        expect_status(galann_model_save(i % 2 ? a : b, path), GALANN_OK);
    double save_seconds = (seconds_now() - start) / 5;
    print_message("one save takes %.2f ms\n", 1e3 * save_seconds);
    /* a on disk; each child writes b first: a kill before its rename
     * leaves a, after it b */
    expect_status(galann_model_save(a, path), GALANN_OK);

    int found_a = 0, found_b = 0, most_temporaries = 0;
    for (int k = 0; k < KILLS; k++) {
        fflush(NULL);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            for (unsigned i = 0;; i++)
                galann_model_save(i % 2 ? a : b, path);
        }
        /* kill point k of KILLS, over [0, 3 saves) after the start */
        double delay = 3.0 * save_seconds * (double)k / KILLS;
        struct timespec pause = { (time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9) };
        nanosleep(&pause, NULL);
        kill(child, SIGKILL);
        int wstatus;
        assert_int_equal(waitpid(child, &wstatus, 0), child);

        galann_model *back = NULL;
        expect_status(galann_model_load(path, &back), GALANN_OK);
        int is_a = same_params(back, a), is_b = same_params(back, b);
        galann_model_free(back);
        if (!is_a && !is_b)
            fail_msg("kill %d: the file is neither model", k);
        found_a += is_a;
        found_b += is_b;
        int temporaries = count_temporaries();
        if (temporaries > most_temporaries)
            most_temporaries = temporaries;
        if (temporaries > 1)
            fail_msg("kill %d: %d temporaries left", k, temporaries);
    }
    print_message("%d kills: the old or new file whole every time (%d a, %d b), at most %d temporary\n", KILLS,
                  found_a, found_b, most_temporaries);
    /* one more save removes the last orphan */
    expect_status(galann_model_save(a, path), GALANN_OK);
    assert_int_equal(count_temporaries(), 0);
    galann_model_free(a);
    galann_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(names_of_240_and_255_characters_can_be_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(folder_is_synced_after_the_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(clean_up_removes_orphans_but_never_a_live_writers_temporary, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(killed_saves_leave_a_whole_file_and_at_most_one_temporary, setup, teardown),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
