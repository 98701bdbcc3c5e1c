/* The stateful API fuzzer (fuzz/fuzz_api.c): shared state and the pieces
 * it is made of. An input is a program: each op byte picks a public call,
 * the bytes after it pick its handles and arguments (api_program.c). The
 * calls run on a small pool of handles, and every result is checked
 * against include/mlp.h (api_check.c); a broken promise aborts. */
#ifndef MLP_FUZZ_API_H
#define MLP_FUZZ_API_H

#include "mlp.h"

#include <stddef.h>
#include <stdint.h>

/* ---- The call rule ---------------------------------------------------
 * API_CALL_RULE 1 (the default): the fuzzer makes every call the rule of
 * include/mlp.h refuses (from a training callback, on a network with a
 * trainer, a workspace of another shape) and asserts MLP_ERR_BUSY (or
 * MLP_ERR_MISMATCH) with nothing changed, deferred destruction and
 * detached trainers. 0 only to fuzz a library from before the rule: the
 * fuzzer then avoids those sequences (they corrupted memory there). */
#ifndef API_CALL_RULE
#define API_CALL_RULE 1
#endif
#define API_ERR_BUSY MLP_ERR_BUSY

/* A cap on the epochs the fuzzer sets (0: none). mlp_train once reserved
 * its per-epoch history for every planned epoch up front (1e9 epochs asked
 * for 104 GB); tests/corpus_api/crash-epochs-history checks it no longer
 * does. */
#ifndef API_EPOCHS_CAP
#define API_EPOCHS_CAP 0.0
#endif

#define API_NETS 3
#define API_TRAINERS 2
#define API_WS 2
#define API_MAX_OPS 48    /* calls per input, callbacks included */
#define API_MAX_DEPTH 2   /* training nested inside a callback, at most */
#define API_MAX_REPORTS 12 /* callback calls per input; then it stops training */
#define API_ROWS 32       /* rows of generated data */
#define API_WIDTH 16      /* widest layer the fuzzer makes */
#define API_BUF (API_ROWS * API_WIDTH)

typedef struct api_ws {
    mlp_workspace *h;
    size_t n_layers, sizes[5], max_batch;
} api_ws;

typedef struct api_state {
    const uint8_t *p; /* the program */
    size_t n, pos, ops;
    mlp_network *net[API_NETS];
    mlp_trainer *tr[API_TRAINERS];
    int tr_net[API_TRAINERS]; /* net slot of each trainer, -1 once detached */
    int tr_running[API_TRAINERS], net_busy[API_NETS];
    api_ws ws[API_WS];
    mlp_dataset *ds;
    int depth, reports;
    /* Scratch from here on: not cleared between inputs. */
    float X[API_BUF], Y[API_BUF];
    union {
        float f[API_BUF];
        int32_t i[API_BUF];
    } T; /* targets: floats, or int32 labels for softmax cross-entropy */
    unsigned char blob[65536];               /* save/load images */
    char iobuf[8192];                        /* the save stream's buffer */
} api_state;

/* api_program.c: reading the program */
unsigned api_byte(api_state *s);
size_t api_pick(api_state *s, size_t n); /* 0..n-1 */
float api_float(api_state *s);           /* small values, sometimes NaN/Inf/huge */
double api_double(api_state *s);
size_t api_size(api_state *s);           /* small, sometimes 0 or huge */
void api_fill(api_state *s, float *x, size_t n);
void api_targets(api_state *s, const mlp_network *net, size_t rows);
int api_run(api_state *s, size_t count); /* runs up to count ops; 0 at the end */
const char *api_dir(void);

/* api_check.c: the header's promises */
void api_fail(const char *what, const char *detail);
void api_status(mlp_status st, const char *call);
void api_expect(mlp_status st, mlp_status want, const char *call);
void api_untouched(const void *p, size_t bytes, unsigned char fill, const char *call);
typedef struct api_snap {
    float *params;
    size_t n_params, cap;
    mlp_loss loss;
    float l2, dropout[5], off[API_WIDTH], scale[API_WIDTH];
    int scaled;
} api_snap;
void api_snap_take(const mlp_network *net, api_snap *sn);
void api_snap_same(const mlp_network *net, api_snap *sn, const char *call);
void api_snap_free(api_snap *sn);
int api_finite(const float *x, size_t n);
int api_tame(const float *x, size_t n); /* all finite, |x| <= 1e3 */
void api_finite_out(mlp_network *net, const float *X, size_t rows, const float *Y,
                    const char *call);
void api_check_dataset(const mlp_dataset *ds, const char *call);

/* The ops: each reads its arguments and makes one call (or a few). */
typedef void (*api_op)(api_state *s);
void api_op_create(api_state *s);
void api_op_clone(api_state *s);
void api_op_destroy(api_state *s);
void api_op_setter(api_state *s);
void api_op_set_params(api_state *s);
void api_op_scaling(api_state *s);
void api_op_reserve(api_state *s);
void api_op_forward(api_state *s);
void api_op_workspace(api_state *s);
void api_op_forward_ws(api_state *s);
void api_op_loss_grad(api_state *s);
void api_op_evaluate(api_state *s);
void api_op_gradcheck(api_state *s);
void api_op_getters(api_state *s);
void api_op_trainer_create(api_state *s);
void api_op_trainer_destroy(api_state *s);
void api_op_trainer_set(api_state *s);
void api_op_trainer_get(api_state *s);
void api_op_step(api_state *s);
void api_op_train(api_state *s);
void api_op_save_buffer(api_state *s);
void api_op_save_stream(api_state *s);
void api_op_save_path(api_state *s);
void api_op_csv(api_state *s);
void api_op_idx(api_state *s);
void api_op_dataset_use(api_state *s);

/* Helpers shared by the ops */
mlp_network *api_net(api_state *s, int *slot); /* a live network or NULL (then skip) */
int api_net_trainer(const api_state *s, int slot); /* its live trainer's slot, or -1 */
int api_net_running(const api_state *s, int slot);
/* Whether a call that changes network `slot` may go ahead: API_GO; or the
 * network is in training and the call must be skipped (API_SKIP, rule
 * off) or must be refused with MLP_ERR_BUSY (API_REFUSED, rule on). */
enum { API_GO = 0, API_SKIP = 1, API_REFUSED = 2 };
int api_use(const api_state *s, int slot);
/* After a call that changes net: the status is known; refused means BUSY;
 * any failure leaves the network as it was. Frees the snapshot. */
#define API_ANY (-1)      /* any known status */
#define API_ANY_FAIL (-2) /* any known status but MLP_OK */
void api_after(mlp_network *net, api_snap *sn, mlp_status st, int want, const char *call);
/* What a call on a network must return: bad is 0 (fine arguments: MLP_OK),
 * a status, API_ANY or API_ANY_FAIL; a refused call gives MLP_ERR_BUSY
 * (or any failure when its arguments are bad too). */
int api_want(int use, int bad);
void api_check(mlp_status st, int want, const char *call);
size_t api_ws_capacity(api_state *s); /* bounded for the allocator */
/* Whether a save succeeded as it must (or refused a non-finite value
 * rightly: then 0). */
int api_saved(const mlp_network *net, mlp_status st, const char *call);
void api_same_net(const mlp_network *a, mlp_network *b, const char *call); /* destroys b */
void api_cleanup(api_state *s);
void api_callback_install(mlp_trainer *tr, api_state *s);

#endif
