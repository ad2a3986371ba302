/*
 * test-process-state.c -- using the library leaves the host process as it
 * found it: every signal's disposition, the signal mask, the environment,
 * the locale, the shared objects loaded and the number of threads.
 *
 * Each case runs in a fresh process (this program started again with the
 * case's name), because a runtime, once loaded, stays loaded: a case that
 * ran after another had loaded it would prove nothing. A case first checks
 * that loading libgalann started nothing: one thread (this program has no
 * other) and no CBLAS mapped (libgalann loads it on the first blas
 * context, docs/reliability.md §8). It then snapshots the state, makes the
 * calls (a context created, one cost computed, the context freed; or
 * galann_backend_devices; or a CSV file written and read back), snapshots
 * again and prints every difference.
 *
 * - reference, the CSV files, devices of reference and blas: no difference
 *   at all, no shared object loaded, no thread added.
 * - blas: CBLAS is loaded by the first context, once (one library whose
 *   name has "blas" in it, with its own dependencies) and its threads stay
 *   (OpenBLAS's pool); signals, mask, environment and locale are as they
 *   were, and a second context adds no library and no thread.
 * - blas when CBLAS cannot be loaded (dlopen refused by this program,
 *   which defines dlopen before the C library's): GALANN_ERR_UNAVAILABLE
 *   with the loader's reason, "best available" falls back to reference,
 *   and nothing changes.
 * - opencl: the runtime's threads and libraries stay; signals,
 *   environment and locale must still be as they were, and a second
 *   context must not add threads.
 * - "best available" follows the rules of the backend it chose.
 *
 * Not here: what the library computes (the other tests).
 */
#define _GNU_SOURCE /* NSIG, RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

extern char **environ;

/* A child's exit statuses: 0 no difference, 1 a difference, 77 the
 * backend is not usable here, 2 the case itself failed. */
#define CASE_SKIPPED 77
#define CASE_BROKEN 2

#define MAX_ENV 4096
#define MAX_LIBRARIES 1024

typedef struct process_state {
    int have[NSIG];               /* sigaction succeeded for this signal */
    struct sigaction action[NSIG];
    sigset_t mask;
    size_t n_env;
    char *env[MAX_ENV];
    char locale[512];
    size_t n_libraries;
    char *libraries[MAX_LIBRARIES];  /* shared objects mapped */
    long threads;
} process_state;

/* ------------------------------------------------------- dlopen refused */

/* In the "unloadable" case, dlopen refuses every library whose file name
 * has "blas" in it, as it would if CBLAS were not installed; dlerror then
 * gives this reason once. The library's calls come here because an
 * executable's definitions come first. */
#define REFUSAL "refused by test-process-state"
static int refuse_cblas;
static int refusal_pending;

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void *dlopen(const char *file, int mode)
{
    void *(*real)(const char *, int) = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    if (refuse_cblas && file && strstr(base_name(file), "blas")) {
        refusal_pending = 1;
        return NULL;
    }
    return real ? real(file, mode) : NULL;
}

char *dlerror(void)
{
    char *(*real)(void) = (char *(*)(void))dlsym(RTLD_NEXT, "dlerror");
    if (refusal_pending) {
        refusal_pending = 0;
        return (char *)REFUSAL;
    }
    return real ? real() : NULL;
}

/* ------------------------------------------------------- snapshots */

static long thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long n = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Threads:", 8) == 0) {
            n = strtol(line + 8, NULL, 10);
            break;
        }
    }
    fclose(f);
    return n;
}

static int has_library(const process_state *s, const char *path)
{
    for (size_t i = 0; i < s->n_libraries; i++) {
        if (strcmp(s->libraries[i], path) == 0)
            return 1;
    }
    return 0;
}

/* Every shared object in /proc/self/maps, once. */
static void list_libraries(process_state *s)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    char line[4096 + 256];
    while (fgets(line, sizeof line, f) && s->n_libraries < MAX_LIBRARIES) {
        char *path = strchr(line, '/');
        if (!path || !strstr(path, ".so"))
            continue;
        path[strcspn(path, "\n")] = '\0';
        if (!has_library(s, path))
            s->libraries[s->n_libraries++] = strdup(path);
    }
    fclose(f);
}

static void snapshot_take(process_state *s)
{
    memset(s, 0, sizeof *s);
    for (int sig = 1; sig < NSIG; sig++)
        s->have[sig] = sigaction(sig, NULL, &s->action[sig]) == 0;
    pthread_sigmask(SIG_SETMASK, NULL, &s->mask);
    for (char **e = environ; e && *e && s->n_env < MAX_ENV; e++)
        s->env[s->n_env++] = strdup(*e);
    const char *loc = setlocale(LC_ALL, NULL);
    snprintf(s->locale, sizeof s->locale, "%s", loc ? loc : "(null)");
    list_libraries(s);
    s->threads = thread_count();
}

static void snapshot_free(process_state *s)
{
    for (size_t i = 0; i < s->n_env; i++)
        free(s->env[i]);
    s->n_env = 0;
    for (size_t i = 0; i < s->n_libraries; i++)
        free(s->libraries[i]);
    s->n_libraries = 0;
}

/* How many of the shared objects mapped are a CBLAS (the file name has
 * "blas" in it: libopenblas*, libblas*, libcblas*). */
static int cblas_count(const process_state *s)
{
    int count = 0;
    for (size_t i = 0; i < s->n_libraries; i++)
        count += strstr(base_name(s->libraries[i]), "blas") != NULL;
    return count;
}

/* Print the shared objects loaded between two snapshots; how many. */
static int new_libraries(const process_state *before, const process_state *after)
{
    int count = 0;
    for (size_t i = 0; i < after->n_libraries; i++) {
        if (!has_library(before, after->libraries[i])) {
            printf("  loaded: %s\n", after->libraries[i]);
            count++;
        }
    }
    return count;
}

static int same_sigset(const sigset_t *a, const sigset_t *b)
{
    for (int sig = 1; sig < NSIG; sig++) {
        if (sigismember(a, sig) != sigismember(b, sig))
            return 0;
    }
    return 1;
}

/* Linux reports SA_RESTORER (the C library's return trampoline) once a
 * disposition has been set, even back to SIG_DFL: not part of what it
 * does. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static int same_action(const struct sigaction *a, const struct sigaction *b)
{
    /* sa_handler and sa_sigaction share storage; SA_SIGINFO says which */
    int info = (a->sa_flags & SA_SIGINFO) != 0;
    if ((a->sa_flags & ~SA_RESTORER) != (b->sa_flags & ~SA_RESTORER))
        return 0;
    if (info ? a->sa_sigaction != b->sa_sigaction : a->sa_handler != b->sa_handler)
        return 0;
    return same_sigset(&a->sa_mask, &b->sa_mask);
}

static const char *handler_name(const struct sigaction *a)
{
    if (a->sa_flags & SA_SIGINFO)
        return "a handler (siginfo)";
    return a->sa_handler == SIG_DFL ? "SIG_DFL" : a->sa_handler == SIG_IGN ? "SIG_IGN" : "a handler";
}

static int contains(const process_state *s, const char *entry)
{
    for (size_t i = 0; i < s->n_env; i++) {
        if (strcmp(s->env[i], entry) == 0)
            return 1;
    }
    return 0;
}

/* Print each difference; return how many signals, environment entries and
 * locale/mask changes differ (threads are counted apart). */
static int compare_without_threads(const process_state *before, const process_state *after)
{
    int differences = 0;
    for (int sig = 1; sig < NSIG; sig++) {
        if (before->have[sig] != after->have[sig] ||
            (before->have[sig] && !same_action(&before->action[sig], &after->action[sig]))) {
            printf("  signal %d (%s): %s (flags %#x) before, %s (flags %#x) after\n", sig, strsignal(sig),
                   handler_name(&before->action[sig]), (unsigned)before->action[sig].sa_flags,
                   handler_name(&after->action[sig]), (unsigned)after->action[sig].sa_flags);
            differences++;
        }
    }
    if (!same_sigset(&before->mask, &after->mask)) {
        printf("  the signal mask changed\n");
        differences++;
    }
    for (size_t i = 0; i < after->n_env; i++) {
        if (!contains(before, after->env[i])) {
            printf("  environment: \"%s\" appeared\n", after->env[i]);
            differences++;
        }
    }
    for (size_t i = 0; i < before->n_env; i++) {
        if (!contains(after, before->env[i])) {
            printf("  environment: \"%s\" is gone\n", before->env[i]);
            differences++;
        }
    }
    if (strcmp(before->locale, after->locale) != 0) {
        printf("  locale: \"%s\" before, \"%s\" after\n", before->locale, after->locale);
        differences++;
    }
    return differences;
}

/* ------------------------------------------------------- the cases */

/* A context on backend (NULL = best available), one cost, freed; *chosen
 * is the backend it ran on. */
static int use_context(const char *backend, const char **chosen)
{
    static const size_t sizes[] = { 20, 5, 3 };
    galann_context *c = NULL;
    galann_model *m = NULL;
    galann_dataset *d = NULL;
    double cost = 0.0;
    int status = galann_context_new(backend, &c);
    if (status == GALANN_OK)
        *chosen = galann_context_backend(c);
    if (status == GALANN_OK)
        status = galann_model_new(sizes, 3, &m);
    if (status == GALANN_OK)
        status = galann_model_init_random(m, 917);
    if (status == GALANN_OK)
        d = random_dataset(600, 20, 3, 5);
    if (status == GALANN_OK && !d)
        status = GALANN_ERR_NOMEM;
    if (status == GALANN_OK)
        status = galann_cost(c, m, d, 1.0, &cost);
    if (status != GALANN_OK)
        printf("  %s: %s: %s\n", backend ? backend : "best available", galann_strerror(status), galann_last_error());
    else
        printf("  %s context (%s): cost %.12f\n", backend ? backend : "best available", galann_context_backend(c),
               cost);
    galann_dataset_free(d);
    galann_model_free(m);
    galann_context_free(c);
    return status;
}

/* A CSV file written and read back (a program that uses libgalann for its
 * files only). */
static int use_csv_files(void)
{
    char folder[] = "/tmp/galann-process-state-XXXXXX";
    if (!mkdtemp(folder)) {
        printf("  mkdtemp: %s\n", strerror(errno));
        return GALANN_ERR_IO;
    }
    char path[sizeof folder + 16];
    snprintf(path, sizeof path, "%s/data.csv", folder);
    galann_dataset *d = random_dataset(600, 20, 3, 5), *back = NULL;
    int status = d ? galann_dataset_save_csv(d, path, 1.0) : GALANN_ERR_NOMEM;
    if (status == GALANN_OK)
        status = galann_dataset_load_csv(path, &back);
    if (status != GALANN_OK)
        printf("  CSV files: %s: %s\n", galann_strerror(status), galann_last_error());
    else
        printf("  CSV file written and read: %zu rows\n", galann_dataset_n_samples(back));
    galann_dataset_free(back);
    galann_dataset_free(d);
    unlink(path);
    rmdir(folder);
    return status;
}

/* CBLAS made unloadable: a blas context is refused with the loader's
 * reason, and best available (which tries to load it again) falls back to
 * reference. */
static int use_unloadable_blas(const char **chosen)
{
    int built_in = 0;
    for (size_t i = 0; i < galann_backend_count(); i++)
        built_in |= strcmp(galann_backend_name(i), "blas") == 0;
    if (!built_in)
        return GALANN_ERR_UNAVAILABLE;
    refuse_cblas = 1;
    galann_context *c = NULL;
    int status = galann_context_new("blas", &c);
    const char *message = galann_last_error();
    printf("  blas: %s: %s\n", galann_strerror(status), message);
    if (status != GALANN_ERR_UNAVAILABLE || !strstr(message, "cannot load CBLAS") || !strstr(message, REFUSAL)) {
        printf("  expected %s with \"cannot load CBLAS\" and \"%s\"\n", galann_strerror(GALANN_ERR_UNAVAILABLE),
               REFUSAL);
        galann_context_free(c);
        return GALANN_ERR_BACKEND;
    }
    status = use_context(NULL, chosen);
    if (status == GALANN_OK && strcmp(*chosen, "reference") != 0 && strcmp(*chosen, "opencl") != 0) {
        printf("  best available chose %s without CBLAS\n", *chosen);
        return GALANN_ERR_BACKEND;
    }
    return status;
}

static int list_devices(const char *backend)
{
    char buf[4096];
    int status = galann_backend_devices(backend, buf, sizeof buf);
    if (status != GALANN_OK)
        printf("  devices of %s: %s: %s\n", backend, galann_strerror(status), galann_last_error());
    else
        printf("  devices of %s:\n%s", backend, buf);
    return status;
}

enum case_kind { CASE_CONTEXT, CASE_DEVICES, CASE_CSV, CASE_UNLOADABLE_BLAS };

static int run_calls(enum case_kind kind, const char *backend, const char **chosen)
{
    switch (kind) {
    case CASE_CONTEXT:
        return use_context(backend, chosen);
    case CASE_DEVICES:
        return list_devices(backend);
    case CASE_CSV:
        return use_csv_files();
    case CASE_UNLOADABLE_BLAS:
        return use_unloadable_blas(chosen);
    }
    return GALANN_ERR_INVALID;
}

/* Run one case in this process; the exit status says how it went. */
static int run_case(const char *name)
{
    const char *backend = NULL;
    enum case_kind kind;
    if (strcmp(name, "csv") == 0)
        kind = CASE_CSV;
    else if (strcmp(name, "context:blas-unloadable") == 0)
        kind = CASE_UNLOADABLE_BLAS;
    else if (strncmp(name, "context:", 8) == 0)
        kind = CASE_CONTEXT, backend = strcmp(name + 8, "best") == 0 ? NULL : name + 8;
    else if (strncmp(name, "devices:", 8) == 0)
        kind = CASE_DEVICES, backend = name + 8;
    else
        return CASE_BROKEN;
    /* what ran: the backend of the context (devices: the one listed) */
    const char *chosen = kind == CASE_DEVICES ? backend : NULL;

    /* a locale of the host's own, so that a library setting "C" shows */
    setlocale(LC_ALL, "C.UTF-8");
    static process_state before, after, again;
    snapshot_take(&before);
    /* Loading libgalann started nothing: no CBLAS, no thread of OpenBLAS's
     * (this program has none of its own). */
    int differences = 0;
    printf("  at start: %ld thread%s, %d CBLAS mapped\n", before.threads, before.threads == 1 ? "" : "s",
           cblas_count(&before));
    if (before.threads != 1 || cblas_count(&before) != 0) {
        printf("  loading libgalann started threads or loaded CBLAS\n");
        differences++;
    }
    int status = run_calls(kind, backend, &chosen);
    snapshot_take(&after);
    if (status == GALANN_ERR_UNAVAILABLE && (backend || kind == CASE_UNLOADABLE_BLAS))
        return CASE_SKIPPED;
    if (status != GALANN_OK)
        return CASE_BROKEN;

    /* best available follows the rules of the backend it chose; listing a
     * backend's devices loads nothing of it but OpenCL's */
    int is_opencl = chosen && strcmp(chosen, "opencl") == 0;
    int is_blas = kind == CASE_CONTEXT && chosen && strcmp(chosen, "blas") == 0;
    differences += compare_without_threads(&before, &after);
    printf("  threads: %ld before, %ld after\n", before.threads, after.threads);
    int loaded = new_libraries(&before, &after);
    if (!is_opencl && !is_blas) {
        /* no runtime (nor anything else) was loaded */
        differences += loaded + (before.threads != after.threads) + cblas_count(&after);
    } else {
        if (is_blas && cblas_count(&after) != 1) {
            printf("  %d CBLAS libraries mapped after the first blas context, expected 1\n", cblas_count(&after));
            differences++;
        }
        /* The runtime's threads (and for blas, libraries) stay, once: a
         * second round adds none. */
        status = run_calls(kind, backend, &chosen);
        snapshot_take(&again);
        printf("  threads: %ld after a second round\n", again.threads);
        differences += compare_without_threads(&before, &again);
        differences += status != GALANN_OK || again.threads > after.threads;
        if (is_blas)
            differences += new_libraries(&after, &again) + (again.threads != after.threads);
        snapshot_free(&again);
    }
    snapshot_free(&before);
    snapshot_free(&after);
    printf("  %d difference%s\n", differences, differences == 1 ? "" : "s");
    return differences ? 1 : 0;
}

/* ------------------------------------------------------- the tests */

static const char *self_path;

/* Start this program on one case; its exit status. */
static int spawn_case(const char *name)
{
    char *argv[] = { (char *)self_path, (char *)name, NULL };
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self_path, NULL, NULL, argv, environ);
    if (err != 0) {
        print_error("posix_spawn %s: %s\n", self_path, strerror(err));
        return -1;
    }
    int wstatus;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(wstatus)) {
        print_error("case %s died (wait status %d)\n", name, wstatus);
        return -1;
    }
    return WEXITSTATUS(wstatus);
}

static void expect_unchanged(const char *name)
{
    int status = spawn_case(name);
    if (status == CASE_SKIPPED) {
        skip_test("%s: backend not usable here", name);
        return;
    }
    if (status != 0)
        fail_msg("%s changed the process (exit status %d; the differences are printed above)", name, status);
}

static void expect_unchanged_opencl(const char *name)
{
    int status = spawn_case(name);
    if (status == CASE_SKIPPED) {
        skip_without_opencl_device("%s: no usable OpenCL device", name);
        return;
    }
    if (status != 0)
        fail_msg("%s changed the process (exit status %d; the differences are printed above)", name, status);
}

static void best_available_context_leaves_process_unchanged(void **state)
{
    (void)state;
    expect_unchanged("context:best");
}

static void reference_context_leaves_process_unchanged(void **state)
{
    (void)state;
    expect_unchanged("context:reference");
}

static void blas_context_loads_cblas_once_and_restores_the_rest(void **state)
{
    (void)state;
    expect_unchanged("context:blas");
}

static void csv_files_leave_process_unchanged(void **state)
{
    (void)state;
    expect_unchanged("csv");
}

static void blas_context_refused_when_cblas_cannot_load(void **state)
{
    (void)state;
    expect_unchanged("context:blas-unloadable");
}

static void reference_devices_leave_process_unchanged(void **state)
{
    (void)state;
    expect_unchanged("devices:reference");
}

static void blas_devices_leave_process_unchanged(void **state)
{
    (void)state;
    expect_unchanged("devices:blas");
}

static void opencl_context_restores_signals_environment_locale(void **state)
{
    (void)state;
    expect_unchanged_opencl("context:opencl");
}

static void opencl_devices_restore_signals_environment_locale(void **state)
{
    (void)state;
    expect_unchanged_opencl("devices:opencl");
}

int main(int argc, char **argv)
{
    if (argc == 2)
        return run_case(argv[1]);
    self_path = "/proc/self/exe";
    static char resolved[4096];
    ssize_t n = readlink("/proc/self/exe", resolved, sizeof resolved - 1);
    if (n > 0) {
        resolved[n] = '\0';
        self_path = resolved;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(best_available_context_leaves_process_unchanged),
        cmocka_unit_test(reference_context_leaves_process_unchanged),
        cmocka_unit_test(blas_context_loads_cblas_once_and_restores_the_rest),
        cmocka_unit_test(blas_context_refused_when_cblas_cannot_load),
        cmocka_unit_test(csv_files_leave_process_unchanged),
        cmocka_unit_test(reference_devices_leave_process_unchanged),
        cmocka_unit_test(blas_devices_leave_process_unchanged),
        cmocka_unit_test(opencl_context_restores_signals_environment_locale),
        cmocka_unit_test(opencl_devices_restore_signals_environment_locale),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
