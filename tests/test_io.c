/* Model files: round trips (R10), atomic saves (R11), malformed files (R8),
 * the golden v1 fixture, and the byte layout against docs/FORMAT.md. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "io_fixture.h"
#include "io_format.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/golden_v1.h"

#define ROWS 9

/* ---- helpers ---------------------------------------------------- */

static void assert_same_net(const mlp_network *a, const mlp_network *b)
{
    size_t l, n_in = a->sizes[0];
    assert_int_equal(a->n_layers, b->n_layers);
    assert_memory_equal(a->sizes, b->sizes, (a->n_layers + 1) * sizeof *a->sizes);
    for (l = 0; l < a->n_layers; l++) {
        assert_int_equal(a->layers[l].act, b->layers[l].act);
        assert_int_equal(mlp__f32_bits(a->layers[l].dropout), mlp__f32_bits(b->layers[l].dropout));
    }
    assert_int_equal(a->loss, b->loss);
    assert_int_equal(mlp__f32_bits(a->l2), mlp__f32_bits(b->l2));
    assert_int_equal(a->in_offset != NULL, b->in_offset != NULL);
    if (a->in_offset) {
        assert_memory_equal(a->in_offset, b->in_offset, n_in * sizeof(float));
        assert_memory_equal(a->in_scale, b->in_scale, n_in * sizeof(float));
    }
    assert_true(a->seed == b->seed);
    assert_memory_equal(a->rng.s, b->rng.s, sizeof a->rng.s);
    assert_true(a->epochs_trained == b->epochs_trained);
    assert_true(a->steps == b->steps);
    assert_int_equal(a->opt_kind, b->opt_kind);
    assert_int_equal(a->opt_state_len, b->opt_state_len);
    if (a->opt_state_len)
        assert_memory_equal(a->opt_state, b->opt_state, a->opt_state_len * sizeof(float));
    assert_int_equal(a->n_params, b->n_params);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
}

/* Bit-identical outputs for a batch (sgemm) and a single row (sgemv). */
static void assert_same_predictions(mlp_network *a, mlp_network *b)
{
    size_t n_in = mlp_input_size(a), n_out = mlp_output_size(a);
    float *X = malloc(ROWS * n_in * sizeof *X), *Ya = malloc(ROWS * n_out * sizeof *Ya),
          *Yb = malloc(ROWS * n_out * sizeof *Yb);
    assert_non_null(X);
    assert_non_null(Ya);
    assert_non_null(Yb);
    io_fixture_inputs(X, ROWS, n_in);
    assert_int_equal(mlp_forward(a, X, ROWS, Ya), MLP_OK);
    assert_int_equal(mlp_forward(b, X, ROWS, Yb), MLP_OK);
    assert_memory_equal(Ya, Yb, ROWS * n_out * sizeof *Ya);
    assert_int_equal(mlp_forward(a, X, 1, Ya), MLP_OK);
    assert_int_equal(mlp_forward(b, X, 1, Yb), MLP_OK);
    assert_memory_equal(Ya, Yb, n_out * sizeof *Ya);
    free(X);
    free(Ya);
    free(Yb);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void write_all(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static char *join(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* ---- CRC and layout --------------------------------------------- */

static void test_crc32_known_answers(void **state)
{
    const char *s = "123456789";
    (void)state;
    assert_int_equal(mlp__crc32(0, s, 0), 0u);
    assert_int_equal(mlp__crc32(0, s, 9), 0xCBF43926u);
    assert_int_equal(mlp__crc32(mlp__crc32(0, s, 4), s + 4, 5), 0xCBF43926u);
    assert_int_equal(mlp__crc32(0, "a", 1), 0xE8B7BE43u);
}

/* An encoder written from docs/FORMAT.md alone must give mlp_save's bytes. */
static size_t doc_encode(const mlp_network *net, unsigned char *o)
{
    size_t L = mlp_num_layers(net), n_in = mlp_input_size(net), P = mlp_num_params(net), l, i,
           k = 0, S = net->opt_state_len;
    float off[64], sc[64];
    int scaled = mlp_has_input_scaling(net);
    memcpy(o, "\x89" "MLP\r\n\x1a\n", 8);
    k = 8;
#define U32(v) (mlp__put_u32(o + k, (uint32_t)(v)), k += 4)
#define U64(v) (mlp__put_u64(o + k, (uint64_t)(v)), k += 8)
#define F32(v) (mlp__put_u32(o + k, mlp__f32_bits(v)), k += 4)
    U32(1);
    U32(32);
    U32(scaled ? 1 : 0);
    U32(0);
    U64(124 + 16 * L + (scaled ? 8 * n_in : 0) + 4 * S + 4 * P);
    U32(L);
    U32(mlp_get_loss(net));
    F32(mlp_get_l2(net));
    U32(net->opt_kind < 0 ? 0xffffffffu : (uint32_t)net->opt_kind);
    U64(net->seed);
    for (i = 0; i < 4; i++) U64(net->rng.s[i]);
    U64(net->epochs_trained);
    U64(net->steps);
    U64(S);
    for (l = 0; l <= L; l++) U64(mlp_layer_size(net, l));
    for (l = 0; l < L; l++) {
        U32(mlp_layer_activation(net, l));
        F32(mlp_get_dropout(net, l));
    }
    if (scaled) {
        assert_int_equal(mlp_get_input_scaling(net, off, sc), MLP_OK);
        for (i = 0; i < n_in; i++) F32(off[i]);
        for (i = 0; i < n_in; i++) F32(sc[i]);
    }
    for (i = 0; i < S; i++) F32(net->opt_state[i]);
    for (i = 0; i < P; i++) F32(mlp_params_const(net)[i]);
    U32(mlp__crc32(0, o, k));
#undef U32
#undef U64
#undef F32
    return k;
}

static void test_layout_matches_format_doc(void **state)
{
    int kind;
    (void)state;
    for (kind = 0; kind < IO_NET_KINDS_; kind++) {
        mlp_network *net = io_fixture_net(kind);
        size_t size, n;
        unsigned char *img, *doc;
        assert_non_null(net);
        img = io_fixture_image(net, &size);
        assert_non_null(img);
        doc = calloc(1, size + 64);
        assert_non_null(doc);
        n = doc_encode(net, doc);
        assert_int_equal(n, size);
        assert_memory_equal(doc, img, size);
        if (kind == IO_NET_TINY) assert_int_equal(size, MLP__FMT_MIN_FILE);
        free(doc);
        free(img);
        mlp_destroy(net);
    }
}

/* ---- R10: round trips ------------------------------------------- */

static void test_roundtrip_buffer(void **state)
{
    int kind;
    (void)state;
    for (kind = 0; kind < IO_NET_KINDS_; kind++) {
        mlp_network *net = io_fixture_net(kind), *back = NULL;
        size_t size, size2;
        unsigned char *img, *img2;
        assert_non_null(net);
        img = io_fixture_image(net, &size);
        assert_non_null(img);
        assert_int_equal(mlp_load_buffer(&back, img, size), MLP_OK);
        assert_string_equal(mlp_last_error(), "");
        assert_same_net(net, back);
        assert_same_predictions(net, back);
        img2 = io_fixture_image(back, &size2); /* save(load(f)) == f */
        assert_non_null(img2);
        assert_int_equal(size2, size);
        assert_memory_equal(img2, img, size);
        free(img);
        free(img2);
        mlp_destroy(back);
        mlp_destroy(net);
    }
}

/* The RNG state travels, so dropout masks and shuffles continue exactly. */
static void test_roundtrip_keeps_rng_stream(void **state)
{
    mlp_network *net = io_fixture_net(IO_NET_FULL), *back = NULL;
    size_t size, i;
    unsigned char *img;
    (void)state;
    assert_non_null(net);
    img = io_fixture_image(net, &size);
    assert_int_equal(mlp_load_buffer(&back, img, size), MLP_OK);
    for (i = 0; i < 100; i++) assert_true(mlp__rng_next(&net->rng) == mlp__rng_next(&back->rng));
    free(img);
    mlp_destroy(back);
    mlp_destroy(net);
}

static void test_variants_agree(void **state)
{
    char *dir = io_fixture_tmpdir(), *p_path, *p_file;
    mlp_network *net = io_fixture_net(IO_NET_FULL), *a = NULL, *b = NULL, *c = NULL;
    unsigned char *img, *by_path, *by_file;
    size_t size, n_path, n_file;
    FILE *f;
    (void)state;
    assert_non_null(dir);
    assert_non_null(net);
    p_path = join(dir, "by_path.mlp");
    p_file = join(dir, "by_file.mlp");
    img = io_fixture_image(net, &size);
    assert_int_equal(mlp_save(net, p_path), MLP_OK);
    f = fopen(p_file, "wb");
    assert_non_null(f);
    assert_int_equal(mlp_save_file(net, f), MLP_OK);
    assert_int_equal(fputc('x', f), 'x'); /* still open: never closed by the library */
    assert_int_equal(fclose(f), 0);
    by_path = read_all(p_path, &n_path);
    by_file = read_all(p_file, &n_file);
    assert_int_equal(n_path, size);
    assert_int_equal(n_file, size + 1);
    assert_memory_equal(by_path, img, size);
    assert_memory_equal(by_file, img, size);

    assert_int_equal(mlp_load(&a, p_path), MLP_OK);
    f = fopen(p_file, "rb");
    assert_non_null(f);
    assert_int_equal(mlp_load_file(&b, f), MLP_OK);
    assert_int_equal(fgetc(f), 'x'); /* left just after the model, still open */
    fclose(f);
    assert_int_equal(mlp_load_buffer(&c, img, size), MLP_OK);
    assert_same_net(net, a);
    assert_same_net(net, b);
    assert_same_net(net, c);
    assert_same_predictions(a, b);
    assert_same_predictions(a, c);
    assert_same_predictions(net, a);
    mlp_destroy(a);
    mlp_destroy(b);
    mlp_destroy(c);
    mlp_destroy(net);
    free(img);
    free(by_path);
    free(by_file);
    free(p_path);
    free(p_file);
    io_fixture_rmdir(dir);
}

static void test_stream_holds_several_models(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    mlp_network *full = io_fixture_net(IO_NET_FULL), *tiny = io_fixture_net(IO_NET_TINY);
    mlp_network *a = NULL, *b = NULL, *c = NULL;
    FILE *f;
    (void)state;
    assert_non_null(dir);
    path = join(dir, "two.mlp");
    f = fopen(path, "w+b");
    assert_non_null(f);
    assert_int_equal(mlp_save_file(full, f), MLP_OK);
    assert_int_equal(mlp_save_file(tiny, f), MLP_OK);
    rewind(f);
    assert_int_equal(mlp_load_file(&a, f), MLP_OK);
    assert_int_equal(mlp_load_file(&b, f), MLP_OK);
    assert_int_equal(mlp_load_file(&c, f), MLP_ERR_TRUNCATED); /* at EOF: no bytes */
    assert_null(c);
    fclose(f);
    assert_same_net(full, a);
    assert_same_net(tiny, b);
    /* By path the file must hold exactly one model. */
    assert_int_equal(mlp_load(&c, path), MLP_ERR_CORRUPT);
    assert_null(c);
    mlp_destroy(a);
    mlp_destroy(b);
    mlp_destroy(full);
    mlp_destroy(tiny);
    free(path);
    io_fixture_rmdir(dir);
}

static void test_save_buffer_capacity(void **state)
{
    mlp_network *net = io_fixture_net(IO_NET_DEEP);
    size_t need = 0, got = 0, i;
    unsigned char *buf;
    (void)state;
    assert_int_equal(mlp_save_buffer(net, NULL, 0, &need), MLP_ERR_BUFFER);
    assert_true(need > MLP__FMT_MIN_FILE);
    buf = malloc(need);
    memset(buf, 0xab, need);
    assert_int_equal(mlp_save_buffer(net, buf, need - 1, &got), MLP_ERR_BUFFER);
    assert_int_equal(got, need);
    for (i = 0; i < need; i++) assert_int_equal(buf[i], 0xab); /* nothing written */
    assert_int_equal(mlp_save_buffer(net, buf, need, &got), MLP_OK);
    assert_int_equal(got, need);
    assert_memory_equal(buf, MLP__FMT_MAGIC, 8);
    free(buf);
    mlp_destroy(net);
}

static void test_null_arguments(void **state)
{
    mlp_network *net = io_fixture_net(IO_NET_TINY), *out = NULL;
    unsigned char b[4] = {0};
    size_t n;
    (void)state;
    assert_int_equal(mlp_save(NULL, "x"), MLP_ERR_NULL);
    assert_int_equal(mlp_save(net, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_save(net, ""), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_save_file(net, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_save_buffer(NULL, b, 4, &n), MLP_ERR_NULL);
    assert_int_equal(mlp_save_buffer(net, b, 4, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_load(NULL, "x"), MLP_ERR_NULL);
    assert_int_equal(mlp_load(&out, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_load_file(&out, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_load_buffer(&out, NULL, 4), MLP_ERR_NULL);
    assert_int_equal(mlp_load_buffer(NULL, b, 4), MLP_ERR_NULL);
    assert_int_equal(mlp_load(&out, "/nonexistent-dir-mlp/model.mlp"), MLP_ERR_IO);
    assert_null(out);
    mlp_destroy(net);
}

/* ---- R11: a failed save leaves the target as it was ------------- */

static void test_save_refuses_nonfinite(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    mlp_network *good = io_fixture_net(IO_NET_TINY), *bad = io_fixture_net(IO_NET_FULL);
    unsigned char *before, *after, buf[4096];
    size_t n_before, n_after, n;
    FILE *f;
    (void)state;
    path = join(dir, "model.mlp");
    assert_int_equal(mlp_save(good, path), MLP_OK);
    before = read_all(path, &n_before);
    mlp_params(bad)[3] = NAN;
    assert_int_equal(mlp_save(bad, path), MLP_ERR_NONFINITE);
    assert_int_equal(mlp_save_buffer(bad, buf, sizeof buf, &n), MLP_ERR_NONFINITE);
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(mlp_save_file(bad, f), MLP_ERR_NONFINITE);
    assert_int_equal(ftell(f), 0); /* refused before the first byte */
    fclose(f);
    mlp_params(bad)[3] = 0.0f;
    bad->opt_state[5] = INFINITY;
    assert_int_equal(mlp_save(bad, path), MLP_ERR_NONFINITE);
    after = read_all(path, &n_after);
    assert_int_equal(n_after, n_before);
    assert_memory_equal(after, before, n_before);
    assert_int_equal(io_fixture_count_entries(dir), 1); /* no temporary file left */
    free(before);
    free(after);
    free(path);
    mlp_destroy(good);
    mlp_destroy(bad);
    io_fixture_rmdir(dir);
}

static void test_save_into_missing_folder(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    mlp_network *net = io_fixture_net(IO_NET_TINY);
    (void)state;
    path = join(dir, "no/such/folder/model.mlp");
    assert_int_equal(mlp_save(net, path), MLP_ERR_IO);
    assert_true(strlen(mlp_last_error()) > 0);
    assert_int_equal(io_fixture_count_entries(dir), 0);
    free(path);
    mlp_destroy(net);
    io_fixture_rmdir(dir);
}

/* A full disk, simulated with RLIMIT_FSIZE (works as root too): the write
 * fails midway and the old model must survive intact. */
static void test_save_disk_full_keeps_target(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    mlp_network *old = io_fixture_net(IO_NET_TINY), *big = io_fixture_net(IO_NET_FULL);
    unsigned char *before, *after;
    size_t n_before, n_after;
    struct rlimit saved, lim;
    void (*prev)(int);
    mlp_status st;
    (void)state;
    path = join(dir, "model.mlp");
    assert_int_equal(mlp_save(old, path), MLP_OK);
    before = read_all(path, &n_before);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = 600; /* the FULL model takes 1280 bytes */
    prev = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    st = mlp_save(big, path);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(st, MLP_ERR_IO);
    after = read_all(path, &n_after);
    assert_int_equal(n_after, n_before);
    assert_memory_equal(after, before, n_before);
    assert_int_equal(io_fixture_count_entries(dir), 1);
    /* and with room again the save goes through */
    assert_int_equal(mlp_save(big, path), MLP_OK);
    assert_int_equal(io_fixture_count_entries(dir), 1);
    free(before);
    free(after);
    free(path);
    mlp_destroy(old);
    mlp_destroy(big);
    io_fixture_rmdir(dir);
}

/* The target is a folder: rename fails, the folder stays, no temp file. */
static void test_save_over_folder_fails_cleanly(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    mlp_network *net = io_fixture_net(IO_NET_TINY);
    struct stat sb;
    (void)state;
    path = join(dir, "sub");
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(mlp_save(net, path), MLP_ERR_IO);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(io_fixture_count_entries(dir), 1);
    free(path);
    mlp_destroy(net);
    io_fixture_rmdir(dir);
}

static void test_save_keeps_mode(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    mlp_network *net = io_fixture_net(IO_NET_TINY);
    struct stat sb;
    (void)state;
    path = join(dir, "model.mlp");
    assert_int_equal(mlp_save(net, path), MLP_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(mlp_save(net, path), MLP_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    assert_int_equal(io_fixture_count_entries(dir), 1);
    free(path);
    mlp_destroy(net);
    io_fixture_rmdir(dir);
}

/* ---- R8: malformed files ---------------------------------------- */

/* Offsets inside an image, from docs/FORMAT.md. */
typedef struct layout {
    size_t L, n_in, S, sizes, recs, scale, opt, params, crc;
} layout;

static layout layout_of(const mlp_network *net, size_t size)
{
    layout y;
    y.L = net->n_layers;
    y.n_in = net->sizes[0];
    y.S = net->opt_state_len;
    y.sizes = 112;
    y.recs = y.sizes + 8 * (y.L + 1);
    y.scale = y.recs + 8 * y.L;
    y.opt = y.scale + (net->in_offset ? 8 * y.n_in : 0);
    y.params = y.opt + 4 * y.S;
    y.crc = size - 4;
    return y;
}

enum op { SET8, SET32, SET64, SETF, APPEND_BYTE, APPEND_COPY, DELETE_BYTE, ZERO_ALL, TEXT, RNG_ZERO,
          SIZES_MAX };

typedef struct corruption {
    const char *name;
    int base;          /* io_fixture_kind */
    enum op op;
    size_t off;        /* absolute, or an index added to `field` */
    int field;         /* 0 absolute; 1 sizes; 2 recs; 3 scale; 4 opt; 5 params; 6 crc */
    uint64_t value;
    float fvalue;
    int fix_crc;
    mlp_status want;
    int stream;        /* a stream reads the declared size only: 0 same as want,
                          1 MLP_OK (the rest is ignored), 2 MLP_ERR_CHECKSUM */
} corruption;

#define W(v) ((uint64_t)(v))
static const corruption corruptions[] = {
    {"magic byte 0", IO_NET_FULL, SET8, 0, 0, 0x88, 0, 0, MLP_ERR_BAD_MAGIC, 0},
    {"magic byte 7", IO_NET_FULL, SET8, 7, 0, 0xff, 0, 0, MLP_ERR_BAD_MAGIC, 0},
    {"CRLF turned to LF (text mode)", IO_NET_FULL, DELETE_BYTE, 4, 0, 0, 0, 0, MLP_ERR_BAD_MAGIC, 0},
    {"all zero bytes", IO_NET_FULL, ZERO_ALL, 0, 0, 0, 0, 0, MLP_ERR_BAD_MAGIC, 0},
    {"a text file", IO_NET_FULL, TEXT, 0, 0, 0, 0, 0, MLP_ERR_BAD_MAGIC, 0},
    {"version 0", IO_NET_FULL, SET32, 8, 0, 0, 0, 1, MLP_ERR_VERSION, 0},
    {"version 2", IO_NET_FULL, SET32, 8, 0, 2, 0, 1, MLP_ERR_VERSION, 0},
    {"version 1 big-endian", IO_NET_FULL, SET32, 8, 0, W(0x01000000), 0, 1, MLP_ERR_VERSION, 0},
    {"version -1", IO_NET_FULL, SET32, 8, 0, W(0xffffffff), 0, 0, MLP_ERR_VERSION, 0},
    {"header length 64", IO_NET_FULL, SET32, 12, 0, 64, 0, 1, MLP_ERR_CORRUPT, 0},
    {"header length -1", IO_NET_FULL, SET32, 12, 0, W(0xffffffff), 0, 1, MLP_ERR_CORRUPT, 0},
    {"unknown flag bit 1", IO_NET_FULL, SET32, 16, 0, 3, 0, 1, MLP_ERR_CORRUPT, 0},
    {"unknown flag bit 31", IO_NET_FULL, SET32, 16, 0, W(0x80000001), 0, 1, MLP_ERR_CORRUPT, 0},
    {"reserved field set", IO_NET_FULL, SET32, 20, 0, 1, 0, 1, MLP_ERR_CORRUPT, 0},
    {"file size 0", IO_NET_FULL, SET64, 24, 0, 0, 0, 1, MLP_ERR_CORRUPT, 0},
    {"file size below the minimum", IO_NET_FULL, SET64, 24, 0, 147, 0, 1, MLP_ERR_CORRUPT, 0},
    {"file size one more", IO_NET_FULL, SET64, 24, 0, 1281, 0, 1, MLP_ERR_TRUNCATED, 0},
    {"file size 2^64-1", IO_NET_FULL, SET64, 24, 0, UINT64_MAX, 0, 1,
     SIZE_MAX == UINT64_MAX ? MLP_ERR_TRUNCATED : MLP_ERR_TOO_LARGE, 0},
    {"file size one less", IO_NET_FULL, SET64, 24, 0, 1279, 0, 0, MLP_ERR_CORRUPT, 2},
    {"one trailing byte", IO_NET_FULL, APPEND_BYTE, 0, 0, 0, 0, 0, MLP_ERR_CORRUPT, 1},
    {"a second model appended", IO_NET_FULL, APPEND_COPY, 0, 0, 0, 0, 0, MLP_ERR_CORRUPT, 1},
    {"a parameter bit flipped", IO_NET_FULL, SET8, 10, 5, 0x40, 0, 0, MLP_ERR_CHECKSUM, 0},
    {"the CRC flipped", IO_NET_FULL, SET8, 0, 6, 0x5a, 0, 0, MLP_ERR_CHECKSUM, 0},
    {"l2 changed, CRC stale", IO_NET_FULL, SETF, 40, 0, 0, 0.5f, 0, MLP_ERR_CHECKSUM, 0},
    {"n_layers 0", IO_NET_FULL, SET32, 32, 0, 0, 0, 1, MLP_ERR_CORRUPT, 0},
    {"n_layers 2^32-1", IO_NET_FULL, SET32, 32, 0, W(0xffffffff), 0, 1, MLP_ERR_CORRUPT, 0},
    {"n_layers one more", IO_NET_FULL, SET32, 32, 0, 4, 0, 1, MLP_ERR_CORRUPT, 0},
    {"n_layers one less", IO_NET_FULL, SET32, 32, 0, 2, 0, 1, MLP_ERR_CORRUPT, 0},
    {"loss 3", IO_NET_FULL, SET32, 36, 0, 3, 0, 1, MLP_ERR_CORRUPT, 0},
    {"loss -1", IO_NET_FULL, SET32, 36, 0, W(0xffffffff), 0, 1, MLP_ERR_CORRUPT, 0},
    {"softmax loss with one output", IO_NET_TINY, SET32, 36, 0, 1, 0, 1, MLP_ERR_CORRUPT, 0},
    {"l2 NaN", IO_NET_FULL, SETF, 40, 0, 0, NAN, 1, MLP_ERR_CORRUPT, 0},
    {"l2 negative", IO_NET_FULL, SETF, 40, 0, 0, -1.0f, 1, MLP_ERR_CORRUPT, 0},
    {"l2 infinite", IO_NET_FULL, SETF, 40, 0, 0, INFINITY, 1, MLP_ERR_CORRUPT, 0},
    {"optimiser 8", IO_NET_FULL, SET32, 44, 0, 8, 0, 1, MLP_ERR_CORRUPT, 0},
    {"no optimiser but state", IO_NET_FULL, SET32, 44, 0, W(0xffffffff), 0, 1, MLP_ERR_CORRUPT, 0},
    {"RNG state all zero", IO_NET_FULL, RNG_ZERO, 0, 0, 0, 0, 1, MLP_ERR_CORRUPT, 0},
    {"optimiser state 2^62 floats", IO_NET_FULL, SET64, 104, 0, W(1) << 62, 0, 1, MLP_ERR_TOO_LARGE, 0},
    {"optimiser state -1 floats", IO_NET_FULL, SET64, 104, 0, UINT64_MAX, 0, 1, MLP_ERR_TOO_LARGE, 0},
    {"optimiser state one float more", IO_NET_FULL, SET64, 104, 0, 179, 0, 1, MLP_ERR_CORRUPT, 0},
    {"input size 0", IO_NET_FULL, SET64, 0, 1, 0, 0, 1, MLP_ERR_CORRUPT, 0},
    {"hidden size 2^31", IO_NET_FULL, SET64, 8, 1, W(1) << 31, 0, 1, MLP_ERR_TOO_LARGE, 0},
    {"hidden size -1", IO_NET_FULL, SET64, 16, 1, UINT64_MAX, 0, 1, MLP_ERR_TOO_LARGE, 0},
    {"sizes whose product overflows", IO_NET_FULL, SIZES_MAX, 0, 0, 0, 0, 1, MLP_ERR_TOO_LARGE, 0},
    {"hidden size 1000, data missing", IO_NET_FULL, SET64, 8, 1, 1000, 0, 1, MLP_ERR_CORRUPT, 0},
    {"output size one less", IO_NET_FULL, SET64, 24, 1, 2, 0, 1, MLP_ERR_CORRUPT, 0},
    {"activation 7", IO_NET_FULL, SET32, 0, 2, 7, 0, 1, MLP_ERR_CORRUPT, 0},
    {"activation negative", IO_NET_FULL, SET32, 16, 2, W(0x80000000), 0, 1, MLP_ERR_CORRUPT, 0},
    {"dropout 1", IO_NET_FULL, SETF, 12, 2, 0, 1.0f, 1, MLP_ERR_CORRUPT, 0},
    {"dropout NaN", IO_NET_FULL, SETF, 4, 2, 0, NAN, 1, MLP_ERR_CORRUPT, 0},
    {"dropout negative", IO_NET_FULL, SETF, 20, 2, 0, -0.5f, 1, MLP_ERR_CORRUPT, 0},
    {"scaling flag cleared", IO_NET_FULL, SET32, 16, 0, 0, 0, 1, MLP_ERR_CORRUPT, 0},
    {"scaling flag set without data", IO_NET_TINY, SET32, 16, 0, 1, 0, 1, MLP_ERR_CORRUPT, 0},
    {"input scale infinite", IO_NET_FULL, SETF, 20, 3, 0, INFINITY, 1, MLP_ERR_CORRUPT, 0},
    {"input offset NaN", IO_NET_FULL, SETF, 0, 3, 0, NAN, 1, MLP_ERR_CORRUPT, 0},
    {"optimiser state NaN", IO_NET_FULL, SETF, 0, 4, 0, NAN, 1, MLP_ERR_CORRUPT, 0},
    {"weight NaN", IO_NET_FULL, SETF, 20, 5, 0, NAN, 1, MLP_ERR_CORRUPT, 0},
    {"last bias -infinity", IO_NET_FULL, SETF, 88 * 4, 5, 0, -INFINITY, 1, MLP_ERR_CORRUPT, 0},
};
#undef W

static unsigned char *corrupt(const corruption *c, size_t *size)
{
    mlp_network *net = io_fixture_net(c->base);
    unsigned char *img = io_fixture_image(net, size), *grown;
    layout y = layout_of(net, *size);
    size_t base[7], at, l;
    assert_non_null(img);
    base[0] = 0;
    base[1] = y.sizes;
    base[2] = y.recs;
    base[3] = y.scale;
    base[4] = y.opt;
    base[5] = y.params;
    base[6] = y.crc;
    at = base[c->field] + c->off;
    if (c->base == IO_NET_FULL) assert_int_equal(*size, 1280); /* the table's numbers */
    grown = realloc(img, 2 * *size + 1);
    assert_non_null(grown);
    img = grown;
    switch (c->op) {
    case SET8: img[at] ^= (unsigned char)c->value; break;
    case SET32: mlp__put_u32(img + at, (uint32_t)c->value); break;
    case SET64: mlp__put_u64(img + at, c->value); break;
    case SETF: mlp__put_u32(img + at, mlp__f32_bits(c->fvalue)); break;
    case APPEND_BYTE: img[(*size)++] = 0; break;
    case APPEND_COPY:
        memcpy(img + *size, img, *size);
        *size *= 2;
        break;
    case DELETE_BYTE:
        memmove(img + at, img + at + 1, *size - at - 1);
        (*size)--;
        break;
    case ZERO_ALL: memset(img, 0, *size); break;
    case TEXT:
        *size = strlen("sizes: 5 7 4 3\nloss: softmax\n");
        memcpy(img, "sizes: 5 7 4 3\nloss: softmax\n", *size);
        break;
    case RNG_ZERO:
        for (l = 0; l < 4; l++) mlp__put_u64(img + 56 + 8 * l, 0);
        break;
    case SIZES_MAX:
        for (l = 0; l <= y.L; l++) mlp__put_u64(img + y.sizes + 8 * l, MLP_MAX_DIM);
        break;
    }
    if (c->fix_crc) io_fixture_fix_crc(img, *size);
    mlp_destroy(net);
    return img;
}

static mlp_status load_via_stream(const unsigned char *img, size_t size, mlp_network **out)
{
    FILE *f = tmpfile();
    mlp_status st;
    assert_non_null(f);
    if (size) assert_int_equal(fwrite(img, 1, size, f), size);
    rewind(f);
    st = mlp_load_file(out, f);
    fclose(f);
    return st;
}

static void test_corruptions(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    size_t i, n = sizeof corruptions / sizeof corruptions[0];
    mlp_network *sentinel = (mlp_network *)&n;
    (void)state;
    assert_true(n >= 25);
    path = join(dir, "bad.mlp");
    for (i = 0; i < n; i++) {
        const corruption *c = &corruptions[i];
        size_t size;
        unsigned char *img = corrupt(c, &size);
        mlp_network *out = sentinel;
        mlp_status want, st = mlp_load_buffer(&out, img, size);
        if (st != c->want)
            fail_msg("%s: got %s (%s), want %s", c->name, mlp_status_name(st), mlp_last_error(),
                     mlp_status_name(c->want));
        assert_ptr_equal(out, sentinel); /* OUT untouched on failure */
        assert_true(strlen(mlp_last_error()) > 0);
        st = load_via_stream(img, size, &out);
        want = c->stream == 1 ? MLP_OK : c->stream == 2 ? MLP_ERR_CHECKSUM : c->want;
        if (st != want)
            fail_msg("%s (stream): got %s, want %s", c->name, mlp_status_name(st),
                     mlp_status_name(want));
        if (st == MLP_OK) {
            mlp_destroy(out);
            out = sentinel;
        }
        write_all(path, img, size);
        st = mlp_load(&out, path);
        if (st != c->want)
            fail_msg("%s (path): got %s, want %s", c->name, mlp_status_name(st),
                     mlp_status_name(c->want));
        assert_ptr_equal(out, sentinel);
        free(img);
    }
    free(path);
    io_fixture_rmdir(dir);
}

/* A consistent chain of L layers 1 -> 1 (identity, zero parameters). */
static unsigned char *chain(size_t L, size_t *out_size)
{
    size_t size = 124 + 16 * L + 4 * 2 * L, k, l;
    unsigned char *img = calloc(1, size);
    assert_non_null(img);
    memcpy(img, MLP__FMT_MAGIC, 8);
    mlp__put_u32(img + 8, 1);
    mlp__put_u32(img + 12, 32);
    mlp__put_u64(img + 24, size);
    mlp__put_u32(img + 32, (uint32_t)L);
    mlp__put_u32(img + 44, MLP__FMT_NO_OPTIMIZER);
    mlp__put_u64(img + 56, 1); /* RNG not all zero */
    k = 112;
    for (l = 0; l <= L; l++, k += 8) mlp__put_u64(img + k, 1);
    k += 8 * L; /* identity activations, no dropout: zero bytes */
    k += 4 * 2 * L; /* parameters 0.0f */
    assert_int_equal(k + 4, size);
    io_fixture_fix_crc(img, size);
    *out_size = size;
    return img;
}

/* More layers than the library takes, in an otherwise consistent file. */
static void test_too_many_layers(void **state)
{
    mlp_network *out = NULL;
    size_t size;
    unsigned char *img = chain(4097, &size);
    (void)state;
    assert_int_equal(mlp_load_buffer(&out, img, size), MLP_ERR_TOO_LARGE);
    assert_null(out);
    free(img);
    img = chain(4096, &size); /* the library's limit itself is fine */
    assert_int_equal(mlp_load_buffer(&out, img, size), MLP_OK);
    assert_int_equal(mlp_num_layers(out), 4096);
    mlp_destroy(out);
    free(img);
}

/* Truncation at every byte offset, by buffer, stream and path. */
static void test_truncation_everywhere(void **state)
{
    char *dir = io_fixture_tmpdir(), *path;
    mlp_network *net = io_fixture_net(IO_NET_FULL), *out = NULL;
    size_t size, n;
    unsigned char *img = io_fixture_image(net, &size);
    (void)state;
    path = join(dir, "cut.mlp");
    for (n = 0; n < size; n++) {
        mlp_status st = mlp_load_buffer(&out, img, n);
        if (st != MLP_ERR_TRUNCATED)
            fail_msg("cut at %zu: %s (%s)", n, mlp_status_name(st), mlp_last_error());
        assert_int_equal(load_via_stream(img, n, &out), MLP_ERR_TRUNCATED);
        write_all(path, img, n);
        assert_int_equal(mlp_load(&out, path), MLP_ERR_TRUNCATED);
        assert_null(out);
    }
    assert_int_equal(mlp_load_buffer(&out, img, size), MLP_OK);
    mlp_destroy(out);
    free(img);
    free(path);
    mlp_destroy(net);
    io_fixture_rmdir(dir);
}

/* ---- the golden v1 file ----------------------------------------- */

/* A naive double-precision forward pass, independent of BLAS. */
static double act_ref(mlp_activation a, double z)
{
    switch (a) {
    case MLP_ACT_IDENTITY: return z;
    case MLP_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case MLP_ACT_TANH: return tanh(z);
    case MLP_ACT_RELU: return z > 0 ? z : 0;
    case MLP_ACT_LEAKY_RELU: return z > 0 ? z : 0.01 * z;
    case MLP_ACT_GELU: return 0.5 * z * erfc(-z / sqrt(2.0));
    case MLP_ACT_SOFTPLUS: return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
    default: return NAN;
    }
}

static void forward_ref(const mlp_network *net, const float *x, double *y)
{
    double a[64], z[64];
    size_t l, i, j, n_in = net->sizes[0];
    for (i = 0; i < n_in; i++)
        a[i] = net->in_offset ? ((double)x[i] - net->in_offset[i]) * net->in_scale[i] : x[i];
    for (l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        for (j = 0; j < ly->n_out; j++) {
            double s = net->params[ly->b_off + j];
            for (i = 0; i < ly->n_in; i++) s += (double)net->params[ly->w_off + j * ly->n_in + i] * a[i];
            z[j] = act_ref(ly->act, s);
        }
        memcpy(a, z, ly->n_out * sizeof *a);
    }
    memcpy(y, a, net->sizes[net->n_layers] * sizeof *y);
}

static void test_golden_v1(void **state)
{
    mlp_network *net = NULL;
    size_t size, size2, r, j;
    unsigned char *file = read_all(MLP_TEST_DATA_DIR "/golden_v1.mlp", &size), *again;
    float Y[GOLDEN_ROWS * GOLDEN_OUT];
    double ref[GOLDEN_OUT];
    (void)state;
    assert_int_equal(size, GOLDEN_FILE_SIZE);
    assert_int_equal(mlp__get_u32(file + 8), 1); /* it is a version 1 file */
    assert_int_equal(mlp_load_buffer(&net, file, size), MLP_OK);
    assert_int_equal(mlp_num_layers(net), GOLDEN_LAYERS);
    assert_int_equal(mlp_input_size(net), GOLDEN_IN);
    assert_int_equal(mlp_output_size(net), GOLDEN_OUT);
    assert_int_equal(mlp_num_params(net), GOLDEN_PARAMS);
    assert_int_equal(mlp_get_loss(net), GOLDEN_LOSS);
    assert_true(mlp_has_input_scaling(net));
    assert_true(net->steps == GOLDEN_STEPS && net->epochs_trained == GOLDEN_EPOCHS);
    assert_int_equal(net->opt_kind, GOLDEN_OPT);
    assert_int_equal(net->opt_state_len, GOLDEN_OPT_LEN);
    assert_int_equal(mlp_forward(net, golden_X, GOLDEN_ROWS, Y), MLP_OK);
    for (r = 0; r < GOLDEN_ROWS; r++) {
        forward_ref(net, golden_X + r * GOLDEN_IN, ref);
        for (j = 0; j < GOLDEN_OUT; j++) {
            float want = golden_Y[r * GOLDEN_OUT + j];
            /* BLAS kernels differ between CPUs in the last bits only. */
            assert_true(fabsf(Y[r * GOLDEN_OUT + j] - want) <= 1e-5f * (1.0f + fabsf(want)));
            assert_true(fabs(ref[j] - want) <= 1e-5 * (1.0 + fabs(want)));
        }
    }
    again = io_fixture_image(net, &size2);
    assert_int_equal(size2, size);
    assert_memory_equal(again, file, size);
    free(again);
    free(file);
    mlp_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_answers),
        cmocka_unit_test(test_layout_matches_format_doc),
        cmocka_unit_test(test_roundtrip_buffer),
        cmocka_unit_test(test_roundtrip_keeps_rng_stream),
        cmocka_unit_test(test_variants_agree),
        cmocka_unit_test(test_stream_holds_several_models),
        cmocka_unit_test(test_save_buffer_capacity),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_save_refuses_nonfinite),
        cmocka_unit_test(test_save_into_missing_folder),
        cmocka_unit_test(test_save_disk_full_keeps_target),
        cmocka_unit_test(test_save_over_folder_fails_cleanly),
        cmocka_unit_test(test_save_keeps_mode),
        cmocka_unit_test(test_corruptions),
        cmocka_unit_test(test_too_many_layers),
        cmocka_unit_test(test_truncation_everywhere),
        cmocka_unit_test(test_golden_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
