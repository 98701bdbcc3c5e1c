/* Data sets: the IDX and CSV readers on valid and malformed files, the CSV
 * reader under a German numeric locale, fitting the input scaling, and the
 * readers under failing allocations. */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <math.h>
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

/* ---- temporary files (tmpdir.h) ------------------------------------ */

static const char *write_file(const char *name, const void *data, size_t len)
{
    return tmpdir_write(name, data, len, 0);
}

static const char *write_gz(const char *name, const void *data, size_t len)
{
    return tmpdir_write(name, data, len, 1);
}

static const char *write_text(const char *name, const char *text)
{
    return tmpdir_write(name, text, strlen(text), 0);
}

/* ---- IDX images and labels ------------------------------------------ */

/* An IDX header: magic 0x0000 08 ndim, then big-endian dims. */
static size_t idx_header(unsigned char *p, unsigned ndim, const uint32_t *dims)
{
    unsigned i;
    p[0] = 0;
    p[1] = 0;
    p[2] = 0x08;
    p[3] = (unsigned char)ndim;
    for (i = 0; i < ndim; i++) {
        p[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        p[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        p[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        p[7 + 4 * i] = (unsigned char)dims[i];
    }
    return 4 + 4 * ndim;
}

/* 3 images of 2 x 2 pixels: pixel j of image i is 10 * i + j, or 255. */
static size_t make_images(unsigned char *buf, uint32_t count)
{
    uint32_t dims[3] = {count, 2, 2};
    size_t n = idx_header(buf, 3, dims), i;
    for (i = 0; i < 4 * count; i++) buf[n + i] = (unsigned char)(i == 5 ? 255 : 10 * (i / 4) + i % 4);
    return n + 4 * count;
}

static size_t make_labels(unsigned char *buf, uint32_t count)
{
    size_t n = idx_header(buf, 1, &count), i;
    for (i = 0; i < count; i++) buf[n + i] = (unsigned char)(i * 4 % 7); /* 0, 4, 1, ... */
    return n + count;
}

static void check_images(const mlp_dataset *ds, int with_labels)
{
    size_t i;
    assert_int_equal(mlp_dataset_rows(ds), 3);
    assert_int_equal(mlp_dataset_cols(ds), 4);
    for (i = 0; i < 12; i++)
        assert_true(mlp_dataset_features(ds)[i] == (i == 5 ? 255.0f : (float)(10 * (i / 4) + i % 4)));
    assert_null(mlp_dataset_values(ds));
    assert_int_equal(mlp_dataset_target_cols(ds), 0);
    if (with_labels) {
        const int32_t *y = mlp_dataset_classes(ds);
        assert_non_null(y);
        assert_int_equal(y[0], 0);
        assert_int_equal(y[1], 4);
        assert_int_equal(y[2], 1);
        assert_int_equal(mlp_dataset_num_classes(ds), 5);
    } else {
        assert_null(mlp_dataset_classes(ds));
        assert_int_equal(mlp_dataset_num_classes(ds), 0);
    }
}

static void test_idx_valid_raw_and_gz(void **state)
{
    unsigned char img[64], lab[32];
    size_t ni = make_images(img, 3), nl = make_labels(lab, 3);
    mlp_dataset *ds = NULL;
    char raw_i[600], raw_l[600];

    snprintf(raw_i, sizeof raw_i, "%s", write_file("img.idx", img, ni));
    snprintf(raw_l, sizeof raw_l, "%s", write_file("lab.idx", lab, nl));
    assert_int_equal(mlp_dataset_load_idx(&ds, raw_i, raw_l), MLP_OK);
    check_images(ds, 1);
    mlp_dataset_destroy(ds);

    ds = NULL;
    assert_int_equal(mlp_dataset_load_idx(&ds, write_gz("img.gz", img, ni),
                                          write_gz("lab.gz", lab, nl)), MLP_OK);
    check_images(ds, 1);
    mlp_dataset_destroy(ds);

    ds = NULL;
    assert_int_equal(mlp_dataset_load_idx(&ds, raw_i, NULL), MLP_OK);
    check_images(ds, 0);
    mlp_dataset_destroy(ds);
    mlp_dataset_destroy(NULL);
}

/* Expects status, nothing written to out, and a message containing what. */
static void expect_idx_fail(const char *images, const char *labels, mlp_status status,
                            const char *what)
{
    mlp_dataset *ds = (mlp_dataset *)(uintptr_t)0x1;
    mlp_status st = mlp_dataset_load_idx(&ds, images, labels);
    if (st != status || strstr(mlp_last_error(), what) == NULL)
        fail_msg("expected %s with '%s', got %s: %s", mlp_status_name(status), what,
                 mlp_status_name(st), mlp_last_error());
    assert_ptr_equal(ds, (mlp_dataset *)(uintptr_t)0x1);
}

static void test_idx_malformed(void **state)
{
    unsigned char img[64], lab[32], big[64];
    size_t ni = make_images(img, 3), nl = make_labels(lab, 3), n;
    char good_i[600], good_l[600];
    uint32_t dims[3];

    snprintf(good_i, sizeof good_i, "%s", write_file("good_img", img, ni));
    snprintf(good_l, sizeof good_l, "%s", write_file("good_lab", lab, nl));

    /* Wrong magic: labels given as images and the other way round, a bad
     * element type, a bad first byte. */
    expect_idx_fail(good_l, NULL, MLP_ERR_FORMAT, "magic");
    expect_idx_fail(good_i, good_i, MLP_ERR_FORMAT, "magic");
    memcpy(big, img, ni);
    big[2] = 0x0D; /* float elements */
    expect_idx_fail(write_file("type", big, ni), NULL, MLP_ERR_FORMAT, "magic");
    memcpy(big, img, ni);
    big[0] = 1;
    expect_idx_fail(write_file("first", big, ni), NULL, MLP_ERR_FORMAT, "magic");
    expect_idx_fail(write_text("text", "hello, world\n"), NULL, MLP_ERR_FORMAT, "magic");

    /* Truncated: in the magic, in the dimensions, in the pixels, in the
     * labels, and a gzip stream cut short. */
    expect_idx_fail(write_file("t0", img, 0), NULL, MLP_ERR_FORMAT, "truncated");
    expect_idx_fail(write_file("t2", img, 2), NULL, MLP_ERR_FORMAT, "truncated");
    expect_idx_fail(write_file("t9", img, 9), NULL, MLP_ERR_FORMAT, "truncated");
    expect_idx_fail(write_file("tpix", img, ni - 1), good_l, MLP_ERR_FORMAT, "truncated");
    expect_idx_fail(good_i, write_file("tlab", lab, nl - 1), MLP_ERR_FORMAT, "truncated");
    {
        FILE *f;
        unsigned char gz[256];
        size_t gn;
        const char *p = write_gz("cut.gz", img, ni);
        f = fopen(p, "rb");
        assert_non_null(f);
        gn = fread(gz, 1, sizeof gz, f);
        fclose(f);
        assert_true(gn > 12);
        expect_idx_fail(write_file("cut.gz", gz, gn - 10), NULL, MLP_ERR_FORMAT, "");
    }

    /* Counts that do not match. */
    n = make_labels(lab, 2);
    expect_idx_fail(good_i, write_file("lab2", lab, n), MLP_ERR_FORMAT, "2 labels");
    n = make_labels(lab, 4);
    expect_idx_fail(good_i, write_file("lab4", lab, n), MLP_ERR_FORMAT, "4 labels");

    /* Dimensions whose product overflows, and a huge count with no data
     * behind it (found truncated, not allocated). */
    dims[0] = dims[1] = dims[2] = 0xFFFFFFFFu;
    n = idx_header(big, 3, dims);
    expect_idx_fail(write_file("huge", big, n), NULL, MLP_ERR_SIZE, "");
    dims[0] = 0x7FFFFFFFu;
    dims[1] = 0x10000u;
    dims[2] = 0x10000u;
    n = idx_header(big, 3, dims);
    expect_idx_fail(write_file("over", big, n), NULL, MLP_ERR_SIZE, "");
    dims[0] = 2000000000u;
    dims[1] = 28;
    dims[2] = 28;
    n = idx_header(big, 3, dims);
    memset(big + n, 7, 20);
    expect_idx_fail(write_file("claims", big, n + 20), NULL, MLP_ERR_FORMAT, "truncated");

    /* A zero dimension; bytes after the data. */
    dims[0] = 3;
    dims[1] = 0;
    dims[2] = 2;
    n = idx_header(big, 3, dims);
    expect_idx_fail(write_file("zero", big, n), NULL, MLP_ERR_FORMAT, "zero");
    memcpy(big, img, ni);
    big[ni] = 1;
    expect_idx_fail(write_file("trail", big, ni + 1), NULL, MLP_ERR_FORMAT, "trailing");

    /* Files that are not there, and NULL arguments. */
    expect_idx_fail(tmpdir_path("missing"), NULL, MLP_ERR_IO, "missing");
    expect_idx_fail(good_i, tmpdir_path("missing_labels"), MLP_ERR_IO, "missing_labels");
    assert_int_equal(mlp_dataset_load_idx(NULL, good_i, NULL), MLP_ERR_NULL);
    {
        mlp_dataset *ds = NULL;
        assert_int_equal(mlp_dataset_load_idx(&ds, NULL, NULL), MLP_ERR_NULL);
        assert_null(ds);
    }
}

/* ---- CSV ------------------------------------------------------------ */

static mlp_dataset *load_csv(const char *text, int header, long label, int classes)
{
    mlp_dataset *ds = NULL;
    mlp_status st = mlp_dataset_load_csv(&ds, write_text("in.csv", text), header, label, classes);
    if (st != MLP_OK) fail_msg("%s: %s", mlp_status_name(st), mlp_last_error());
    return ds;
}

static void assert_floats(const float *got, const float *want, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("element %zu: %.9g, expected %.9g", i, got[i], want[i]);
}

static void test_csv_valid(void **state)
{
    mlp_dataset *ds;
    const char *plain = "1,2,0\n3,4,1\n5.5,-6,2\n";
    const float f_last[] = {1, 2, 3, 4, 5.5f, -6};

    /* No header, label last, classes. */
    ds = load_csv(plain, 0, -1, 1);
    assert_int_equal(mlp_dataset_rows(ds), 3);
    assert_int_equal(mlp_dataset_cols(ds), 2);
    assert_floats(mlp_dataset_features(ds), f_last, 6);
    assert_int_equal(mlp_dataset_classes(ds)[0], 0);
    assert_int_equal(mlp_dataset_classes(ds)[2], 2);
    assert_int_equal(mlp_dataset_num_classes(ds), 3);
    assert_null(mlp_dataset_values(ds));
    mlp_dataset_destroy(ds);

    /* Header detected, and given; the same numbers. */
    ds = load_csv("x1,x2,label\n1,2,0\n3,4,1\n5.5,-6,2\n", -1, -1, 1);
    assert_int_equal(mlp_dataset_rows(ds), 3);
    assert_floats(mlp_dataset_features(ds), f_last, 6);
    mlp_dataset_destroy(ds);
    ds = load_csv("\"x 1\",\"x,2\",label\r\n1,2,0\r\n3,4,1\r\n5.5,-6,2", 1, -1, 1);
    assert_int_equal(mlp_dataset_rows(ds), 3);
    assert_floats(mlp_dataset_features(ds), f_last, 6);
    mlp_dataset_destroy(ds);
    /* Detection on a file without a header keeps the first row. */
    ds = load_csv(plain, -1, -1, 1);
    assert_int_equal(mlp_dataset_rows(ds), 3);
    mlp_dataset_destroy(ds);
    /* A numeric header given as such is skipped. */
    ds = load_csv(plain, 1, -1, 1);
    assert_int_equal(mlp_dataset_rows(ds), 2);
    assert_int_equal(mlp_dataset_classes(ds)[0], 1);
    mlp_dataset_destroy(ds);

    /* Label column first, in the middle; no label; float values. */
    ds = load_csv("0,1.5,2\n3,4,5\n", 0, 0, 1);
    {
        const float want[] = {1.5f, 2, 4, 5};
        assert_floats(mlp_dataset_features(ds), want, 4);
        assert_int_equal(mlp_dataset_classes(ds)[1], 3);
        assert_int_equal(mlp_dataset_num_classes(ds), 4);
    }
    mlp_dataset_destroy(ds);
    ds = load_csv(plain, 0, 1, 0);
    {
        const float want[] = {1, 0, 3, 1, 5.5f, 2}, vals[] = {2, 4, -6};
        assert_floats(mlp_dataset_features(ds), want, 6);
        assert_null(mlp_dataset_classes(ds));
        assert_int_equal(mlp_dataset_num_classes(ds), 0);
        assert_int_equal(mlp_dataset_target_cols(ds), 1);
        assert_floats(mlp_dataset_values(ds), vals, 3);
    }
    mlp_dataset_destroy(ds);
    ds = load_csv(plain, 0, -2, 0);
    assert_int_equal(mlp_dataset_cols(ds), 3);
    assert_null(mlp_dataset_classes(ds));
    assert_null(mlp_dataset_values(ds));
    mlp_dataset_destroy(ds);

    /* Number forms, spaces, quotes, blank lines, no final newline; values
     * must be the correctly rounded floats. */
    ds = load_csv("\n 0.1 ,\t-1.5e2,+.5,1.,\"7\",1E-3, 3.4e38,1.17549435e-38,"
                  "123456789012345678901234567890,0.000000000000000000000000000001\n\n"
                  "-0,2.5E+1,6,0.30000000000000004,1e0,0e99,-3.4e38,1e-45,16777217,"
                  "0.333333333333333333333333\n",
                  0, -2, 0);
    {
        const float want[] = {0.1f, -150.0f, 0.5f, 1.0f, 7.0f, 1e-3f, 3.4e38f, 1.17549435e-38f,
                              1.23456789e29f, 1e-30f, -0.0f, 25.0f, 6.0f, 0.3f, 1.0f, 0.0f,
                              -3.4e38f, 1e-45f, 16777216.0f, 1.0f / 3.0f};
        assert_int_equal(mlp_dataset_rows(ds), 2);
        assert_int_equal(mlp_dataset_cols(ds), 10);
        assert_floats(mlp_dataset_features(ds), want, 20);
    }
    mlp_dataset_destroy(ds);
}

static void expect_csv_fail(const char *text, int header, long label, int classes,
                            mlp_status status, const char *what)
{
    mlp_dataset *ds = (mlp_dataset *)(uintptr_t)0x1;
    mlp_status st = mlp_dataset_load_csv(&ds, write_text("bad.csv", text), header, label, classes);
    if (st != status || strstr(mlp_last_error(), what) == NULL)
        fail_msg("'%s': expected %s with '%s', got %s: %s", text, mlp_status_name(status), what,
                 mlp_status_name(st), mlp_last_error());
    assert_ptr_equal(ds, (mlp_dataset *)(uintptr_t)0x1);
}

static void test_csv_malformed(void **state)
{
    /* Ragged rows. */
    expect_csv_fail("1,2,3\n4,5\n", 0, -1, 1, MLP_ERR_FORMAT, "line 2: 2 columns, expected 3");
    expect_csv_fail("1,2\n4,5\n\n7,8,9\n", 0, -1, 1, MLP_ERR_FORMAT, "line 4: 3 columns");
    expect_csv_fail("a,b,c\n1,2\n", 1, -1, 1, MLP_ERR_FORMAT, "line 2");
    expect_csv_fail("a,b\n1,2,3\n", -1, -1, 1, MLP_ERR_FORMAT, "line 2: 3 columns, expected 2");
    /* Empty files and files without data rows. */
    expect_csv_fail("", 0, -1, 1, MLP_ERR_FORMAT, "empty");
    expect_csv_fail("\n \n\r\n", -1, -1, 1, MLP_ERR_FORMAT, "empty");
    expect_csv_fail("a,b,c\n", -1, -1, 1, MLP_ERR_FORMAT, "no data rows");
    expect_csv_fail("1,2,3\n", 1, -1, 1, MLP_ERR_FORMAT, "no data rows");
    /* Non-numeric fields, named by line and column. */
    expect_csv_fail("1,2,3\n4,abc,6\n", 0, -1, 1, MLP_ERR_FORMAT, "line 2, column 2: 'abc'");
    expect_csv_fail("x,y\n1,2\n3,\n", -1, -2, 0, MLP_ERR_FORMAT, "line 3, column 2");
    expect_csv_fail("1,,2\n", 0, -2, 0, MLP_ERR_FORMAT, "line 1, column 2");
    expect_csv_fail("1,2\n0x10,1\n", 0, -1, 1, MLP_ERR_FORMAT, "line 2, column 1: '0x10'");
    expect_csv_fail("1.2.3,1\n", 0, -1, 1, MLP_ERR_FORMAT, "column 1");
    expect_csv_fail("1e,1\n", 0, -1, 1, MLP_ERR_FORMAT, "column 1");
    expect_csv_fail("1,2\n3,4 5\n", 0, -1, 0, MLP_ERR_FORMAT, "line 2, column 2");
    expect_csv_fail("1,2\n3,\"4\n", 0, -1, 0, MLP_ERR_FORMAT, "line 2: unterminated quote");
    /* NaN and infinity, in every spelling strtod takes, and overflow. */
    expect_csv_fail("1,nan\n", 0, -2, 0, MLP_ERR_FORMAT, "line 1, column 2: 'nan'");
    expect_csv_fail("NaN,1\n", 0, -2, 0, MLP_ERR_FORMAT, "column 1");
    expect_csv_fail("1,2\n-inf,1\n", 0, -2, 0, MLP_ERR_FORMAT, "line 2, column 1");
    expect_csv_fail("Infinity,1\n", 0, -2, 0, MLP_ERR_FORMAT, "column 1");
    expect_csv_fail("1,1e39\n", 0, -2, 0, MLP_ERR_FORMAT, "line 1, column 2: '1e39' is out");
    expect_csv_fail("1,-1e999999999\n", 0, -2, 0, MLP_ERR_FORMAT, "out of the float range");
    /* Class labels that are negative or not integers. */
    expect_csv_fail("1,2,0\n3,4,-1\n", 0, -1, 1, MLP_ERR_FORMAT, "line 2, column 3: class label '-1'");
    expect_csv_fail("1,2,0\n3,4,1.5\n", 0, -1, 1, MLP_ERR_FORMAT, "line 2, column 3: class label");
    expect_csv_fail("h,i\n1.5,2\n", -1, 0, 1, MLP_ERR_FORMAT, "line 2, column 1: class label");
    expect_csv_fail("1,3e9\n", 0, -1, 1, MLP_ERR_FORMAT, "class label");
    /* Arguments. */
    expect_csv_fail("1,2\n", 0, 2, 1, MLP_ERR_ARGUMENT, "label column 2");
    expect_csv_fail("1,2\n", 0, -3, 1, MLP_ERR_ARGUMENT, "label_column");
    expect_csv_fail("1,2\n", 2, -1, 1, MLP_ERR_ARGUMENT, "has_header");
    expect_csv_fail("1\n2\n", 0, -1, 1, MLP_ERR_FORMAT, "no features");
    {
        mlp_dataset *ds = NULL;
        assert_int_equal(mlp_dataset_load_csv(&ds, write_file("nul.csv", "1,2\n3,4\0\n", 9), 0,
                                              -1, 0), MLP_ERR_FORMAT);
        assert_non_null(strstr(mlp_last_error(), "NUL"));
        assert_int_equal(mlp_dataset_load_csv(&ds, tmpdir_path("nope.csv"), 0, -1, 1), MLP_ERR_IO);
        assert_non_null(strstr(mlp_last_error(), "nope.csv"));
        assert_int_equal(mlp_dataset_load_csv(NULL, tmpdir_path("nope.csv"), 0, -1, 1), MLP_ERR_NULL);
        assert_int_equal(mlp_dataset_load_csv(&ds, NULL, 0, -1, 1), MLP_ERR_NULL);
        assert_null(ds);
    }
}

/* The German locale writes 0,5: strtod would stop at the '.', scanf would
 * read "0,5". The reader must give the same floats as under "C". */
static void test_csv_german_locale(void **state)
{
    const char *text = "x,y,z,label\n0.5,1.25,-3.75e-1,1\n1234.5,0.001,6,0\n";
    const float want[] = {0.5f, 1.25f, -0.375f, 1234.5f, 0.001f, 6.0f};
    mlp_dataset *ds;
    float probe = 0;

    if (setlocale(LC_ALL, "de_DE.UTF-8") == NULL)
        fail_msg("the de_DE.UTF-8 locale is missing: run scripts/deps.sh as root");
    /* Prove the locale is in force: scanf reads a decimal comma now. */
    assert_int_equal(sscanf("0,5", "%f", &probe), 1);
    assert_true(probe == 0.5f);
    ds = load_csv(text, -1, -1, 1);
    assert_int_equal(mlp_dataset_rows(ds), 2);
    assert_floats(mlp_dataset_features(ds), want, 6);
    assert_int_equal(mlp_dataset_classes(ds)[0], 1);
    mlp_dataset_destroy(ds);
    /* A decimal comma is a column separator, never a decimal point. */
    expect_csv_fail("0,5;1\n", 0, -2, 0, MLP_ERR_FORMAT, "column 2: '5;1'");
    setlocale(LC_ALL, "C");
}

/* ---- input scaling ------------------------------------------------- */

static mlp_network *make_net(size_t n_in)
{
    size_t sizes[2] = {n_in, 2};
    mlp_activation acts[1] = {MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 1, sizes, acts, 7), MLP_OK);
    return net;
}

static void test_scaling(void **state)
{
    /* 4 rows x 3 features; feature 2 is constant. */
    const float X[] = {1, -2, 5, 3, 0, 5, 5, 2, 5, 7, 4, 5};
    float off[3], sc[3];
    mlp_network *net = make_net(3);

    assert_false(mlp_has_input_scaling(net));
    assert_int_equal(mlp_fit_input_scaling(net, X, 4, MLP_SCALE_MINMAX), MLP_OK);
    assert_true(mlp_has_input_scaling(net));
    assert_int_equal(mlp_get_input_scaling(net, off, sc), MLP_OK);
    assert_float_equal(off[0], 1, 0);
    assert_float_equal(sc[0], 1.0f / 6, 1e-7);
    assert_float_equal(off[1], -2, 0);
    assert_float_equal(sc[1], 1.0f / 6, 1e-7);
    assert_float_equal(off[2], 5, 0);
    assert_float_equal(sc[2], 1, 0);

    /* mean (4, 1, 5); population deviation sqrt(5), sqrt(5), 0 */
    assert_int_equal(mlp_fit_input_scaling(net, X, 4, MLP_SCALE_STANDARD), MLP_OK);
    assert_int_equal(mlp_get_input_scaling(net, off, sc), MLP_OK);
    assert_float_equal(off[0], 4, 1e-6);
    assert_float_equal(sc[0], 1 / sqrt(5.0), 1e-6);
    assert_float_equal(off[1], 1, 1e-6);
    assert_float_equal(sc[1], 1 / sqrt(5.0), 1e-6);
    assert_float_equal(off[2], 5, 1e-6);
    assert_float_equal(sc[2], 1, 0);

    /* A constant feature with a value that rounds in the mean. */
    {
        float Xc[3 * 3];
        size_t i;
        for (i = 0; i < 9; i++) Xc[i] = i % 3 == 1 ? 0.1f : (float)i;
        assert_int_equal(mlp_fit_input_scaling(net, Xc, 3, MLP_SCALE_STANDARD), MLP_OK);
        assert_int_equal(mlp_get_input_scaling(net, off, sc), MLP_OK);
        assert_float_equal(sc[1], 1, 0);
    }

    /* Errors leave the scaling as it was; NONE removes it. */
    {
        float bad[6] = {1, 2, 3, 4, NAN, 6};
        assert_int_equal(mlp_fit_input_scaling(net, bad, 2, MLP_SCALE_MINMAX), MLP_ERR_NONFINITE);
        assert_int_equal(mlp_fit_input_scaling(net, X, 0, MLP_SCALE_MINMAX), MLP_ERR_SIZE);
        assert_int_equal(mlp_fit_input_scaling(net, NULL, 4, MLP_SCALE_MINMAX), MLP_ERR_NULL);
        assert_int_equal(mlp_fit_input_scaling(NULL, X, 4, MLP_SCALE_MINMAX), MLP_ERR_NULL);
        assert_int_equal(mlp_fit_input_scaling(net, X, 4, MLP_SCALE_COUNT_), MLP_ERR_ARGUMENT);
        assert_true(mlp_has_input_scaling(net));
        assert_int_equal(mlp_get_input_scaling(net, off, sc), MLP_OK);
        assert_float_equal(sc[1], 1, 0);
    }
    assert_int_equal(mlp_fit_input_scaling(net, NULL, 0, MLP_SCALE_NONE), MLP_OK);
    assert_false(mlp_has_input_scaling(net));
    mlp_destroy(net);
}

/* The scaled network on raw inputs equals the plain one on scaled inputs. */
static void test_scaling_forward(void **state)
{
    const float X[] = {10, 200, 30, 0, 20, 100, 50, 255, 0};
    float off[3], sc[3], Xs[9], y1[6], y2[6];
    mlp_network *net = make_net(3), *plain;
    size_t i;

    assert_int_equal(mlp_clone(net, &plain), MLP_OK);
    assert_int_equal(mlp_fit_input_scaling(net, X, 3, MLP_SCALE_STANDARD), MLP_OK);
    assert_int_equal(mlp_get_input_scaling(net, off, sc), MLP_OK);
    for (i = 0; i < 9; i++) Xs[i] = (X[i] - off[i % 3]) * sc[i % 3];
    assert_int_equal(mlp_forward(net, X, 3, y1), MLP_OK);
    assert_int_equal(mlp_forward(plain, Xs, 3, y2), MLP_OK);
    for (i = 0; i < 6; i++) assert_float_equal(y1[i], y2[i], 1e-5);
    mlp_destroy(net);
    mlp_destroy(plain);
}

/* ---- failing allocations --------------------------------------------- */

static void test_out_of_memory(void **state)
{
    unsigned char img[64], lab[32];
    size_t ni = make_images(img, 3), nl = make_labels(lab, 3);
    char pi[600], pl[600], pc[600];
    unsigned long n;
    int reached_ok = 0;

    snprintf(pi, sizeof pi, "%s", write_gz("oom_img.gz", img, ni));
    snprintf(pl, sizeof pl, "%s", write_file("oom_lab", lab, nl));
    snprintf(pc, sizeof pc, "%s", write_text("oom.csv", "a,b,c\n1,2,0\n3,4,1\n"));
    for (n = 1; n < 100 && !reached_ok; n++) {
        mlp_dataset *a = NULL, *b = NULL;
        mlp_status sa, sb;
        long live = mlp__alloc_live();
        mlp__alloc_fail_at(n);
        sa = mlp_dataset_load_idx(&a, pi, pl);
        mlp__alloc_fail_at(n);
        sb = mlp_dataset_load_csv(&b, pc, -1, -1, 1);
        mlp__alloc_fail_at(0);
        assert_true(sa == MLP_OK || sa == MLP_ERR_NOMEM);
        assert_true(sb == MLP_OK || sb == MLP_ERR_NOMEM);
        assert_true((sa == MLP_OK) == (a != NULL));
        assert_true((sb == MLP_OK) == (b != NULL));
        mlp_dataset_destroy(a);
        mlp_dataset_destroy(b);
        assert_int_equal(mlp__alloc_live(), live);
        reached_ok = sa == MLP_OK && sb == MLP_OK;
    }
    assert_true(reached_ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_valid_raw_and_gz),
        cmocka_unit_test(test_idx_malformed),
        cmocka_unit_test(test_csv_valid),
        cmocka_unit_test(test_csv_malformed),
        cmocka_unit_test(test_csv_german_locale),
        cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_scaling_forward),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
