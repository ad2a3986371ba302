/*
 * test-devices.c -- galann_backend_device_count and galann_backend_device
 * on every compiled backend: sane fields, the same devices as the text of
 * galann_backend_devices, the host CPU for reference and blas, and the
 * report rule (struct_size 0 refused, a shorter struct never written past
 * its end, a longer one filled as far as the library's reaches).
 *
 * Linked against the shared library: these are exported functions.
 * Not here: which backend "best available" picks (test-registry.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

static int is_cpu_backend(const char *name)
{
    return strcmp(name, "reference") == 0 || strcmp(name, "blas") == 0;
}

/* What /proc/cpuinfo calls the CPU, as the library should read it. */
static void expected_cpu_name(char *name, size_t size)
{
    snprintf(name, size, "host CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0 || !strchr(line, ':'))
            continue;
        char *v = strchr(line, ':') + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strcspn(v, "\n");
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue;
        snprintf(name, size, "%.*s", (int)n, v);
        break;
    }
    fclose(f);
}

static void reference_has_one_device_the_host_cpu(void **state)
{
    (void)state;
    size_t count = 0;
    expect_status(galann_backend_device_count("reference", &count), GALANN_OK);
    assert_int_equal(count, 1);

    galann_device d;
    galann_device_init(&d);
    assert_int_equal(d.struct_size, sizeof d);
    expect_status(galann_backend_device("reference", 0, &d), GALANN_OK);
    assert_int_equal(d.struct_size, sizeof d);
    char name[128];
    expected_cpu_name(name, sizeof name);
    assert_string_equal(d.name, name);
    assert_int_equal(d.type, GALANN_DEVICE_CPU);
    assert_int_equal(d.fp64, 1);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        assert_true(d.memory_bytes == (uint64_t)pages * (uint64_t)page);
    printf("reference: %s, %.1f GiB\n", d.name, (double)d.memory_bytes / 1073741824.0);

    /* the text form lists the same device */
    char text[512], line[256];
    expect_status(galann_backend_devices("reference", text, sizeof text), GALANN_OK);
    snprintf(line, sizeof line, "0: %s (CPU, fp64)\n", d.name);
    assert_string_equal(text, line);
}

static void every_compiled_backend_describes_its_devices(void **state)
{
    (void)state;
    for (size_t b = 0; b < galann_backend_count(); b++) {
        const char *name = galann_backend_name(b);
        size_t count = 99;
        int status = galann_backend_device_count(name, &count);
        if (status == GALANN_ERR_UNAVAILABLE && !is_cpu_backend(name)) {
            /* opencl without a platform or device: said so, nothing counted */
            printf("%s: %s\n", name, galann_last_error());
            assert_int_equal(count, 0);
            continue;
        }
        expect_status(status, GALANN_OK);
        assert_true(count >= 1);
        if (is_cpu_backend(name))
            assert_int_equal(count, 1);
        char text[8192];
        expect_status(galann_backend_devices(name, text, sizeof text), GALANN_OK);
        const char *line = text;
        for (size_t i = 0; i < count; i++) {
            galann_device d;
            galann_device_init(&d);
            expect_status(galann_backend_device(name, i, &d), GALANN_OK);
            printf("%s %zu: %s (type %d, fp64 %d, %llu bytes)\n", name, i, d.name, d.type, d.fp64,
                   (unsigned long long)d.memory_bytes);
            assert_int_equal(d.struct_size, sizeof d);
            assert_true(memchr(d.name, '\0', sizeof d.name) != NULL);
            assert_true(strlen(d.name) > 0);
            assert_true(d.type >= GALANN_DEVICE_CPU && d.type <= GALANN_DEVICE_OTHER);
            assert_true(d.fp64 == 0 || d.fp64 == 1);
            if (is_cpu_backend(name)) {
                assert_int_equal(d.type, GALANN_DEVICE_CPU);
                assert_int_equal(d.fp64, 1);
                assert_true(d.memory_bytes > 0);
            }
            /* line i of the text is device i, under the same name */
            char prefix[32];
            snprintf(prefix, sizeof prefix, "%zu: ", i);
            const char *end = strchr(line, '\n');
            assert_non_null(end);
            char this_line[1024];
            snprintf(this_line, sizeof this_line, "%.*s", (int)(end - line), line);
            if (strncmp(this_line, prefix, strlen(prefix)) != 0 || !strstr(this_line, d.name) ||
                (strstr(this_line, ", fp64)") != NULL) != (d.fp64 == 1)) {
                print_error("line \"%s\" is not device %zu, \"%s\" (fp64 %d)\n", this_line, i, d.name, d.fp64);
                fail();
            }
            line = end + 1;
        }
        assert_int_equal(*line, '\0');  /* no more lines than devices */

        /* one past the last is refused, naming the range */
        galann_device d;
        galann_device_init(&d);
        expect_status(galann_backend_device(name, count, &d), GALANN_ERR_INVALID);
        char expected[256];
        snprintf(expected, sizeof expected, "galann_backend_device: backend \"%s\" has %zu device%s (0..%zu), not %zu",
                 name, count, count == 1 ? "" : "s", count - 1, count);
        assert_string_equal(galann_last_error(), expected);
    }
}

static void struct_size_zero_or_short_of_a_size_word_is_refused_untouched(void **state)
{
    (void)state;
    galann_device d, before;
    memset(&d, 0xab, sizeof d);
    d.struct_size = 0;
    memcpy(&before, &d, sizeof d);
    expect_status(galann_backend_device("reference", 0, &d), GALANN_ERR_INVALID);
    assert_non_null(strstr(galann_last_error(), "struct_size 0"));
    assert_memory_equal(&d, &before, sizeof d);

    d.struct_size = sizeof(size_t) - 1;
    memcpy(&before, &d, sizeof d);
    expect_status(galann_backend_device("reference", 0, &d), GALANN_ERR_INVALID);
    assert_memory_equal(&d, &before, sizeof d);
}

/* An older caller's struct: only struct_size and the name, then bytes
 * that are not the library's to write. */
typedef struct older_device {
    size_t struct_size;
    char name[128];
    unsigned char beyond[64];
} older_device;

static void a_shorter_struct_is_not_written_past_its_end(void **state)
{
    (void)state;
    galann_device full;
    galann_device_init(&full);
    expect_status(galann_backend_device("reference", 0, &full), GALANN_OK);

    older_device old;
    memset(&old, 0x5a, sizeof old);
    old.struct_size = offsetof(galann_device, type);
    expect_status(galann_backend_device("reference", 0, (galann_device *)&old), GALANN_OK);
    assert_int_equal(old.struct_size, offsetof(galann_device, type));
    assert_string_equal(old.name, full.name);
    for (size_t i = 0; i < sizeof old.beyond; i++)
        assert_int_equal(old.beyond[i], 0x5a);

    /* even a cut through the name: exactly struct_size bytes */
    unsigned char bytes[sizeof(galann_device) + 16];
    size_t cut = sizeof(size_t) + 5;
    memset(bytes, 0x5a, sizeof bytes);
    memcpy(bytes, &cut, sizeof cut);
    expect_status(galann_backend_device("reference", 0, (galann_device *)(void *)bytes), GALANN_OK);
    size_t written;
    memcpy(&written, bytes, sizeof written);
    assert_int_equal(written, cut);
    assert_memory_equal(bytes + sizeof cut, full.name, 5);
    for (size_t i = cut; i < sizeof bytes; i++)
        assert_int_equal(bytes[i], 0x5a);

    /* galann_device_init_size zeroes no further than told */
    memset(bytes, 0x5a, sizeof bytes);
    galann_device_init_size((galann_device *)(void *)bytes, cut);
    memcpy(&written, bytes, sizeof written);
    assert_int_equal(written, cut);
    for (size_t i = sizeof cut; i < cut; i++)
        assert_int_equal(bytes[i], 0);
    for (size_t i = cut; i < sizeof bytes; i++)
        assert_int_equal(bytes[i], 0x5a);
}

/* A newer caller's struct, longer than the library's: filled as far as the
 * library's reaches, and struct_size says so. */
static void a_longer_struct_gets_what_the_library_has(void **state)
{
    (void)state;
    struct {
        galann_device device;
        unsigned char later_fields[32];
    } newer;
    memset(&newer, 0x5a, sizeof newer);
    newer.device.struct_size = sizeof newer;
    expect_status(galann_backend_device("reference", 0, &newer.device), GALANN_OK);
    assert_int_equal(newer.device.struct_size, sizeof(galann_device));
    assert_int_equal(newer.device.type, GALANN_DEVICE_CPU);
    for (size_t i = 0; i < sizeof newer.later_fields; i++)
        assert_int_equal(newer.later_fields[i], 0x5a);
}

static void null_arguments_and_unknown_names_are_invalid(void **state)
{
    (void)state;
    size_t count = 5;
    galann_device d;
    galann_device_init(&d);
    expect_status(galann_backend_device_count(NULL, &count), GALANN_ERR_INVALID);
    expect_status(galann_backend_device_count("reference", NULL), GALANN_ERR_INVALID);
    expect_status(galann_backend_device_count("no-such-backend", &count), GALANN_ERR_INVALID);
    assert_int_equal(count, 0);
    expect_status(galann_backend_device(NULL, 0, &d), GALANN_ERR_INVALID);
    expect_status(galann_backend_device("reference", 0, NULL), GALANN_ERR_INVALID);
    expect_status(galann_backend_device("no-such-backend", 0, &d), GALANN_ERR_INVALID);
    expect_status(galann_backend_device("reference", SIZE_MAX, &d), GALANN_ERR_INVALID);
    assert_int_equal(d.struct_size, sizeof d);  /* nothing written on failure */
    galann_device_init_size(NULL, sizeof d);  /* ignored */
    galann_device_init_size(&d, 0);           /* ignored */
    assert_int_equal(d.struct_size, sizeof d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_has_one_device_the_host_cpu),
        cmocka_unit_test(every_compiled_backend_describes_its_devices),
        cmocka_unit_test(struct_size_zero_or_short_of_a_size_word_is_refused_untouched),
        cmocka_unit_test(a_shorter_struct_is_not_written_past_its_end),
        cmocka_unit_test(a_longer_struct_gets_what_the_library_has),
        cmocka_unit_test(null_arguments_and_unknown_names_are_invalid),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
