/* mlp_dataset_load_idx_limit: a gzip bomb (50 MB of zeros in about 50 KB,
 * its header declaring them) is refused under a 10 MB bound before the
 * library allocates anything, a stream longer than its header stops at the
 * first extra byte, and files within the bound load.
 * mlp_dataset_load_csv_limit: a file longer than the bound is refused as
 * it arrives, a shape whose data set would pass it before that set is
 * allocated, and files within it load. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "internal.h"
#include "tmpdir.h"

#define MB ((size_t)1 << 20)

/* A gzip IDX file in the test folder: magic 0 0 8 ndim, big-endian dims, then
 * `payload` bytes of value `fill` (which may differ from what dims say). */
static const char *write_idx_gz(const char *name, const uint32_t *dims, int ndim, size_t payload,
                                unsigned char fill)
{
    const char *path = tmpdir_path(name);
    unsigned char head[16] = {0, 0, 8, (unsigned char)ndim};
    unsigned char *chunk = malloc(MB);
    gzFile gz;
    int i;
    assert_non_null(chunk);
    memset(chunk, fill, MB);
    for (i = 0; i < ndim; i++) {
        head[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        head[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        head[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        head[7 + 4 * i] = (unsigned char)dims[i];
    }
    gz = gzopen(path, "wb9");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, head, 4 + 4 * (unsigned)ndim), 4 + 4 * ndim);
    while (payload > 0) {
        unsigned n = (unsigned)(payload < MB ? payload : MB);
        assert_int_equal(gzwrite(gz, chunk, n), (int)n);
        payload -= n;
    }
    assert_int_equal(gzclose(gz), Z_OK);
    free(chunk);
    return path;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    fclose(f);
    return n;
}

static void test_bomb_refused(void **state)
{
    const uint32_t dims[3] = {51200, 32, 32}; /* 50 MB of pixels */
    mlp_dataset *sentinel = (mlp_dataset *)&state, *ds = sentinel;
    const char *img = write_idx_gz("bomb.gz", dims, 3, (size_t)51200 * 1024, 0);
    const char *lab = write_idx_gz("bomb_lab.gz", dims, 1, 51200, 0);
    long live = mlp__alloc_live();

    assert_true(file_size(img) < 200 * 1024);
    mlp__alloc_reset_count();
    assert_int_equal(mlp_dataset_load_idx_limit(&ds, img, lab, 10 * MB), MLP_ERR_TOO_LARGE);
    assert_int_equal(mlp__alloc_count(), 0); /* refused from the headers alone */
    assert_int_equal(mlp__alloc_live(), live);
    assert_ptr_equal(ds, sentinel);
    assert_non_null(strstr(mlp_last_error(), "limit"));
    assert_int_equal(mlp_dataset_load_idx_limit(&ds, img, NULL, 10 * MB), MLP_ERR_TOO_LARGE);
    assert_ptr_equal(ds, sentinel);
}

/* A header declaring 1 MB over a stream of 50 MB: reading stops at the
 * first byte past the declared size. */
static void test_stream_longer_than_header(void **state)
{
    const uint32_t dims[3] = {1024, 32, 32};
    mlp_dataset *ds = NULL;
    const char *img = write_idx_gz("long.gz", dims, 3, 50 * MB, 7);
    long live = mlp__alloc_live();
    assert_int_equal(mlp_dataset_load_idx_limit(&ds, img, NULL, 10 * MB), MLP_ERR_FORMAT);
    assert_null(ds);
    assert_non_null(strstr(mlp_last_error(), "trailing"));
    assert_int_equal(mlp__alloc_live(), live);
}

static void test_within_limit_loads(void **state)
{
    const uint32_t dims[3] = {1024, 32, 32}; /* 1 MB: about 5 MB to load */
    mlp_dataset *ds = NULL;
    const char *img = write_idx_gz("ok.gz", dims, 3, MB, 9);
    const char *lab = write_idx_gz("ok_lab.gz", dims, 1, 1024, 3);
    assert_int_equal(mlp_dataset_load_idx_limit(&ds, img, lab, 10 * MB), MLP_OK);
    assert_int_equal(mlp_dataset_rows(ds), 1024);
    assert_int_equal(mlp_dataset_cols(ds), 1024);
    assert_true(mlp_dataset_features(ds)[1024 * 1024 - 1] == 9.0f);
    assert_int_equal(mlp_dataset_classes(ds)[1023], 3);
    mlp_dataset_destroy(ds);
    /* The bound counts 5 bytes per byte: 1 MB of pixels needs more than 5 MB. */
    ds = NULL;
    assert_int_equal(mlp_dataset_load_idx_limit(&ds, img, NULL, 5 * MB), MLP_ERR_TOO_LARGE);
    assert_null(ds);
    assert_int_equal(mlp_dataset_load_idx_limit(&ds, img, NULL, 6 * MB), MLP_OK);
    mlp_dataset_destroy(ds);
    /* SIZE_MAX is no bound, as mlp_dataset_load_idx. */
    assert_int_equal(mlp_dataset_load_idx_limit(&ds, img, lab, SIZE_MAX), MLP_OK);
    mlp_dataset_destroy(ds);
}

static const char *write_csv(const char *name, const char *line, size_t times)
{
    const char *p = tmpdir_path(name);
    FILE *f = fopen(p, "w");
    size_t i;
    assert_non_null(f);
    for (i = 0; i < times; i++) fputs(line, f);
    assert_int_equal(fclose(f), 0);
    return p;
}

static void test_csv_limit(void **state)
{
    mlp_dataset *ds = NULL;
    const char *p = write_csv("long.csv", "1.25,2.5,3.75,1\n", 65536); /* 1 MB */
    long live = mlp__alloc_live();

    /* longer than the bound: refused while it is read */
    assert_int_equal(mlp_dataset_load_csv_limit(&ds, p, 0, -1, 1, 512 * 1024), MLP_ERR_TOO_LARGE);
    assert_null(ds);
    assert_non_null(strstr(mlp_last_error(), "limit"));
    assert_int_equal(mlp__alloc_live(), live);
    /* the text fits, its data set (65536 x 4 floats and labels: 1.3 MB) does not */
    assert_int_equal(mlp_dataset_load_csv_limit(&ds, p, 0, -1, 1, 2 * MB), MLP_ERR_TOO_LARGE);
    assert_null(ds);
    assert_int_equal(mlp__alloc_live(), live);
    assert_int_equal(mlp_dataset_load_csv_limit(&ds, p, 0, -1, 1, 4 * MB), MLP_OK);
    assert_int_equal(mlp_dataset_rows(ds), 65536);
    assert_true(mlp_dataset_features(ds)[3 * 65535 + 2] == 3.75f);
    mlp_dataset_destroy(ds);
    ds = NULL;
    /* empty fields: 1 byte of text per column, 4 bytes of data set each */
    p = write_csv("wide.csv", ",,,,,,,,,,,,,,,\n", 32768);
    assert_int_equal(mlp_dataset_load_csv_limit(&ds, p, 0, -1, 1, 2 * MB), MLP_ERR_TOO_LARGE);
    assert_null(ds);
    /* a file of exactly the first buffer's size (a quarter of an 80 KB
     * bound) needs no second one: with it, the data set (320 x 32 numbers,
     * 41 KB) would no longer fit */
    p = write_csv("exact.csv", "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n",
                  320); /* 64 bytes a line */
    assert_int_equal(mlp_dataset_load_csv_limit(&ds, p, 0, -1, 1, 80 * 1024), MLP_OK);
    assert_int_equal(mlp_dataset_rows(ds), 320);
    mlp_dataset_destroy(ds);
    ds = NULL;
    assert_int_equal(mlp_dataset_load_csv_limit(&ds, p, 0, -1, 1, SIZE_MAX), MLP_OK);
    mlp_dataset_destroy(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bomb_refused),
        cmocka_unit_test(test_stream_longer_than_header),
        cmocka_unit_test(test_within_limit_loads),
        cmocka_unit_test(test_csv_limit),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
