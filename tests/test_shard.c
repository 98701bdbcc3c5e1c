/* Sharded loading: for every number of parts, parts 0..P-1 of a CSV or IDX
 * file concatenated in order are exactly the whole load; bad part numbers
 * are refused; a malformed row fails only the part that holds it; failing
 * allocations leak nothing. */
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

static char path_a[600], path_b[600];

/* Writes the file (tmpdir.h) and keeps its path in path. */
static const char *write_to(char *path, const char *name, const void *data, size_t len, int gz)
{
    snprintf(path, 600, "%s", tmpdir_write(name, data, len, gz));
    return path;
}

/* ---- the concatenation check ---------------------------------------- */

typedef mlp_status (*part_loader)(mlp_dataset **out, const void *args, size_t part,
                                  size_t parts);

typedef struct csv_args {
    const char *path;
    int header, classes;
    long label;
} csv_args;

static mlp_status load_csv_part(mlp_dataset **out, const void *args, size_t part, size_t parts)
{
    const csv_args *a = args;
    return mlp_dataset_load_csv_part(out, a->path, a->header, a->label, a->classes, part, parts);
}

static mlp_status load_idx_part(mlp_dataset **out, const void *args, size_t part, size_t parts)
{
    const char *const *p = args;
    return mlp_dataset_load_idx_part(out, p[0], p[1], part, parts);
}

/* Parts 0..parts-1 against the whole load (part 0 of 1). Returns the number
 * of parts that failed. When the whole load fails, some part fails too,
 * unless every part is empty (a file with a header and no rows). */
static size_t check_parts(part_loader load, const void *args, size_t parts, const char *what)
{
    mlp_dataset *whole = NULL;
    mlp_status sw = load(&whole, args, 0, 1);
    size_t r, rows = 0, failed = 0, nc = 0;
    for (r = 0; r < parts; r++) {
        mlp_dataset *ds = (mlp_dataset *)&rows; /* a sentinel: failure must not write it */
        mlp_status st = load(&ds, args, r, parts);
        if (st != MLP_OK) {
            assert_ptr_equal(ds, (mlp_dataset *)&rows);
            failed++;
            continue;
        }
        assert_non_null(ds);
        assert_non_null(mlp_dataset_features(ds));
        if (sw == MLP_OK) {
            size_t n = mlp_dataset_rows(ds), c = mlp_dataset_cols(ds), tc;
            const int32_t *cw = mlp_dataset_classes(whole), *cp = mlp_dataset_classes(ds);
            const float *vw = mlp_dataset_values(whole), *vp = mlp_dataset_values(ds);
            if (c != mlp_dataset_cols(whole)) fail_msg("%s: part %zu/%zu: cols", what, r, parts);
            assert_true(rows + n <= mlp_dataset_rows(whole));
            assert_memory_equal(mlp_dataset_features(ds), mlp_dataset_features(whole) + rows * c,
                                n * c * sizeof(float));
            assert_int_equal(cw == NULL, cp == NULL);
            if (cw != NULL && n > 0) assert_memory_equal(cp, cw + rows, n * sizeof *cp);
            tc = mlp_dataset_target_cols(ds);
            assert_int_equal(tc, mlp_dataset_target_cols(whole));
            assert_int_equal(vw == NULL, vp == NULL);
            if (vw != NULL && n > 0) assert_memory_equal(vp, vw + rows * tc, n * tc * sizeof *vp);
            if (n == 0) assert_int_equal(mlp_dataset_num_classes(ds), 0);
            if (mlp_dataset_num_classes(ds) > nc) nc = mlp_dataset_num_classes(ds);
        }
        rows += mlp_dataset_rows(ds);
        mlp_dataset_destroy(ds);
    }
    if (sw == MLP_OK) {
        if (failed) fail_msg("%s: %zu of %zu parts failed: %s", what, failed, parts, mlp_last_error());
        assert_int_equal(rows, mlp_dataset_rows(whole));
        assert_int_equal(nc, mlp_dataset_num_classes(whole));
    } else if (failed == 0 && rows != 0) {
        fail_msg("%s: the whole load fails but no part of %zu does", what, parts);
    }
    mlp_dataset_destroy(whole);
    return failed;
}

/* ---- CSV ------------------------------------------------------------ */

static const char *const csv_files[] = {
    "a,b,c\n1,2,0\n3,4,1\n5,6,2\n7,8,1\n9,10,0\n",
    "1,2,0\n3,4,1\n5,6,2\n7,8,1\n9,10,0\n11,12,3\n",
    "a,b,c\r\n1,2,0\r\n3,4,1\r\n5,6,2\r\n7,8,1\r\n",
    "1,2,0\n3,4,1\n5,6,2\n7,8,1",
    "\n\n1,2,0\n\n3,4,1\n  \n\n5,6,2\n\t\n7,8,1\n\n",
    "\n \nx,y,z\n1,2,3\n4,5,6\n",
    "1,2,0\n",
    "a,b,c\n1.5,-2e3,4\n",
    "\"1\", \"2\" ,0\n 3 , 4 , \"5\"\n6,7,8\n",
    "a,b,c\n",
    "",
    "\n\n  \n",
    "1,2\n3,4,5\n6,7\n8,9\n",
    "1,2,0\n3,x,1\n5,6,2\n7,8,0\n9,9,9\n",
    "1,2,0\n3,4,1.5\n5,6,2\n",
    "1,2,0\n3,4\0,1\n5,6,2\n",
};

/* Over every file, option and P = 1..7. */
static void test_csv_parts_equal_whole(void **state)
{
    static const int headers[] = {-1, 0, 1};
    static const long labels[] = {-1, 0, -2};
    size_t f, h, l, cls, parts;
    for (f = 0; f < sizeof csv_files / sizeof *csv_files; f++) {
        const char *text = csv_files[f];
        size_t len = f + 1 == sizeof csv_files / sizeof *csv_files ? 20 : strlen(text);
        csv_args a;
        a.path = write_to(path_a, "t.csv", text, len, 0);
        for (h = 0; h < 3; h++)
            for (l = 0; l < 3; l++)
                for (cls = 0; cls < 2; cls++)
                    for (parts = 1; parts <= 7; parts++) {
                        char what[64];
                        a.header = headers[h];
                        a.label = labels[l];
                        a.classes = (int)cls;
                        snprintf(what, sizeof what, "file %zu h %d l %ld c %d", f, a.header,
                                 a.label, a.classes);
                        check_parts(load_csv_part, &a, parts, what);
                    }
    }
}

/* A long line crosses many cuts: the parts it covers are empty. */
static void test_csv_long_line(void **state)
{
    size_t n = 20000, parts, pos = 0;
    char *text = malloc(n + 64);
    csv_args a = {NULL, 0, 1, -1};
    assert_non_null(text);
    pos += (size_t)sprintf(text, "1,2,0\n7.");
    memset(text + pos, '0', 9000);
    pos += 9000;
    memcpy(text + pos, "25,", 4);
    pos += 3;
    memset(text + pos, ' ', 9000);
    pos += 9000;
    pos += (size_t)sprintf(text + pos, "3,1\n5,6,2\n");
    a.path = write_to(path_a, "long.csv", text, pos, 0);
    for (parts = 1; parts <= 9; parts++) assert_int_equal(check_parts(load_csv_part, &a, parts, "long"), 0);
    {
        mlp_dataset *ds = NULL;
        assert_int_equal(mlp_dataset_load_csv_part(&ds, a.path, 0, -1, 1, 4, 9), MLP_OK);
        assert_int_equal(mlp_dataset_rows(ds), 0);
        assert_int_equal(mlp_dataset_cols(ds), 2);
        assert_int_equal(mlp_dataset_num_classes(ds), 0);
        mlp_dataset_destroy(ds);
    }
    free(text);
}

/* Random numbers in random layouts, against the whole load. */
static void test_csv_random(void **state)
{
    char *text = malloc(1 << 16);
    unsigned seed = 12345;
    int round;
    assert_non_null(text);
    for (round = 0; round < 40; round++) {
        size_t pos = 0, r, c, rows = (size_t)(round % 13), cols = 1 + (size_t)round % 4, parts;
        csv_args a = {NULL, -1, 1, round % 3 == 0 ? -2 : -1};
        if (round % 2) pos += (size_t)sprintf(text, "h%d,x,y,z,w\n" + 0, round);
        for (r = 0; r < rows; r++) {
            for (c = 0; c < cols + 1; c++) {
                seed = seed * 1103515245u + 12345u;
                pos += (size_t)sprintf(text + pos, "%s%u%s", c ? "," : "", (seed >> 16) % 10,
                                       (seed >> 8) % 5 == 0 ? "   " : "");
            }
            pos += (size_t)sprintf(text + pos, "%s", (seed >> 20) % 3 == 0 ? "\r\n" : (seed >> 20) % 3 == 1 ? "\n\n" : "\n");
        }
        if (rows == 0) pos += (size_t)sprintf(text + pos, "1,2\n");
        a.path = write_to(path_a, "rand.csv", text, pos, 0);
        for (parts = 1; parts <= 6; parts++) check_parts(load_csv_part, &a, parts, "random");
    }
    free(text);
}

/* A malformed row fails the part that holds it, naming the part. */
static void test_csv_bad_row_fails_its_part(void **state)
{
    const char *text = "1,2,0\n3,4,1\n5,6,2\n7,x,0\n";
    const char *path = write_to(path_a, "bad.csv", text, strlen(text), 0);
    mlp_dataset *ds = NULL;
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 0, -1, 1, 0, 2), MLP_OK);
    assert_int_equal(mlp_dataset_rows(ds), 2);
    mlp_dataset_destroy(ds);
    ds = NULL;
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 0, -1, 1, 1, 2), MLP_ERR_FORMAT);
    assert_null(ds);
    assert_non_null(strstr(mlp_last_error(), "line 2 of part 1 of 2 (byte 18)"));
    assert_non_null(strstr(mlp_last_error(), "'x' is not a number"));
}

/* The first line decides for every part, and its errors name its line. */
static void test_csv_bad_first_line(void **state)
{
    const char *text = "\n\n\"a,b\n1,2\n3,4\n5,6\n";
    const char *path = write_to(path_a, "quote.csv", text, strlen(text), 0);
    mlp_dataset *ds = NULL;
    size_t r;
    for (r = 0; r < 3; r++) {
        assert_int_equal(mlp_dataset_load_csv_part(&ds, path, -1, -1, 1, r, 3), MLP_ERR_FORMAT);
        assert_non_null(strstr(mlp_last_error(), "line 3: unterminated quote"));
    }
    assert_null(ds);
}

static void test_bad_arguments(void **state)
{
    const char *text = "1,2,0\n";
    const char *path = write_to(path_a, "args.csv", text, strlen(text), 0);
    mlp_dataset *ds = NULL;
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 0, -1, 1, 0, 0), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 0, -1, 1, 2, 2), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 2, -1, 1, 0, 2), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 0, -3, 1, 0, 2), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_dataset_load_csv_part(NULL, path, 0, -1, 1, 0, 2), MLP_ERR_NULL);
    assert_int_equal(mlp_dataset_load_csv_part(&ds, NULL, 0, -1, 1, 0, 2), MLP_ERR_NULL);
    assert_int_equal(mlp_dataset_load_idx_part(&ds, path, NULL, 1, 1), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_dataset_load_idx_part(&ds, path, NULL, 0, 0), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_dataset_load_idx_part(&ds, NULL, NULL, 0, 2), MLP_ERR_NULL);
    assert_null(ds);
    snprintf(path_b, sizeof path_b, "%s", tmpdir_path("missing.csv"));
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path_b, 0, -1, 1, 1, 2), MLP_ERR_IO);
    assert_int_equal(mlp_dataset_load_idx_part(&ds, path_b, NULL, 1, 2), MLP_ERR_IO);
    assert_null(ds);
}

/* ---- IDX ------------------------------------------------------------ */

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

/* count images of 3 x 2 pixels and their labels (the last class is 9). */
static void make_idx(unsigned char *img, size_t *ni, unsigned char *lab, size_t *nl, uint32_t count)
{
    uint32_t dims[3] = {count, 3, 2};
    size_t i;
    *ni = idx_header(img, 3, dims);
    for (i = 0; i < 6 * (size_t)count; i++) img[(*ni)++] = (unsigned char)(i * 37 + 11);
    *nl = idx_header(lab, 1, &count);
    for (i = 0; i < count; i++) lab[(*nl)++] = (unsigned char)(i + 1 == count ? 9 : i % 4);
}

static void test_idx_parts_equal_whole(void **state)
{
    static unsigned char img[1024], lab[256];
    uint32_t count;
    int gz;
    size_t ni, nl, parts, cut;
    for (count = 1; count <= 11; count += 2)
        for (gz = 0; gz < 2; gz++) {
            const char *paths[2];
            make_idx(img, &ni, lab, &nl, count);
            paths[0] = write_to(path_a, "img", img, ni, gz);
            paths[1] = write_to(path_b, "lab", lab, nl, gz);
            for (parts = 1; parts <= 13; parts++) {
                assert_int_equal(check_parts(load_idx_part, paths, parts, "idx"), 0);
                paths[1] = NULL;
                assert_int_equal(check_parts(load_idx_part, paths, parts, "idx images"), 0);
                paths[1] = path_b;
            }
            /* truncated, or with trailing bytes: the whole load and the last part fail */
            for (cut = 0; cut < 2; cut++) {
                size_t len = cut ? ni - 1 : ni + 1;
                img[ni] = 7;
                write_to(path_a, "img", img, len, gz);
                for (parts = 1; parts <= 13; parts++) {
                    mlp_dataset *ds = NULL;
                    assert_true(check_parts(load_idx_part, paths, parts, "idx bad") >= 1);
                    assert_int_equal(mlp_dataset_load_idx_part(&ds, paths[0], paths[1], parts - 1, parts),
                                     MLP_ERR_FORMAT);
                }
            }
        }
}

static void test_idx_label_count_mismatch(void **state)
{
    static unsigned char img[1024], lab[256], lab2[256];
    size_t ni, nl, nl2, r;
    mlp_dataset *ds = NULL;
    make_idx(img, &ni, lab2, &nl2, 5);
    make_idx(img, &ni, lab, &nl, 6);
    write_to(path_a, "img", img, ni, 0);
    write_to(path_b, "lab", lab2, nl2, 1);
    for (r = 0; r < 3; r++)
        assert_int_equal(mlp_dataset_load_idx_part(&ds, path_a, path_b, r, 3), MLP_ERR_FORMAT);
    assert_null(ds);
}

/* ---- agreeing on classes -------------------------------------------- */

static void test_set_num_classes(void **state)
{
    const char *text = "1,2,0\n3,4,1\n5,6,7\n";
    const char *path = write_to(path_a, "cls.csv", text, strlen(text), 0);
    mlp_dataset *ds = NULL;
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 0, -1, 1, 0, 2), MLP_OK);
    assert_int_equal(mlp_dataset_num_classes(ds), 2);
    assert_int_equal(mlp_dataset_set_num_classes(ds, 8), MLP_OK);
    assert_int_equal(mlp_dataset_num_classes(ds), 8);
    assert_int_equal(mlp_dataset_set_num_classes(ds, 1), MLP_ERR_LABEL);
    assert_int_equal(mlp_dataset_num_classes(ds), 8);
    mlp_dataset_destroy(ds);
    assert_int_equal(mlp_dataset_load_csv_part(&ds, path, 0, -1, 0, 0, 2), MLP_OK);
    assert_int_equal(mlp_dataset_set_num_classes(ds, 8), MLP_ERR_ARGUMENT);
    mlp_dataset_destroy(ds);
    assert_int_equal(mlp_dataset_set_num_classes(NULL, 8), MLP_ERR_NULL);
}

/* ---- failing allocations -------------------------------------------- */

static void test_out_of_memory(void **state)
{
    static unsigned char img[1024], lab[256];
    const char *text = "a,b,c\n1,2,0\n3,4,1\n5,6,2\n";
    size_t ni, nl;
    unsigned long n;
    int reached_ok = 0;
    make_idx(img, &ni, lab, &nl, 5);
    write_to(path_a, "oom_img", img, ni, 1);
    write_to(path_b, "oom_lab", lab, nl, 0);
    for (n = 1; n < 100 && !reached_ok; n++) {
        mlp_dataset *a = NULL, *b = NULL;
        mlp_status sa, sb;
        long live = mlp__alloc_live();
        char pc[600];
        write_to(pc, "oom.csv", text, strlen(text), 0);
        mlp__alloc_fail_at(n);
        sa = mlp_dataset_load_idx_part(&a, path_a, path_b, 1, 2);
        mlp__alloc_fail_at(n);
        sb = mlp_dataset_load_csv_part(&b, pc, -1, -1, 1, 1, 2);
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
        cmocka_unit_test(test_csv_parts_equal_whole),
        cmocka_unit_test(test_csv_long_line),
        cmocka_unit_test(test_csv_random),
        cmocka_unit_test(test_csv_bad_row_fails_its_part),
        cmocka_unit_test(test_csv_bad_first_line),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_idx_parts_equal_whole),
        cmocka_unit_test(test_idx_label_count_mismatch),
        cmocka_unit_test(test_set_num_classes),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
