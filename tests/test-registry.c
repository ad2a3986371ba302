/*
 * test-registry.c -- the registry is the one place that knows the
 * backends: its table's names, in its order, are what the messages list,
 * what galann_backend_name returns and what "best available" walks; and
 * every optional hook left NULL gets its default from its one wrapper.
 *
 * White-box: linked with the static archive, to reach registry.h.
 * Not here: the device structs themselves (test-devices.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "registry.h"
#include "support.h"

/* The table of lib/registry.c, in its order: every name a libgalann can
 * know, compiled in or not. */
static const char *const table_names[] = { "opencl", "blas", "reference" };
#define TABLE_SIZE (sizeof table_names / sizeof table_names[0])
#define KNOWN "(known: opencl, blas, reference)"

static int compiled(const char *name)
{
    for (size_t i = 0; i < galann_backend_count(); i++) {
        if (strcmp(galann_backend_name(i), name) == 0)
            return 1;
    }
    return 0;
}

static void expect_message(const char *expected)
{
    if (strcmp(galann_last_error(), expected) != 0) {
        print_error("message \"%s\"\nexpected \"%s\"\n", galann_last_error(), expected);
        fail();
    }
}

static void unknown_backend_message_lists_the_table_in_its_order(void **state)
{
    (void)state;
    galann_context *c = NULL;
    expect_status(galann_context_new("nope", &c), GALANN_ERR_INVALID);
    assert_null(c);
    expect_message("unknown backend \"nope\" " KNOWN);

    /* every entry point that takes a name says the same */
    expect_status(galann_backend_available("nope"), GALANN_ERR_INVALID);
    expect_message("unknown backend \"nope\" " KNOWN);
    char text[64];
    expect_status(galann_backend_devices("nope", text, sizeof text), GALANN_ERR_INVALID);
    expect_message("unknown backend \"nope\" " KNOWN);
    size_t count = 7;
    expect_status(galann_backend_device_count("nope", &count), GALANN_ERR_INVALID);
    expect_message("unknown backend \"nope\" " KNOWN);
    assert_int_equal(count, 0);
    galann_device d;
    galann_device_init(&d);
    expect_status(galann_backend_device("nope", 0, &d), GALANN_ERR_INVALID);
    expect_message("unknown backend \"nope\" " KNOWN);

    /* names are exact: no case folding, no prefixes */
    expect_status(galann_context_new("Reference", &c), GALANN_ERR_INVALID);
    expect_message("unknown backend \"Reference\" " KNOWN);
    expect_status(galann_context_new("", &c), GALANN_ERR_INVALID);
    expect_message("unknown backend \"\" " KNOWN);
}

static void compiled_backends_are_the_table_entries_in_table_order(void **state)
{
    (void)state;
    size_t next = 0;  /* the table position the next compiled name must come from */
    for (size_t i = 0; i < galann_backend_count(); i++) {
        const char *name = galann_backend_name(i);
        while (next < TABLE_SIZE && strcmp(table_names[next], name) != 0)
            next++;
        if (next == TABLE_SIZE) {
            print_error("galann_backend_name(%zu) = \"%s\" is not in the table, or out of its order\n", i, name);
            fail();
        }
        next++;
    }
    assert_true(compiled("reference"));
    assert_null(galann_backend_name(galann_backend_count()));

    /* a table entry left out of the build is known, not unknown */
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        if (compiled(table_names[i]))
            continue;
        char expected[128];
        snprintf(expected, sizeof expected, "backend \"%s\" is not built into this libgalann", table_names[i]);
        galann_context *c = NULL;
        expect_status(galann_context_new(table_names[i], &c), GALANN_ERR_UNAVAILABLE);
        expect_message(expected);
        expect_status(galann_backend_available(table_names[i]), GALANN_ERR_UNAVAILABLE);
        expect_message(expected);
    }
}

static void every_compiled_backend_is_found_under_the_name_its_ops_carry(void **state)
{
    (void)state;
    for (size_t i = 0; i < galann_backend_count(); i++) {
        const char *name = galann_backend_name(i);
        const galann_backend_ops *ops = NULL;
        expect_status(galann_registry_find(name, &ops), GALANN_OK);
        assert_non_null(ops);
        assert_string_equal(ops->name, name);
    }
}

/* ---------------------------------------------------------- the defaults */

static int fake_create(const galann_backend_config *cfg, void **state)
{
    (void)cfg;
    *state = NULL;
    return GALANN_OK;
}

static void fake_destroy(void *state)
{
    (void)state;
}

static int fake_evaluate(void *state, const galann_eval_request *req)
{
    (void)state;
    (void)req;
    return GALANN_OK;
}

static int probe_refusing(void)
{
    return galann_error_set(GALANN_ERR_UNAVAILABLE, "fake: not here");
}

/* Only the hooks every backend must have. */
static const galann_backend_ops bare = {
    .name = "bare",
    .create = fake_create,
    .destroy = fake_destroy,
    .evaluate = fake_evaluate,
};

static void hooks_left_null_get_their_defaults(void **state)
{
    (void)state;
    assert_int_equal(galann_ops_probe(&bare), GALANN_OK);
    /* a backend without has_device runs on the CPU when it probes well */
    assert_int_equal(galann_ops_has_device(&bare, GALANN_DEVICE_CPU), 1);
    assert_int_equal(galann_ops_has_device(&bare, GALANN_DEVICE_GPU), 0);
    assert_int_equal(galann_ops_has_device(&bare, GALANN_DEVICE_ACCELERATOR), 0);

    assert_int_equal(galann_ops_threaded(&bare), 0);
    assert_int_equal(galann_ops_set_threads(&bare, NULL, 1), GALANN_OK);
    expect_status(galann_ops_set_threads(&bare, NULL, 2), GALANN_ERR_INVALID);
    expect_message("backend \"bare\" is serial: it runs 1 thread, not 2");

    char text[256];
    assert_int_equal(galann_ops_describe(&bare, NULL, text, sizeof text), GALANN_OK);
    assert_string_equal(text, "bare");

    /* one device: the host CPU */
    size_t count = 0;
    assert_int_equal(galann_ops_device_count(&bare, &count), GALANN_OK);
    assert_int_equal(count, 1);
    galann_device d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    assert_int_equal(galann_ops_device_get(&bare, 0, &d), GALANN_OK);
    assert_int_equal(d.type, GALANN_DEVICE_CPU);
    assert_int_equal(d.fp64, 1);
    assert_true(d.name[0] != '\0');
    char line[256];
    snprintf(line, sizeof line, "0: %s (CPU, fp64)\n", d.name);
    assert_int_equal(galann_ops_list_devices(&bare, text, sizeof text), GALANN_OK);
    assert_string_equal(text, line);

    galann_profile p;
    memset(&p, 0, sizeof p);
    galann_ops_profile(&bare, NULL, &p);
    assert_int_equal(p.evaluations, 0);
    assert_true(p.upload_seconds == 0.0 && p.kernel_seconds == 0.0);

    assert_int_equal(galann_ops_has_single(&bare), 0);
    assert_int_equal(galann_ops_precision(&bare, NULL), GALANN_PRECISION_DOUBLE);

    assert_int_equal(galann_ops_keeps_datasets(&bare), 0);
    void *attachment = &count;
    assert_int_equal(galann_ops_prepare_dataset(&bare, NULL, NULL, &attachment), GALANN_OK);
    assert_null(attachment);
    galann_ops_release_dataset(&bare, NULL, NULL);  /* nothing to do, no crash */
}

static void has_device_without_a_hook_follows_probe_and_leaves_no_message(void **state)
{
    (void)state;
    galann_backend_ops refusing = bare;
    refusing.probe = probe_refusing;
    galann_error_clear();
    assert_int_equal(galann_ops_has_device(&refusing, GALANN_DEVICE_CPU), 0);
    assert_string_equal(galann_last_error(), "");
    /* the probe itself still says why */
    expect_status(galann_ops_probe(&refusing), GALANN_ERR_UNAVAILABLE);
    expect_message("fake: not here");
}

/* ------------------------------------------------------ best available */

/* Whether a backend lists a GPU with double precision (the public device
 * API: this loads the backend's runtime, which best available avoids). */
static int lists_fp64_gpu(const char *name)
{
    size_t count = 0;
    if (galann_backend_device_count(name, &count) != GALANN_OK)
        return 0;
    for (size_t i = 0; i < count; i++) {
        galann_device d;
        galann_device_init(&d);
        if (galann_backend_device(name, i, &d) == GALANN_OK && d.type == GALANN_DEVICE_GPU && d.fp64)
            return 1;
    }
    return 0;
}

static void best_available_is_the_first_with_a_gpu_else_the_first_with_a_cpu(void **state)
{
    (void)state;
    unsetenv("GALANN_BACKEND");
    const galann_backend_ops *best = galann_registry_best();
    assert_non_null(best);
    galann_context *c = NULL;
    expect_status(galann_context_new(NULL, &c), GALANN_OK);
    assert_string_equal(galann_context_backend(c), best->name);
    galann_context_free(c);

    /* the rule, from outside: the first backend in table order with a usable
     * GPU; else the first usable one that offers its CPU (opencl is offered
     * for GPUs only: a CPU OpenCL device is for testing) */
    const char *expected = NULL;
    for (size_t i = 0; i < galann_backend_count() && !expected; i++) {
        const char *name = galann_backend_name(i);
        if (galann_backend_available(name) == GALANN_OK && lists_fp64_gpu(name))
            expected = name;
    }
    for (size_t i = 0; i < galann_backend_count() && !expected; i++) {
        const char *name = galann_backend_name(i);
        if (strcmp(name, "opencl") != 0 && galann_backend_available(name) == GALANN_OK)
            expected = name;
    }
    assert_non_null(expected);
    printf("best available: %s\n", best->name);
    assert_string_equal(best->name, expected);
}

static void single_precision_refusal_names_the_backends_that_can(void **state)
{
    (void)state;
    char can[256] = "";
    for (size_t i = 0; i < galann_backend_count(); i++) {
        const galann_backend_ops *ops = NULL;
        assert_int_equal(galann_registry_find(galann_backend_name(i), &ops), GALANN_OK);
        if (galann_ops_has_single(ops))
            snprintf(can + strlen(can), sizeof can - strlen(can), "%s%s", can[0] ? " or " : "", ops->name);
    }
    char expected[512];
    if (can[0])
        snprintf(expected, sizeof expected, "backend \"reference\" computes in double precision only (single: %s)",
                 can);
    else
        snprintf(expected, sizeof expected, "backend \"reference\" computes in double precision only (no backend "
                 "of this build computes in single)");
    galann_context_options o;
    galann_context_options_init(&o);
    o.precision = GALANN_PRECISION_SINGLE;
    galann_context *c = NULL;
    expect_status(galann_context_new_ex("reference", &o, &c), GALANN_ERR_UNAVAILABLE);
    expect_message(expected);
    assert_null(strstr(can, "reference"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_backend_message_lists_the_table_in_its_order),
        cmocka_unit_test(compiled_backends_are_the_table_entries_in_table_order),
        cmocka_unit_test(every_compiled_backend_is_found_under_the_name_its_ops_carry),
        cmocka_unit_test(hooks_left_null_get_their_defaults),
        cmocka_unit_test(has_device_without_a_hook_follows_probe_and_leaves_no_message),
        cmocka_unit_test(best_available_is_the_first_with_a_gpu_else_the_first_with_a_cpu),
        cmocka_unit_test(single_precision_refusal_names_the_backends_that_can),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
