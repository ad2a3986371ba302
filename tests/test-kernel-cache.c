/*
 * test-kernel-cache.c -- the OpenCL kernel cache trusts only what this
 * user wrote: its folder is made 0700 with a 0600 secret in it, and a
 * cache file of another user, writable by others, reached through a link,
 * or tagged with another folder's secret is not loaded but rebuilt and
 * replaced; a folder writable by others is not used at all.
 *
 * Whether a context loaded a file or rebuilt it shows in the file's inode:
 * a rebuilt binary is written to a new file renamed over the old one.
 * Every test skips when no OpenCL device is usable (a failure with
 * -Drequire_opencl=true).
 *
 * Not here: the numbers computed with cached kernels (test-opencl.c).
 */
#include <dirent.h>
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

#define KEY_FILE "galann-cache.key"

typedef struct cache_test {
    char root[64];      /* a fresh folder for the test */
    char dir[128];      /* the cache folder, made by the library */
    char binary[512];   /* the one opencl-*.bin in it */
} cache_test;

static int setup(void **state)
{
    cache_test *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->root, sizeof t->root, "/tmp/galann-kcache-XXXXXX");
    if (!mkdtemp(t->root))
        return -1;
    snprintf(t->dir, sizeof t->dir, "%s/made/cache", t->root);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    cache_test *t = *state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", t->root);
    int rc = system(command);
    free(t);
    return rc == 0 ? 0 : -1;
}

/* A context on opencl with this cache folder, created and freed (that
 * builds or loads the kernels); 0 when there is no usable device. */
static int make_context(const char *dir)
{
    galann_context_options o;
    galann_context_options_init(&o);
    o.cache_dir = dir;
    galann_context *c = NULL;
    int status = galann_context_new_ex("opencl", &o, &c);
    if (status == GALANN_ERR_UNAVAILABLE) {
        skip_without_opencl_device("%s", galann_last_error());
        return 0;
    }
    expect_status(status, GALANN_OK);
    galann_context_free(c);
    return 1;
}

/* Files named opencl-*.bin in dir; the path of the last in binary. */
static int count_binaries(const char *dir, char *binary, size_t size)
{
    int count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "opencl-", 7) == 0 && len > 4 && strcmp(e->d_name + len - 4, ".bin") == 0) {
            count++;
            if (binary)
                snprintf(binary, size, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    return count;
}

static struct stat stat_of(const char *path)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    assert_int_equal(lstat(path, &st), 0);
    return st;
}

/* A first context fills the cache: one binary. */
static int fill(cache_test *t)
{
    if (!make_context(t->dir))
        return 0;
    assert_int_equal(count_binaries(t->dir, t->binary, sizeof t->binary), 1);
    return 1;
}

/* After one more context: was the binary loaded (same file) or rebuilt
 * (a new file in its place, this user's, 0600)? */
static int rebuilt_by_next_context(cache_test *t)
{
    struct stat before = stat_of(t->binary);
    assert_true(make_context(t->dir));
    struct stat after = stat_of(t->binary);
    assert_true(S_ISREG(after.st_mode));
    if (after.st_ino == before.st_ino)
        return 0;
    assert_int_equal(after.st_uid, geteuid());
    assert_int_equal(after.st_mode & 0777, 0600);
    return 1;
}

static void folder_is_made_private_with_a_secret_and_reused(void **state)
{
    cache_test *t = *state;
    if (!fill(t))
        return;
    struct stat dir = stat_of(t->dir);
    assert_int_equal(dir.st_mode & 0777, 0700);
    char key[256];
    snprintf(key, sizeof key, "%s/" KEY_FILE, t->dir);
    struct stat secret = stat_of(key);
    assert_int_equal(secret.st_mode & 0777, 0600);
    assert_int_equal(secret.st_size, 16);
    assert_int_equal(stat_of(t->binary).st_mode & 0777, 0600);
    /* this user's own file, untouched: loaded, not rebuilt */
    assert_false(rebuilt_by_next_context(t));
}

static void file_writable_by_others_is_rebuilt(void **state)
{
    cache_test *t = *state;
    if (!fill(t))
        return;
    assert_int_equal(chmod(t->binary, 0666), 0);
    assert_true(rebuilt_by_next_context(t));
    assert_int_equal(chmod(t->binary, 0620), 0);
    assert_true(rebuilt_by_next_context(t));
}

static void file_of_another_user_is_rebuilt(void **state)
{
    cache_test *t = *state;
    if (geteuid() != 0) {
        skip_test("giving a file to another user needs root");
        return;
    }
    if (!fill(t))
        return;
    assert_int_equal(chown(t->binary, 4242, 4242), 0);
    assert_true(rebuilt_by_next_context(t));
}

static void file_reached_through_a_link_is_rebuilt(void **state)
{
    cache_test *t = *state;
    if (!fill(t))
        return;
    char elsewhere[256];
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere.bin", t->root);
    assert_int_equal(rename(t->binary, elsewhere), 0);
    assert_int_equal(symlink(elsewhere, t->binary), 0);
    assert_true(rebuilt_by_next_context(t));
}

/* A valid cache file, but written under another folder's secret (as a
 * file someone else made and copied in would be): rebuilt. */
static void file_tagged_with_another_secret_is_rebuilt(void **state)
{
    cache_test *t = *state;
    char other[128], other_binary[512];
    snprintf(other, sizeof other, "%s/other", t->root);
    if (!make_context(other))
        return;
    assert_int_equal(count_binaries(other, other_binary, sizeof other_binary), 1);
    if (!fill(t))
        return;
    /* the same device and kernels: the same file name in both folders */
    assert_string_equal(strrchr(other_binary, '/'), strrchr(t->binary, '/'));
    char command[1200];
    snprintf(command, sizeof command, "cp '%s' '%s'", other_binary, t->binary);
    assert_int_equal(system(command), 0);
    assert_true(rebuilt_by_next_context(t));
    /* and this folder's own file is loaded again afterwards */
    assert_false(rebuilt_by_next_context(t));
}

static void secret_readable_by_others_is_replaced(void **state)
{
    cache_test *t = *state;
    if (!fill(t))
        return;
    char key[256];
    snprintf(key, sizeof key, "%s/" KEY_FILE, t->dir);
    struct stat before = stat_of(key);
    assert_int_equal(chmod(key, 0644), 0);
    /* a new secret: every file tagged with the old one is rebuilt */
    assert_true(rebuilt_by_next_context(t));
    struct stat after = stat_of(key);
    assert_true(after.st_ino != before.st_ino);
    assert_int_equal(after.st_mode & 0777, 0600);
}

static void folder_writable_by_others_is_not_used(void **state)
{
    cache_test *t = *state;
    char open_dir[128];
    snprintf(open_dir, sizeof open_dir, "%s/open", t->root);
    assert_int_equal(mkdir(open_dir, 0700), 0);
    assert_int_equal(chmod(open_dir, 0777), 0);
    if (!make_context(open_dir))
        return;
    char key[256];
    snprintf(key, sizeof key, "%s/" KEY_FILE, open_dir);
    assert_int_equal(count_binaries(open_dir, NULL, 0), 0);
    assert_int_equal(access(key, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(folder_is_made_private_with_a_secret_and_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(file_writable_by_others_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(file_of_another_user_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(file_reached_through_a_link_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(file_tagged_with_another_secret_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_readable_by_others_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(folder_writable_by_others_is_not_used, setup, teardown),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
