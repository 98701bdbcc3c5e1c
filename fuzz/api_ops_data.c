/* Data sets loaded from bytes of the program written to files (CSV, IDX
 * raw or gzip), then used on a network whose input size fits. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "data_files.h"

#include <stdio.h>
#include <string.h>

/* The next len bytes of the program (fewer at its end). */
static const uint8_t *api_bytes(api_state *s, size_t *len)
{
    const uint8_t *p = s->p + s->pos;
    if (*len > s->n - s->pos) *len = s->n - s->pos;
    s->pos += *len;
    return p;
}

static void api_keep_dataset(api_state *s, mlp_status st, mlp_dataset *ds,
                             const mlp_dataset *sentinel, const char *call)
{
    api_status(st, call);
    if (st != MLP_OK) {
        if (ds != sentinel) api_fail(call, "wrote *out although it failed");
        return;
    }
    api_check_dataset(ds, call);
    mlp_dataset_destroy(s->ds);
    s->ds = ds;
}

void api_op_csv(api_state *s)
{
    int has_header = (int)api_pick(s, 3) - 1, classes = (int)api_pick(s, 2);
    long label = (long)api_pick(s, 5) - 2;
    size_t len = api_byte(s);
    const uint8_t *p = api_bytes(s, &len);
    mlp_dataset *sentinel = (mlp_dataset *)s, *ds = sentinel;
    char path[320];
    mlp_status st;
    snprintf(path, sizeof path, "%s/d.csv", api_dir());
    if (fz_write_file(path, p, len, 0, 0) != 0) api_fail("write", path);
    st = mlp_dataset_load_csv(&ds, path, has_header, label, classes);
    api_keep_dataset(s, st, ds, sentinel, "mlp_dataset_load_csv");
}

void api_op_idx(api_state *s)
{
    size_t len = api_byte(s);
    const uint8_t *p = api_bytes(s, &len);
    mlp_dataset *sentinel = (mlp_dataset *)s, *ds = sentinel;
    char images[320], labels[320];
    int has_labels;
    mlp_status st;
    snprintf(images, sizeof images, "%s/i.idx", api_dir());
    snprintf(labels, sizeof labels, "%s/l.idx", api_dir());
    if (len && p[0] >= 0xF8) return; /* no bombs here: fuzz_idx has them */
    fz_idx_files(p, len, images, labels, &has_labels);
    st = mlp_dataset_load_idx(&ds, images, has_labels ? labels : NULL);
    api_keep_dataset(s, st, ds, sentinel, "mlp_dataset_load_idx");
}

/* The data set's rows through a network of as many inputs: predictions,
 * fitted input scaling, and evaluation when both have classes. */
void api_op_dataset_use(api_state *s)
{
    int slot, use;
    mlp_network *net = api_net(s, &slot);
    size_t rows;
    const float *F;
    const int32_t *C;
    api_snap sn;
    mlp_status st;
    double loss;
    if (!net || !s->ds || mlp_dataset_cols(s->ds) != mlp_input_size(net)) return;
    rows = mlp_dataset_rows(s->ds);
    if (rows > API_ROWS) rows = API_ROWS;
    F = mlp_dataset_features(s->ds);
    C = mlp_dataset_classes(s->ds);
    memset(s->Y, 0xA5, sizeof s->Y);
    api_expect(mlp_forward(net, F, rows, s->Y), MLP_OK, "mlp_forward on a data set");
    api_finite_out(net, F, rows, s->Y, "mlp_forward on a data set");
    if (C && mlp_get_loss(net) == MLP_LOSS_SOFTMAX_CE) {
        st = mlp_evaluate(net, F, rows, C, &loss, NULL);
        api_status(st, "mlp_evaluate on a data set");
    }
    if ((use = api_use(s, slot)) == API_SKIP) return;
    api_snap_take(net, &sn);
    st = mlp_fit_input_scaling(net, F, rows, (mlp_scaling)api_pick(s, MLP_SCALE_COUNT_));
    api_after(net, &sn, st, api_want(use, 0), "mlp_fit_input_scaling on a data set");
}
