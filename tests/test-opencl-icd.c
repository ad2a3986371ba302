/*
 * test-opencl-icd.c -- "best available" decides from the OpenCL ICD
 * loader's configuration alone whether a GPU could be there, so that a
 * machine with only a CPU driver (PoCL) never loads it.
 *
 * Each test writes a vendors folder of .icd files and points the loader's
 * variables (OCL_ICD_VENDORS, OCL_ICD_FILENAMES, POCL_DEVICES) at it, then
 * asks the internal ocl_icd_may_have_gpu(). Nothing is loaded: the driver
 * names need not exist.
 *
 * Not here: the process state around a real context
 * (test-process-state.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "galann.h"
#include "support.h"

/* backends/opencl/host_guard.h */
int ocl_icd_may_have_gpu(void);

static char folder[64];

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(folder, sizeof folder, "/tmp/galann-icd-XXXXXX");
    if (!mkdtemp(folder))
        return -1;
    unsetenv("OCL_ICD_FILENAMES");
    unsetenv("OPENCL_VENDOR_PATH");
    unsetenv("POCL_DEVICES");
    setenv("OCL_ICD_VENDORS", folder, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    return system(command) == 0 ? 0 : -1;
}

static void empty_vendor_folder_has_no_gpu(void **state)
{
    (void)state;
    assert_int_equal(ocl_icd_may_have_gpu(), 0);
}

static void pocl_alone_has_no_gpu(void **state)
{
    (void)state;
    /* Debian's: a plain name, found beside the loader, with only the
     * basic and pthread device modules */
    write_file(folder, "pocl.icd", "libpocl.so.2.10.0\n");
    assert_int_equal(ocl_icd_may_have_gpu(), 0);
}

static void nvidia_driver_may_have_gpu(void **state)
{
    (void)state;
    write_file(folder, "pocl.icd", "libpocl.so.2.10.0\n");
    write_file(folder, "nvidia.icd", "libnvidia-opencl.so.1\n");
    assert_int_equal(ocl_icd_may_have_gpu(), 1);
}

static void files_not_named_icd_are_ignored(void **state)
{
    (void)state;
    write_file(folder, "pocl.icd", "libpocl.so.2.10.0\n");
    write_file(folder, "nvidia.icd.disabled", "libnvidia-opencl.so.1\n");
    assert_int_equal(ocl_icd_may_have_gpu(), 0);
}

static void pocl_devices_naming_a_gpu_driver_may_have_gpu(void **state)
{
    (void)state;
    write_file(folder, "pocl.icd", "libpocl.so.2.10.0\n");
    setenv("POCL_DEVICES", "pthread cuda", 1);
    assert_int_equal(ocl_icd_may_have_gpu(), 1);
    setenv("POCL_DEVICES", "pthread basic", 1);
    assert_int_equal(ocl_icd_may_have_gpu(), 0);
}

static void pocl_with_a_cuda_module_may_have_gpu(void **state)
{
    (void)state;
    char lib[128], modules[160], line[200];
    snprintf(lib, sizeof lib, "%s/lib", folder);
    snprintf(modules, sizeof modules, "%s/pocl", lib);
    assert_int_equal(mkdir(lib, 0700), 0);
    assert_int_equal(mkdir(modules, 0700), 0);
    write_file(modules, "libpocl-devices-pthread.so", "");
    snprintf(line, sizeof line, "%s/libpocl.so.2\n", lib);
    write_file(folder, "pocl.icd", line);
    assert_int_equal(ocl_icd_may_have_gpu(), 0);
    write_file(modules, "libpocl-devices-cuda.so", "");
    assert_int_equal(ocl_icd_may_have_gpu(), 1);
}

static void icd_filenames_are_read_too(void **state)
{
    (void)state;
    setenv("OCL_ICD_FILENAMES", "/usr/lib/x86_64-linux-gnu/libpocl.so.2:/opt/rocm/lib/libamdocl64.so", 1);
    assert_int_equal(ocl_icd_may_have_gpu(), 1);
    setenv("OCL_ICD_FILENAMES", "/usr/lib/x86_64-linux-gnu/libpocl.so.2", 1);
    assert_int_equal(ocl_icd_may_have_gpu(), 0);
}

static void vendors_variable_may_name_a_file_or_a_driver(void **state)
{
    (void)state;
    char path[512];
    write_file(folder, "pocl.icd", "libpocl.so.2.10.0\n");
    write_file(folder, "nvidia.icd", "libnvidia-opencl.so.1\n");
    snprintf(path, sizeof path, "%s/pocl.icd", folder);
    setenv("OCL_ICD_VENDORS", path, 1);
    assert_int_equal(ocl_icd_may_have_gpu(), 0);
    /* no slash: first looked up in the vendors folder */
    setenv("OPENCL_VENDOR_PATH", folder, 1);
    setenv("OCL_ICD_VENDORS", "nvidia.icd", 1);
    assert_int_equal(ocl_icd_may_have_gpu(), 1);
    setenv("OCL_ICD_VENDORS", "libnvidia-opencl.so.1", 1);
    assert_int_equal(ocl_icd_may_have_gpu(), 1);
}

static void best_available_is_not_opencl_without_a_gpu_driver(void **state)
{
    (void)state;
    write_file(folder, "pocl.icd", "libpocl.so.2.10.0\n");
    unsetenv("GALANN_BACKEND");
    galann_context *c = NULL;
    expect_status(galann_context_new(NULL, &c), GALANN_OK);
    assert_string_not_equal(galann_context_backend(c), "opencl");
    galann_context_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(empty_vendor_folder_has_no_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(pocl_alone_has_no_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(nvidia_driver_may_have_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(files_not_named_icd_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(pocl_devices_naming_a_gpu_driver_may_have_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(pocl_with_a_cuda_module_may_have_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(icd_filenames_are_read_too, setup, teardown),
        cmocka_unit_test_setup_teardown(vendors_variable_may_name_a_file_or_a_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(best_available_is_not_opencl_without_a_gpu_driver, setup, teardown),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
