/* Out of memory (R7): the n-th allocation fails, for every n until the
 * call succeeds, in create, save and load: each time an error status
 * (MLP_ERR_NOMEM), nothing leaked, nothing changed, no crash. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "io_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs op with the n-th allocation failing, n = 1, 2, ... until it
 * succeeds; returns how many runs failed (0 if op needs no allocation). */
typedef mlp_status (*op_fn)(void *ctx);

static unsigned long fail_every_allocation(op_fn op, void *ctx, void (*check_failed)(void *ctx))
{
    unsigned long n;
    long live = mlp__alloc_live();
    for (n = 1; n < 100000; n++) {
        mlp_status st;
        mlp__alloc_fail_at(n);
        st = op(ctx);
        mlp__alloc_fail_at(0);
        if (st == MLP_OK) return n - 1;
        if (st != MLP_ERR_NOMEM)
            fail_msg("allocation %lu failing gave %s (%s)", n, mlp_status_name(st), mlp_last_error());
        assert_int_equal(mlp__alloc_live(), live);
        if (check_failed) check_failed(ctx);
    }
    fail_msg("the operation never succeeded");
    return 0;
}

/* ---- create ---- */

typedef struct create_ctx {
    mlp_network *net;
} create_ctx;

static mlp_status op_create(void *p)
{
    static const size_t sizes[] = {6, 9, 5, 2};
    static const mlp_activation acts[] = {MLP_ACT_RELU, MLP_ACT_TANH, MLP_ACT_IDENTITY};
    create_ctx *c = p;
    return mlp_create(&c->net, 3, sizes, acts, 11);
}

static void create_untouched(void *p) { assert_null(((create_ctx *)p)->net); }

static void test_oom_create(void **state)
{
    create_ctx c = {NULL};
    long live = mlp__alloc_live();
    (void)state;
    assert_true(fail_every_allocation(op_create, &c, create_untouched) >= 3);
    assert_non_null(c.net);
    mlp_destroy(c.net);
    assert_int_equal(mlp__alloc_live(), live);
}

/* ---- load, from memory, a stream and a path ---- */

typedef struct load_ctx {
    const unsigned char *img;
    size_t size;
    const char *path;
    int how; /* 0 buffer, 1 stream, 2 path */
    mlp_network *net;
} load_ctx;

static mlp_status op_load(void *p)
{
    load_ctx *c = p;
    mlp_status st;
    FILE *f;
    switch (c->how) {
    case 0: return mlp_load_buffer(&c->net, c->img, c->size);
    case 1:
        f = fopen(c->path, "rb");
        assert_non_null(f);
        st = mlp_load_file(&c->net, f);
        fclose(f);
        return st;
    default: return mlp_load(&c->net, c->path);
    }
}

static void load_untouched(void *p) { assert_null(((load_ctx *)p)->net); }

static void test_oom_load(void **state)
{
    char *dir = io_fixture_tmpdir(), path[4096];
    int kind, how;
    (void)state;
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/m.mlp", dir);
    for (kind = 0; kind < IO_NET_KINDS_; kind++) {
        mlp_network *net = io_fixture_net(kind);
        size_t size;
        unsigned char *img = io_fixture_image(net, &size);
        FILE *f = fopen(path, "wb");
        assert_non_null(img);
        assert_non_null(f);
        assert_int_equal(fwrite(img, 1, size, f), size);
        assert_int_equal(fclose(f), 0);
        for (how = 0; how < 3; how++) {
            load_ctx c;
            long live = mlp__alloc_live();
            c.img = img;
            c.size = size;
            c.path = path;
            c.how = how;
            c.net = NULL;
            /* the network, its arrays, scaling, optimiser state, workspace */
            assert_true(fail_every_allocation(op_load, &c, load_untouched) >= 6);
            assert_non_null(c.net);
            assert_memory_equal(c.net->params, net->params, net->n_params * sizeof(float));
            mlp_destroy(c.net);
            assert_int_equal(mlp__alloc_live(), live);
        }
        free(img);
        mlp_destroy(net);
    }
    io_fixture_rmdir(dir);
}

/* ---- save by path (the target survives), to a stream and to memory ---- */

typedef struct save_ctx {
    const mlp_network *net;
    const char *path;
    const unsigned char *old;
    size_t old_size;
    const char *dir;
} save_ctx;

static mlp_status op_save_path(void *p)
{
    save_ctx *c = p;
    return mlp_save(c->net, c->path);
}

static void target_untouched(void *p)
{
    save_ctx *c = p;
    unsigned char buf[8192];
    FILE *f = fopen(c->path, "rb");
    size_t n;
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, c->old_size);
    assert_memory_equal(buf, c->old, n);
    assert_int_equal(io_fixture_count_entries(c->dir), 1);
}

static mlp_status op_save_buffer(void *p)
{
    save_ctx *c = p;
    unsigned char buf[8192];
    size_t n;
    return mlp_save_buffer(c->net, buf, sizeof buf, &n);
}

static mlp_status op_save_file(void *p)
{
    save_ctx *c = p;
    mlp_status st;
    FILE *f = tmpfile();
    assert_non_null(f);
    st = mlp_save_file(c->net, f);
    fclose(f);
    return st;
}

static void test_oom_save(void **state)
{
    char *dir = io_fixture_tmpdir(), path[4096];
    mlp_network *old = io_fixture_net(IO_NET_TINY), *net = io_fixture_net(IO_NET_FULL);
    save_ctx c;
    size_t size;
    unsigned char *img;
    (void)state;
    snprintf(path, sizeof path, "%s/m.mlp", dir);
    assert_int_equal(mlp_save(old, path), MLP_OK);
    img = io_fixture_image(old, &size);
    c.net = net;
    c.path = path;
    c.old = img;
    c.old_size = size;
    c.dir = dir;
    assert_true(fail_every_allocation(op_save_path, &c, target_untouched) >= 1);
    assert_int_equal(io_fixture_count_entries(dir), 1);
    /* writing to memory or a stream needs no allocation at all */
    assert_int_equal(fail_every_allocation(op_save_buffer, &c, NULL), 0);
    assert_int_equal(fail_every_allocation(op_save_file, &c, NULL), 0);
    free(img);
    mlp_destroy(old);
    mlp_destroy(net);
    io_fixture_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_create),
        cmocka_unit_test(test_oom_load),
        cmocka_unit_test(test_oom_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
