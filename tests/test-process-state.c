/*
 * test-process-state.c -- using the library leaves the host process as it
 * found it: every signal's disposition, the signal mask, the environment,
 * the locale, the shared objects loaded and the number of threads.
 *
 * Each case runs in a fresh process (this program started again with the
 * case's name), because an OpenCL runtime, once loaded, stays loaded: a
 * case that ran after another had loaded it would prove nothing. A case
 * snapshots the state, makes the calls (a context created, one cost
 * computed, the context freed; or galann_backend_devices), snapshots again
 * and prints every difference. Every backend but opencl must leave no
 * difference at all and load no shared object, and so must "best
 * available" when it does not choose opencl. With opencl, the runtime's
 * threads and libraries stay (docs/reliability.md); the signals, the
 * environment and the locale must still be as they were, and a second
 * context must not add threads.
 *
 * Not here: what the library computes (the other tests).
 */
#define _DEFAULT_SOURCE /* NSIG */
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

/* Run one case in this process; the exit status says how it went. */
static int run_case(const char *name)
{
    const char *backend = NULL;
    int devices = 0;
    if (strncmp(name, "context:", 8) == 0)
        backend = strcmp(name + 8, "best") == 0 ? NULL : name + 8;
    else if (strncmp(name, "devices:", 8) == 0)
        backend = name + 8, devices = 1;
    else
        return CASE_BROKEN;
    const char *chosen = backend;

    /* a locale of the host's own, so that a library setting "C" shows */
    setlocale(LC_ALL, "C.UTF-8");
    static process_state before, after, again;
    snapshot_take(&before);
    int status = devices ? list_devices(backend) : use_context(backend, &chosen);
    snapshot_take(&after);
    if (status == GALANN_ERR_UNAVAILABLE && backend)
        return CASE_SKIPPED;
    if (status != GALANN_OK)
        return CASE_BROKEN;

    /* best available may choose opencl (on a GPU): then its rules hold */
    int is_opencl = chosen && strcmp(chosen, "opencl") == 0;
    int differences = compare_without_threads(&before, &after);
    printf("  threads: %ld before, %ld after\n", before.threads, after.threads);
    int loaded = new_libraries(&before, &after);
    if (!is_opencl) {
        /* no OpenCL runtime (nor anything else) was loaded */
        differences += loaded + (before.threads != after.threads);
    } else {
        /* The runtime's threads stay, once: a second round adds none. */
        status = devices ? list_devices(backend) : use_context(backend, &chosen);
        snapshot_take(&again);
        printf("  threads: %ld after a second round\n", again.threads);
        differences += compare_without_threads(&before, &again);
        differences += status != GALANN_OK || again.threads > after.threads;
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

static void blas_context_leaves_process_unchanged(void **state)
{
    (void)state;
    expect_unchanged("context:blas");
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
        cmocka_unit_test(blas_context_leaves_process_unchanged),
        cmocka_unit_test(reference_devices_leave_process_unchanged),
        cmocka_unit_test(blas_devices_leave_process_unchanged),
        cmocka_unit_test(opencl_context_restores_signals_environment_locale),
        cmocka_unit_test(opencl_devices_restore_signals_environment_locale),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
