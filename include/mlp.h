/*
 * libmlp: multilayer perceptrons on OpenBLAS.
 *
 * This header is the whole contract: what is not declared here is not API.
 * It compiles as C99 (-pedantic) and as C++.
 *
 * Conventions, for every function below unless it says otherwise:
 * - Fallible functions return an mlp_status; MLP_OK (0) is success. On
 *   failure nothing the caller owns has changed, no memory is leaked, and
 *   mlp_last_error() describes the failure. The library never aborts, exits
 *   or prints.
 * - OUT parameters are written only on success.
 * - Matrices are row-major float32: a batch X is (batch x n_in), a weight
 *   matrix W is (n_out x n_in) like PyTorch's Linear.weight.
 * - Layers are numbered from 0: layer i maps sizes[i] inputs to sizes[i+1]
 *   outputs (the mathematics numbers them 1..L).
 * - Subnormal floats (magnitude below FLT_MIN, 1.2e-38) count as zero in the
 *   library's arithmetic: the calls that compute (mlp_forward, mlp_forward_ws,
 *   mlp_evaluate, mlp_loss_grad*, mlp_gradcheck, mlp_trainer_step, mlp_train*)
 *   set flush-to-zero and denormals-are-zero on the calling thread (x86 MXCSR,
 *   AArch64 FPCR.FZ) and give the caller its own mode back on return and
 *   while the training callback runs; exception flags raised inside stay
 *   raised. Saturated training makes such values, and on x86 each costs a
 *   microcode assist of about a hundred cycles.
 * - Threads: distinct handles are independent and may be used from distinct
 *   threads at once. One handle is used by one thread at a time, except where
 *   a function takes it as `const`, which any number of threads may call
 *   concurrently (e.g. mlp_forward_ws with one workspace per thread).
 *
 * Calls on a handle in use. A network is in use while one of its changing
 * calls runs and while a trainer trains it (mlp_train, mlp_trainer_step);
 * a trainer while it trains. Such a call returns MLP_ERR_BUSY and changes
 * nothing, so a second thread's call is refused instead of racing (a
 * reading call racing with a changing one is not detected: the one-thread
 * rule above stays). From the training callback, on the network being
 * trained and its trainer, these are allowed:
 * - every getter and const function: the accessors, mlp_forward_ws with
 *   the caller's own workspace, mlp_clone, mlp_graph_*, mlp_save*,
 *   mlp_trainer_get, mlp_trainer_history, mlp_penalty;
 * - mlp_forward and mlp_evaluate (they use the network's own workspace,
 *   which is idle while the callback runs);
 * - mlp_trainer_set of the hyperparameters that take effect at the next
 *   step without resizing anything: the learning rate, momentum, beta1,
 *   beta2, epsilon, weight decay, rho, gamma, min_lr, clip norm, min_delta,
 *   tol, and the rprop increase, decrease, delta_min and delta_max.
 * Everything else on them (setters, mlp_reserve, mlp_init_params,
 * mlp_loss_grad, mlp_gradcheck, mlp_trainer_step, a nested mlp_train,
 * another mlp_trainer_create, structural options such as the optimizer,
 * batch size, epochs or schedule) returns MLP_ERR_BUSY. mlp_destroy and
 * mlp_trainer_destroy of the handles in training are deferred until
 * mlp_train returns. Writing through mlp_params() during training is not
 * detected and is the caller's responsibility.
 */
#ifndef MLP_H
#define MLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Version and export                                                 */
/* ------------------------------------------------------------------ */

#define MLP_VERSION_MAJOR 0
#define MLP_VERSION_MINOR 1
#define MLP_VERSION_PATCH 0
#define MLP_VERSION_NUMBER \
    (MLP_VERSION_MAJOR * 10000 + MLP_VERSION_MINOR * 100 + MLP_VERSION_PATCH)
#define MLP__STR2(x) #x
#define MLP__STR(x) MLP__STR2(x)
#define MLP_VERSION_STRING \
    MLP__STR(MLP_VERSION_MAJOR) "." MLP__STR(MLP_VERSION_MINOR) "." MLP__STR(MLP_VERSION_PATCH)

#if defined(MLP_BUILDING) && defined(__GNUC__)
#define MLP_API __attribute__((visibility("default")))
#else
#define MLP_API
#endif

/* The library's version as "MAJOR.MINOR.PATCH" (static storage). */
MLP_API const char *mlp_version(void);
/* MLP_VERSION_NUMBER of the library actually loaded. */
MLP_API unsigned mlp_version_number(void);

/* ------------------------------------------------------------------ */
/* Status codes                                                       */
/* ------------------------------------------------------------------ */

/* One list generates the enum and mlp_strerror. Values are only appended. */
#define MLP_STATUS_LIST(X)                                                          \
    X(MLP_OK, 0, "success")                                                         \
    X(MLP_ERR_NULL, 1, "a required pointer argument is NULL")                       \
    X(MLP_ERR_ARGUMENT, 2, "an argument is outside its valid range")                \
    X(MLP_ERR_SIZE, 3, "a size is zero, exceeds the 32-bit BLAS limit, or overflows") \
    X(MLP_ERR_NOMEM, 4, "out of memory")                                            \
    X(MLP_ERR_LAYER, 5, "layer index out of range")                                 \
    X(MLP_ERR_ACTIVATION, 6, "unknown activation")                                  \
    X(MLP_ERR_LOSS, 7, "unknown loss, or a loss that does not fit the output layer") \
    X(MLP_ERR_LABEL, 8, "a class index is out of range")                            \
    X(MLP_ERR_NONFINITE, 9, "NaN or infinity in the input")                         \
    X(MLP_ERR_DIVERGED, 10, "training diverged: the loss or a weight became non-finite") \
    X(MLP_ERR_IO, 11, "an input/output operation failed")                           \
    X(MLP_ERR_FORMAT, 12, "malformed data file")                                    \
    X(MLP_ERR_BAD_MAGIC, 13, "not a libmlp model file (bad magic number)")          \
    X(MLP_ERR_VERSION, 14, "unsupported model file version")                        \
    X(MLP_ERR_TRUNCATED, 15, "model file is truncated")                             \
    X(MLP_ERR_CORRUPT, 16, "model file is corrupt")                                 \
    X(MLP_ERR_CHECKSUM, 17, "model file checksum mismatch")                         \
    X(MLP_ERR_TOO_LARGE, 18, "model or data too large")                             \
    X(MLP_ERR_BUFFER, 19, "output buffer too small")                                \
    X(MLP_ERR_OPTION, 20, "unknown option, or a value it does not take")           \
    X(MLP_ERR_MISMATCH, 21, "shapes do not match the network")                     \
    X(MLP_ERR_DEGENERATE, 22, "gradients are all zero: the check proves nothing")    \
    X(MLP_ERR_BUSY, 23, "the network or trainer is in use (training, or another thread)")

#define MLP__STATUS_ENUM(name, value, text) name = value,
typedef enum mlp_status { MLP_STATUS_LIST(MLP__STATUS_ENUM) MLP_STATUS_END_ } mlp_status;
#undef MLP__STATUS_ENUM

/* A static description of a status; never NULL (unknown codes say so). */
MLP_API const char *mlp_strerror(mlp_status status);
/* The name of a status ("MLP_ERR_NOMEM"); never NULL. */
MLP_API const char *mlp_status_name(mlp_status status);
/* Details of the calling thread's most recent failure (like dlerror()):
 * e.g. "layer 2: weights need 512 floats, got 511". Valid until the next
 * libmlp call in the same thread; "" if none. Thread-local storage. */
MLP_API const char *mlp_last_error(void);
/* Records message (copied, truncated to 511 bytes) as the calling thread's
 * mlp_last_error() and returns status: for code that plugs into libmlp's
 * hooks (such as libmlp_mpi behind mlp_reducer), so that its failures are
 * described like the library's own. */
MLP_API mlp_status mlp_set_last_error(mlp_status status, const char *message);

/* ------------------------------------------------------------------ */
/* Activations, losses, initialisation                                */
/* ------------------------------------------------------------------ */

typedef enum mlp_activation {
    MLP_ACT_IDENTITY = 0,
    MLP_ACT_SIGMOID = 1,
    MLP_ACT_TANH = 2,
    MLP_ACT_RELU = 3,
    MLP_ACT_LEAKY_RELU = 4, /* slope 0.01 below zero */
    MLP_ACT_GELU = 5,       /* exact: x * Phi(x), Phi the normal CDF */
    MLP_ACT_SOFTPLUS = 6,   /* log(1 + e^x) */
    MLP_ACT_COUNT_
} mlp_activation;

typedef enum mlp_loss {
    MLP_LOSS_MSE = 0,         /* 1/2 |o - y|^2, y: batch x n_out floats */
    MLP_LOSS_SOFTMAX_CE = 1,  /* -log softmax(o)_y, y: batch int32 class indices */
    MLP_LOSS_SIGMOID_CE = 2,  /* sum_k softplus(o_k) - y_k o_k, y: batch x n_out floats */
    MLP_LOSS_COUNT_
} mlp_loss;

typedef enum mlp_init {
    MLP_INIT_AUTO = 0, /* He normal for relu, leaky relu, gelu; Glorot uniform otherwise */
    MLP_INIT_GLOROT_UNIFORM = 1,
    MLP_INIT_GLOROT_NORMAL = 2,
    MLP_INIT_HE_UNIFORM = 3,
    MLP_INIT_HE_NORMAL = 4,
    MLP_INIT_COUNT_
} mlp_init;

/* Names: "identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu",
 * "softplus"; "mse", "softmax_cross_entropy", "sigmoid_cross_entropy".
 * The name functions return static strings, NULL for unknown values. */
MLP_API const char *mlp_activation_name(mlp_activation act);
MLP_API mlp_status mlp_activation_parse(const char *name, mlp_activation *out);
MLP_API const char *mlp_loss_name(mlp_loss loss);
MLP_API mlp_status mlp_loss_parse(const char *name, mlp_loss *out);

/* ------------------------------------------------------------------ */
/* The network                                                        */
/* ------------------------------------------------------------------ */

typedef struct mlp_network mlp_network;

/* The largest dimension the library accepts: OpenBLAS takes 32-bit ints. */
#define MLP_MAX_DIM ((size_t)2147483647)

/* Creates a network of n_layers weight layers. sizes holds n_layers + 1
 * entries (input size first); acts holds one activation per layer. The
 * parameters are initialised with MLP_INIT_AUTO from the handle's RNG,
 * seeded with seed. The loss defaults to MLP_LOSS_MSE, l2 to 0, dropout to 0.
 * A workspace for batches of up to 64 rows is allocated (mlp_reserve grows
 * it). *out receives the handle, owned by the caller (mlp_destroy). */
MLP_API mlp_status mlp_create(mlp_network **out, size_t n_layers, const size_t *sizes,
                              const mlp_activation *acts, uint64_t seed);
/* Frees everything the handle owns. NULL is a no-op. */
MLP_API void mlp_destroy(mlp_network *net);
/* A deep copy (parameters, settings, RNG state, training state). */
MLP_API mlp_status mlp_clone(const mlp_network *net, mlp_network **out);

/* Re-initialises every weight (biases to 0) and reseeds the handle's RNG. */
MLP_API mlp_status mlp_init_params(mlp_network *net, mlp_init scheme, uint64_t seed);

/* Grows the network's own workspace to hold batches of max_batch rows.
 * Batches larger than the workspace are processed in chunks, so this is a
 * speed knob, never a limit. mlp_forward and mlp_loss_grad allocate nothing. */
MLP_API mlp_status mlp_reserve(mlp_network *net, size_t max_batch);
MLP_API size_t mlp_capacity(const mlp_network *net);

/* Accessors. Out-of-range indices give 0 (or MLP_ACT_COUNT_). */
MLP_API size_t mlp_num_layers(const mlp_network *net);
MLP_API size_t mlp_layer_size(const mlp_network *net, size_t i); /* i in 0..n_layers */
MLP_API size_t mlp_input_size(const mlp_network *net);
MLP_API size_t mlp_output_size(const mlp_network *net);
MLP_API mlp_activation mlp_layer_activation(const mlp_network *net, size_t layer);
MLP_API size_t mlp_num_params(const mlp_network *net);

/* Copy one layer's weights W (n_out x n_in, row-major; len == n_out * n_in)
 * or bias b (len == n_out) out of or into the network. */
MLP_API mlp_status mlp_get_weights(const mlp_network *net, size_t layer, float *W, size_t len);
MLP_API mlp_status mlp_set_weights(mlp_network *net, size_t layer, const float *W, size_t len);
MLP_API mlp_status mlp_get_bias(const mlp_network *net, size_t layer, float *b, size_t len);
MLP_API mlp_status mlp_set_bias(mlp_network *net, size_t layer, const float *b, size_t len);

/* The flat parameter and gradient arrays, mlp_num_params(net) floats each,
 * owned by the network and valid until mlp_destroy. Layout: for each layer
 * in order, W (row-major) then b. Writing through mlp_params() changes the
 * network; mlp_grads() holds the gradient of the last mlp_loss_grad (after
 * a trainer step it is scratch: plain SGD fuses its update into the
 * backward pass and never writes the whole gradient). */
MLP_API float *mlp_params(mlp_network *net);
MLP_API const float *mlp_params_const(const mlp_network *net);
MLP_API float *mlp_grads(mlp_network *net);
/* Offsets (in floats) of layer's W and b inside the flat arrays. */
MLP_API size_t mlp_weights_offset(const mlp_network *net, size_t layer);
MLP_API size_t mlp_bias_offset(const mlp_network *net, size_t layer);

/* Settings carried by the network (and saved with it). */
MLP_API mlp_status mlp_set_loss(mlp_network *net, mlp_loss loss);
MLP_API mlp_loss mlp_get_loss(const mlp_network *net);
/* lambda >= 0 in J = L + lambda/2 * sum ||W||_F^2 (biases not penalised). */
MLP_API mlp_status mlp_set_l2(mlp_network *net, float lambda);
MLP_API float mlp_get_l2(const mlp_network *net);
/* Inverted dropout on the inputs of layer `layer` (0 = on x itself), with
 * drop probability p in [0, 1). Active only inside the trainer. The masks
 * draw nothing from the handle's RNG: each keep/drop decision is a hash of
 * the seed, the step count, the layer, the row's index in the batch and
 * the column, so they are reproducible from the seed and continue exactly
 * after a save and load (docs/RANDOM.md). */
MLP_API mlp_status mlp_set_dropout(mlp_network *net, size_t layer, float p);
MLP_API float mlp_get_dropout(const mlp_network *net, size_t layer);
/* Input scaling x' = (x - offset) * scale, per input feature, applied by
 * every forward pass, so that a saved model predicts on raw inputs.
 * offset and scale hold mlp_input_size(net) floats each; passing NULL for
 * both removes the scaling. mlp_get_input_scaling fails with
 * MLP_ERR_ARGUMENT when none is set. */
MLP_API mlp_status mlp_set_input_scaling(mlp_network *net, const float *offset, const float *scale);
MLP_API mlp_status mlp_get_input_scaling(const mlp_network *net, float *offset, float *scale);
MLP_API int mlp_has_input_scaling(const mlp_network *net);

/* ------------------------------------------------------------------ */
/* Forward, loss and backward                                         */
/* ------------------------------------------------------------------ */

/* Y (batch x n_out) = the network's output for X (batch x n_in). Any batch
 * size works. Uses the network's own workspace: one thread at a time. One
 * sgemm per layer (sgemv for one row). NaN in X propagates to Y. */
MLP_API mlp_status mlp_forward(mlp_network *net, const float *X, size_t batch, float *Y);

/* A caller-owned inference workspace, so that several threads can run
 * inference on one shared network: one workspace per thread. */
typedef struct mlp_workspace mlp_workspace;
MLP_API mlp_status mlp_workspace_create(const mlp_network *net, size_t max_batch,
                                        mlp_workspace **out);
MLP_API void mlp_workspace_destroy(mlp_workspace *ws);
/* As mlp_forward, thread-safe for distinct workspaces. The workspace must
 * come from a network of the same sizes (else MLP_ERR_MISMATCH). */
MLP_API mlp_status mlp_forward_ws(const mlp_network *net, mlp_workspace *ws, const float *X,
                                  size_t batch, float *Y);

/* Targets, everywhere below: `targets` points to `batch` int32 class
 * indices in [0, n_out) for MLP_LOSS_SOFTMAX_CE, and to batch x n_out floats
 * for MLP_LOSS_MSE and MLP_LOSS_SIGMOID_CE (y in [0, 1] for the latter). */

/* Computes J = mean loss + l2/2 * sum ||W||^2 with the network's loss and l2,
 * writes it to *J (may be NULL) and fills mlp_grads(net) with dJ/dparams by
 * error-term backpropagation. NaN or Inf in X or targets: MLP_ERR_NONFINITE.
 * Allocates nothing. A batch that fits the workspace (mlp_capacity) runs in
 * one pass, so its result does not depend on how large the workspace is; a
 * larger batch is summed in chunks of the workspace's rows, which may
 * change the last bits against one pass. */
MLP_API mlp_status mlp_loss_grad(mlp_network *net, const float *X, size_t batch,
                                 const void *targets, double *J);
/* As mlp_loss_grad with per-row weights (batch floats, finite, >= 0, not
 * all 0; NULL = all ones): J = sum w_i l_i / sum w_i + l2/2 * sum ||W||^2. */
MLP_API mlp_status mlp_loss_grad_weighted(mlp_network *net, const float *X, size_t batch,
                                          const void *targets, const float *weights, double *J);

/* The penalty l2/2 * sum ||W||^2 alone. */
MLP_API double mlp_penalty(const mlp_network *net);

/* Mean loss L (without the penalty) and accuracy over n rows. Accuracy:
 * argmax == class for softmax CE; every output thresholded at 0 matching
 * y >= 0.5 for sigmoid CE; NaN for mse. Either output may be NULL. */
MLP_API mlp_status mlp_evaluate(mlp_network *net, const float *X, size_t n, const void *targets,
                                double *loss, double *accuracy);

/* ------------------------------------------------------------------ */
/* Gradient check                                                     */
/* ------------------------------------------------------------------ */

/* One parameter block: a layer's W or its b. */
typedef struct mlp_gradcheck_block {
    double error;        /* ||g - fd|| / max(||g||, ||fd||) over the checked entries */
    double grad_norm;    /* ||g|| (analytic, over the checked entries) */
    double fd_norm;      /* ||fd|| (central differences) */
    size_t worst_index;  /* flat index inside the block of the largest |g - fd| */
    double worst_grad;   /* g and fd at worst_index */
    double worst_fd;
    size_t checked;      /* entries compared */
    size_t skipped;      /* entries skipped because a ReLU-family kink was crossed */
} mlp_gradcheck_block;

/* Compares mlp_loss_grad's gradient (the float32 backward pass) with
 * central differences of J (for the network's loss and l2) evaluated in
 * double precision over the float parameters, so that float32 rounding in
 * J does not swamp small gradients. Step eps (eps <= 0 picks 1e-3); a step
 * that moves any ReLU-family pre-activation across zero shrinks tenfold, up
 * to three times, and the entry is skipped and counted if it still does.
 * blocks receives 2 * n_layers entries: W(0), b(0), W(1), b(1), ...
 * max_per_block > 0 checks that many entries per block, drawn at random
 * (with replacement) from seed; 0 checks every entry. If every checked
 * gradient of a block is zero on both sides (or every entry was skipped),
 * returns MLP_ERR_DEGENERATE with blocks still filled.
 * The parameters are left exactly as they were. */
MLP_API mlp_status mlp_gradcheck(mlp_network *net, const float *X, size_t batch, const void *targets,
                                 double eps, size_t max_per_block, uint64_t seed,
                                 mlp_gradcheck_block *blocks);

/* ------------------------------------------------------------------ */
/* The computation graph                                              */
/* ------------------------------------------------------------------ */

/* Writes the forward and backward graph as Graphviz DOT text (x, z(l),
 * a(l), W(l), b(l), L, s, J, and the error terms δ(l) flowing back, layers
 * numbered 1..L). The text is UTF-8 (δ, λ, Σ, ∂ in labels).
 * mlp_graph_dot writes at most cap bytes including the terminating NUL into
 * buf and sets *needed to the full size (NUL included); a too-small cap gives
 * MLP_ERR_BUFFER (buf may be NULL with cap 0 to ask for the size). */
MLP_API mlp_status mlp_graph_dot(const mlp_network *net, char *buf, size_t cap, size_t *needed);
/* The same text to a stream the caller owns (never closed here). */
MLP_API mlp_status mlp_graph_write(const mlp_network *net, FILE *f);

/* ------------------------------------------------------------------ */
/* BLAS threads (process-wide: OpenBLAS keeps one thread pool)        */
/* ------------------------------------------------------------------ */

/* The thread count n is also that of training's element-wise work (bias
 * and activation, error terms, dropout, the batch gather, the optimiser's
 * update, finiteness checks): it runs on OpenBLAS's own n - 1 workers
 * beside the caller, between BLAS calls (where OpenBLAS cannot take it, as
 * with another BLAS, a trainer starts n - 1 helper threads of its own when
 * it first trains at n, which also run only between BLAS calls), so
 * training never runs more than n threads at once. That
 * work is split by rows, columns or parameter ranges, with no sum
 * reordered: it gives the same bits at every thread count. OpenBLAS's
 * products do not (0.3.21 rounds differently at 1 and 2 threads), so
 * training is bit-reproducible at a fixed thread count, and runs at
 * different thread counts agree to rounding only. */
MLP_API void mlp_set_num_threads(int n);
MLP_API int mlp_get_num_threads(void);
/* OpenBLAS's build configuration string (static storage). */
MLP_API const char *mlp_blas_config(void);
/* When OpenBLAS runs its SSE kernels on a CPU with AVX2 or AVX-512 (a
 * DYNAMIC_ARCH build older than the CPU falls back to "Prescott", at a
 * third of the speed or less), the value of the environment variable
 * OPENBLAS_CORETYPE under which it would use the CPU's vector units:
 * "SkylakeX" or "Haswell" (static storage). NULL when OpenBLAS's choice
 * fits the CPU, or off x86. OpenBLAS reads the variable when it is loaded,
 * so it must be set before the process starts; `mlp --version` and
 * `python3 -m mlp` show this hint. */
MLP_API const char *mlp_blas_coretype_hint(void);

/* ------------------------------------------------------------------ */
/* Training                                                           */
/* ------------------------------------------------------------------ */

typedef enum mlp_optimizer {
    MLP_OPT_SGD = 0,
    MLP_OPT_MOMENTUM = 1,
    MLP_OPT_NESTEROV = 2,
    MLP_OPT_ADAM = 3,
    MLP_OPT_ADAMW = 4, /* decoupled weight decay, distinct from l2; weights only, not biases */
    MLP_OPT_RMSPROP = 5,
    /* Full-batch optimisers: mlp_train runs one iteration per epoch over the
     * whole training set (batch size, shuffling, learning rate, schedule and
     * clipping do not apply; mlp_trainer_step takes its batch as the full
     * batch). L-BFGS: the two-loop recursion with the last 10 (s, y) pairs
     * and a strong-Wolfe line search (c1 1e-4, c2 0.9), stopping as
     * scikit-learn's solver="lbfgs" does: after `epochs` iterations, after
     * max_fun evaluations of J, when max |dJ/dp| <= tol, or when J falls by
     * less than 2.2e-9 relative. Its history lives in the trainer, not in the
     * network: it restarts at each mlp_train call, so a resumed L-BFGS run
     * rebuilds its curvature pairs (a model file holds no L-BFGS state).
     * iRPROP- (FANN's default): per-parameter step sizes, grown by
     * rprop_increase when the gradient keeps its sign and shrunk by
     * rprop_decrease when it flips (the gradient is then forgotten), within
     * [rprop_delta_min, rprop_delta_max], starting at rprop_delta_init; each
     * parameter moves by -sign(g) * step. Its state (steps, then previous
     * gradients) lives in the network and is saved with it, so training
     * resumes exactly. */
    MLP_OPT_LBFGS = 6,
    MLP_OPT_IRPROP = 7,
    MLP_OPT_COUNT_
} mlp_optimizer;

typedef enum mlp_schedule {
    MLP_SCHED_CONSTANT = 0,
    MLP_SCHED_STEP = 1,   /* lr * gamma^(epoch / step_epochs) */
    MLP_SCHED_COSINE = 2, /* linear warm-up, then cosine to min_lr */
    MLP_SCHED_COUNT_
} mlp_schedule;
/* Schedules count the epochs and steps of the current mlp_train call (the
 * cosine spans its planned steps); mlp_trainer_step continues from there. */

/* Trainer options, set and read as doubles (enums and counts included).
 * mlp_option_name and mlp_option_info (below) give each one's name, default
 * and valid range. */
typedef enum mlp_option {
    MLP_OPTION_OPTIMIZER = 0,           /* mlp_optimizer; default Adam (see mlp_trainer_create) */
    MLP_OPTION_LEARNING_RATE = 1,       /* default 1e-3 */
    MLP_OPTION_MOMENTUM = 2,            /* momentum and Nesterov; default 0.9 */
    MLP_OPTION_BETA1 = 3,               /* Adam, AdamW; default 0.9 */
    MLP_OPTION_BETA2 = 4,               /* Adam, AdamW; default 0.999 */
    MLP_OPTION_EPSILON = 5,             /* Adam, AdamW, RMSprop; default 1e-8 */
    MLP_OPTION_WEIGHT_DECAY = 6,        /* AdamW decoupled decay; default 0.01 */
    MLP_OPTION_RHO = 7,                 /* RMSprop decay; default 0.99 */
    MLP_OPTION_SCHEDULE = 8,            /* mlp_schedule; default constant */
    MLP_OPTION_WARMUP_STEPS = 9,        /* cosine warm-up, in steps; default 0 */
    MLP_OPTION_STEP_EPOCHS = 10,        /* step decay period; default 10 */
    MLP_OPTION_GAMMA = 11,              /* step decay factor; default 0.1 */
    MLP_OPTION_MIN_LR = 12,             /* cosine floor; default 0 */
    MLP_OPTION_CLIP_NORM = 13,          /* global-norm clipping; 0 = off (default) */
    MLP_OPTION_BATCH_SIZE = 14,         /* default 128 */
    MLP_OPTION_EPOCHS = 15,             /* default 10 */
    MLP_OPTION_VALIDATION_FRACTION = 16, /* held out of X when no validation set is given; default 0 */
    MLP_OPTION_PATIENCE = 17,           /* early stopping after this many epochs without improvement; 0 = off */
    MLP_OPTION_MIN_DELTA = 18,          /* improvement that counts; default 0 */
    MLP_OPTION_SHUFFLE = 19,            /* 1 = shuffle each epoch (default), 0 = keep order */
    MLP_OPTION_CALLBACK_EVERY_BATCH = 20, /* 1 = also call the callback after each batch */
    MLP_OPTION_TOL = 21,                /* L-BFGS: stop when max |dJ/dp| <= tol; default 1e-4 */
    MLP_OPTION_MAX_FUN = 22,            /* L-BFGS: most evaluations of J per mlp_train; default 15000 */
    MLP_OPTION_RPROP_INCREASE = 23,     /* iRPROP-: step growth; default 1.2 */
    MLP_OPTION_RPROP_DECREASE = 24,     /* iRPROP-: step shrink; default 0.5 */
    MLP_OPTION_RPROP_DELTA_MIN = 25,    /* iRPROP-: smallest step; default 0 */
    MLP_OPTION_RPROP_DELTA_MAX = 26,    /* iRPROP-: largest step; default 50 */
    MLP_OPTION_RPROP_DELTA_INIT = 27,   /* iRPROP-: first step; default 0.1 */
    MLP_OPTION_COUNT_
} mlp_option;

typedef struct mlp_trainer mlp_trainer;

/* What the callback sees. Fields are only ever appended. */
typedef struct mlp_progress {
    size_t epoch;          /* 1-based */
    size_t epochs;         /* planned */
    size_t batch;          /* 1-based batch within the epoch; == batches at epoch end */
    size_t batches;
    size_t step;           /* optimiser steps so far */
    int epoch_end;         /* 1 at the end of an epoch, 0 after a batch */
    double train_loss;     /* mean loss L over the epoch so far */
    double objective;      /* mean J over the epoch so far */
    double train_accuracy; /* over the epoch so far (NaN for mse) */
    double val_loss;       /* NaN without a validation set or mid-epoch */
    double val_accuracy;
    double learning_rate;
    double elapsed_s;      /* since mlp_train started */
} mlp_progress;

/* Return non-zero to stop training cleanly after this report. Called at
 * the end of each epoch and, with MLP_OPTION_CALLBACK_EVERY_BATCH, after
 * every other batch too (epoch_end 0); the last batch of an epoch is
 * reported once, by the epoch-end call. */
typedef int (*mlp_callback)(const mlp_progress *progress, void *user);

/* A trainer for net (which must outlive it). Allocates the optimiser state
 * and every buffer a step needs, so that steps allocate nothing. The
 * optimiser state lives in the network (saved with it); a network that
 * already carries state (a resumed model) keeps it, and the optimizer
 * option starts as that state's kind. Changing the optimizer option
 * replaces the state with a zeroed one and restarts the step count. */
MLP_API mlp_status mlp_trainer_create(mlp_network *net, mlp_trainer **out);
MLP_API void mlp_trainer_destroy(mlp_trainer *tr);
MLP_API mlp_status mlp_trainer_set(mlp_trainer *tr, mlp_option option, double value);
MLP_API mlp_status mlp_trainer_get(const mlp_trainer *tr, mlp_option option, double *value);
MLP_API mlp_status mlp_trainer_set_callback(mlp_trainer *tr, mlp_callback cb, void *user);

/* One optimiser step on one batch (dropout active); *J may be NULL. The
 * whole batch runs in one pass: a batch larger than the network's workspace
 * grows it first (the only allocation a step can make), so the result
 * depends on the options, the seed and the data alone (and, through
 * BLAS's products, on the thread count: mlp_set_num_threads). Plain SGD without
 * clipping fuses its update into the backward pass. MLP_OPT_IRPROP takes
 * the batch as its full batch; MLP_OPT_LBFGS runs only inside mlp_train
 * (its line search needs the whole set) and gives MLP_ERR_OPTION here. A
 * non-finite J gives MLP_ERR_DIVERGED before any parameter changes; a
 * parameter made non-finite by the update also gives MLP_ERR_DIVERGED, and
 * a lone step cannot restore it (mlp_train can). */
MLP_API mlp_status mlp_trainer_step(mlp_trainer *tr, const float *X, size_t batch,
                                    const void *targets, double *J);

/* Mini-batch training for the configured epochs. X is n x n_in; the
 * validation set (X_val, targets_val, n_val) may be NULL/0, and then
 * MLP_OPTION_VALIDATION_FRACTION of X (the last rows after one shuffle) is
 * held out. With patience > 0, stops early and ends on the best epoch's
 * weights (early or not).
 * NaN or Inf in the data: MLP_ERR_NONFINITE before any step. A non-finite
 * loss or weight: MLP_ERR_DIVERGED with the last good weights restored. */
MLP_API mlp_status mlp_train(mlp_trainer *tr, const float *X, const void *targets, size_t n,
                             const float *X_val, const void *targets_val, size_t n_val);

/* mlp_train with per-sample weights: weights (n floats) and w_val (n_val
 * floats) may each be NULL (all ones). Every batch's loss becomes
 * sum w_i l_i / sum w_i and its gradient follows (each row's output error
 * term scaled by w_i / sum w_i), so a weight of 2 counts a row twice and a
 * weight of 0 removes it; the validation loss is weighted the same way
 * (accuracies count rows, unweighted). Weights must be finite and >= 0
 * (MLP_ERR_NONFINITE, MLP_ERR_ARGUMENT); a batch whose weights sum to 0
 * contributes a zero loss and gradient (its l2 term remains), and weights
 * that all sum to 0 give MLP_ERR_ARGUMENT. */
MLP_API mlp_status mlp_train_weighted(mlp_trainer *tr, const float *X, const void *targets,
                                      const float *weights, size_t n, const float *X_val,
                                      const void *targets_val, const float *w_val, size_t n_val);

/* Why the last mlp_train stopped. */
typedef enum mlp_stop_reason {
    MLP_STOP_COMPLETED = 0, /* every planned epoch ran (also before any mlp_train) */
    MLP_STOP_EARLY = 1,     /* early stopping: patience epochs without improvement */
    MLP_STOP_CALLBACK = 2,  /* the callback returned non-zero */
    MLP_STOP_DIVERGED = 3,  /* MLP_ERR_DIVERGED; the last good weights were restored */
    MLP_STOP_CONVERGED = 4, /* L-BFGS: the tol or relative-decrease test held, or the line
                             * search found no lower J (the float32 precision of J) */
    MLP_STOP_MAX_FUN = 5,   /* L-BFGS: max_fun evaluations of J were spent */
    MLP_STOP_COUNT_
} mlp_stop_reason;

/* After mlp_train: epochs run, best epoch (1-based, 0 if none), and why it
 * stopped: an mlp_stop_reason value (returned as int for compatibility). */
MLP_API size_t mlp_trainer_epochs_run(const mlp_trainer *tr);
MLP_API size_t mlp_trainer_best_epoch(const mlp_trainer *tr);
MLP_API int mlp_trainer_stop_reason(const mlp_trainer *tr);
/* The per-epoch report of epoch (1-based) of the last mlp_train. */
MLP_API mlp_status mlp_trainer_history(const mlp_trainer *tr, size_t epoch, mlp_progress *out);

/* ---- training on several processes: the reduction hook ------------------
 *
 * A trainer trains data-parallel when a reducer is set: every process (the
 * reducer's `rank` of `size`) holds the same network and trainer options and
 * calls mlp_train or mlp_trainer_step at once (they become collective). Each
 * process computes the gradient of its slice of every global batch, weighted
 * so that the sum over processes is the gradient of the global batch mean;
 * the reducer sums it, and every process applies the same update. Statistics
 * and stop decisions are reduced too (docs/PARALLEL.md). libmlp links no
 * communication library: libmlp_mpi (mlp_mpi.h) fills this struct for an
 * MPI communicator, and any other engine can.
 *
 * Callbacks return MLP_OK or an error status (which ends the training call
 * with that status; engines such as MPI usually abort the job instead). */
typedef struct mlp_reducer {
    int rank;    /* 0 <= rank < size */
    int size;    /* number of processes, >= 1 */
    int sharded; /* 0: every process passes the whole training set and takes
                    its slice of each global batch; 1: each passes its own
                    rows (a shard) and shuffles within it */
    void *ctx;   /* passed to every callback */
    /* Called once by mlp_trainer_set_reducer with the most buffers that
     * will be in flight at once (between two wait calls), so that the
     * engine allocates its request handles there and never in a step. */
    mlp_status (*prepare)(void *ctx, size_t max_pending);
    /* Starts an in-place sum of buf[0..n) across processes, without
     * blocking; every process starts the same buffers in the same order. */
    mlp_status (*sum_floats_start)(void *ctx, float *buf, size_t n);
    /* Waits for every sum started since the last wait. */
    mlp_status (*sum_floats_wait)(void *ctx);
    /* A blocking in-place sum of buf[0..n) across processes; the result must
     * be the same bits on every process. */
    mlp_status (*sum_doubles)(void *ctx, double *buf, size_t n);
    /* Frees ctx; called when the trainer drops the reducer. May be NULL. */
    void (*destroy)(void *ctx);
} mlp_reducer;

/* Sets (copies) the reducer of tr, or with r == NULL drops the current one
 * (calling its destroy) so that tr trains alone again. Collective: checks
 * through r that every process has the same network shape, parameters,
 * optimiser state, settings, trainer options and mode, and returns
 * MLP_ERR_MISMATCH on every process (message naming what differs) when
 * they do not; then tr keeps no reducer and the caller still owns ctx.
 * The same check runs at the start of every mlp_train. Full-batch
 * optimisers (L-BFGS, iRPROP-) are refused under a reducer with
 * MLP_ERR_OPTION. On success tr owns ctx (destroy is called by the next
 * mlp_trainer_set_reducer or by mlp_trainer_destroy). */
MLP_API mlp_status mlp_trainer_set_reducer(mlp_trainer *tr, const mlp_reducer *r);
/* The rank and size of tr's reducer (0 and 1 without one); either may be NULL. */
MLP_API void mlp_trainer_reducer_rank(const mlp_trainer *tr, int *rank, int *size);

/* Names of the training enums, the single source for tools and bindings:
 * optimizers "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop",
 * "lbfgs", "irprop"; schedules "constant", "step", "cosine"; stop reasons
 * "completed", "early_stopping", "callback", "diverged", "converged",
 * "max_fun"; options as the enum mlp_option
 * spells them, in lower case without the prefix ("learning_rate",
 * "batch_size", ...). The name functions return static strings, NULL for
 * values outside the enum, so a caller can list every name by counting up
 * from 0 until NULL. The parse functions take exact names and fail with
 * MLP_ERR_OPTION for an unknown optimizer, schedule or option name and
 * MLP_ERR_ARGUMENT for an unknown stop reason (MLP_ERR_NULL for NULL). */
MLP_API const char *mlp_optimizer_name(mlp_optimizer opt);
MLP_API mlp_status mlp_optimizer_parse(const char *name, mlp_optimizer *out);
MLP_API const char *mlp_schedule_name(mlp_schedule sched);
MLP_API mlp_status mlp_schedule_parse(const char *name, mlp_schedule *out);
MLP_API const char *mlp_stop_reason_name(mlp_stop_reason reason);
MLP_API mlp_status mlp_stop_reason_parse(const char *name, mlp_stop_reason *out);
MLP_API const char *mlp_option_name(mlp_option option);
MLP_API mlp_status mlp_option_parse(const char *name, mlp_option *out);

/* Bits of mlp_option_info's *flags. */
#define MLP_OPTINFO_INTEGER 1  /* only whole numbers are accepted */
#define MLP_OPTINFO_MIN_OPEN 2 /* min itself is refused: the range is (min, ... */
#define MLP_OPTINFO_MAX_OPEN 4 /* max itself is refused: the range is ..., max) */

/* The value mlp_trainer_create gives option (before a resumed network's
 * optimiser state overrides the optimizer option), and the range that
 * mlp_trainer_set accepts: min <= value <= max, with the ends excluded as
 * *flags says (max may be +infinity). These are the very values the
 * trainer uses. Any OUT parameter may be NULL; an unknown option gives
 * MLP_ERR_OPTION. */
MLP_API mlp_status mlp_option_info(mlp_option option, double *default_value, double *min,
                                   double *max, int *flags);

/* ------------------------------------------------------------------ */
/* Model files                                                        */
/* ------------------------------------------------------------------ */

/* Format v1, little-endian, CRC-32 checked: see docs/FORMAT.md for the byte
 * layout. A file holds the whole network: shape, activations, loss, l2,
 * dropout, input scaling, seed and RNG state, epochs and steps, optimiser
 * state (training resumes exactly) and parameters; load(save(net))
 * predicts bit-identically on any machine. Saving by path writes a
 * temporary file beside the target, fsyncs it and renames it over the
 * target, so a failure never leaves a truncated model where a good one
 * stood (the folder must be writable). Streams passed in are never closed
 * by the library. Saving refuses NaN or infinite values: MLP_ERR_NONFINITE.
 * Loading checks, in this order: magic (MLP_ERR_BAD_MAGIC), version
 * (MLP_ERR_VERSION), length (MLP_ERR_TRUNCATED), CRC (MLP_ERR_CHECKSUM),
 * then every field (MLP_ERR_CORRUPT, or MLP_ERR_TOO_LARGE beyond the
 * library's limits); it allocates nothing a file's counts could inflate
 * beyond the file's own size. */
MLP_API mlp_status mlp_save(const mlp_network *net, const char *path);
/* Writes one model at the stream's position and flushes the stream. */
MLP_API mlp_status mlp_save_file(const mlp_network *net, FILE *f);
/* Writes the file image into buf (cap bytes) and its size into *size; a too
 * small cap gives MLP_ERR_BUFFER with *size set (buf may be NULL, cap 0). */
MLP_API mlp_status mlp_save_buffer(const mlp_network *net, void *buf, size_t cap, size_t *size);
/* The file must hold exactly one model (trailing bytes: MLP_ERR_CORRUPT). */
MLP_API mlp_status mlp_load(mlp_network **out, const char *path);
/* Reads one model from the stream's position and leaves the stream just
 * after it, so models saved one after another load one after another. */
MLP_API mlp_status mlp_load_file(mlp_network **out, FILE *f);
/* buf holds exactly one model of size bytes. Never reads outside it. */
MLP_API mlp_status mlp_load_buffer(mlp_network **out, const void *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Data sets                                                          */
/* ------------------------------------------------------------------ */

/* A data set: n rows of float features and either int32 class labels or
 * float target values (or neither). Owned by the caller (mlp_dataset_destroy). */
typedef struct mlp_dataset mlp_dataset;

/* IDX images and labels (gzip-compressed or not), as MNIST and
 * Fashion-MNIST ship them: images become rows of raw pixel values (0..255),
 * labels int32 classes. labels_path may be NULL. Memory grows only with
 * the data that actually arrives (a header that claims more costs nothing),
 * but a file that decompresses to N pixel bytes takes about 5N bytes while
 * it loads, and a small gzip file can decompress to a large data set: for
 * files from untrusted sources use mlp_dataset_load_idx_limit. */
MLP_API mlp_status mlp_dataset_load_idx(mlp_dataset **out, const char *images_path,
                                        const char *labels_path);
/* mlp_dataset_load_idx with a bound: max_bytes caps the memory the load
 * takes for the data, 5 bytes per decompressed image and label byte (the
 * bytes, then the floats and int32 labels built from them) plus the data
 * set object; SIZE_MAX is no bound. The sizes come from the headers, and a
 * file must end where its header says (more bytes: MLP_ERR_FORMAT at the
 * first extra byte), so a load beyond max_bytes is refused with
 * MLP_ERR_TOO_LARGE after reading the headers, before any data is read or
 * allocated. A gzip bomb costs its headers and zlib's own state. */
MLP_API mlp_status mlp_dataset_load_idx_limit(mlp_dataset **out, const char *images_path,
                                              const char *labels_path, size_t max_bytes);
/* Numeric CSV, independent of the C locale ('.' decimal point). has_header:
 * 1 yes, 0 no, -1 detect. label_column: the column holding the target (-1 =
 * last, -2 = none); with classes != 0 it holds integer class indices,
 * otherwise a float value. */
MLP_API mlp_status mlp_dataset_load_csv(mlp_dataset **out, const char *path, int has_header,
                                        long label_column, int classes);
/* Sharded loading, for data sets that do not fit one machine: process r of
 * P loads only part r of P of the file, and its memory for the data is
 * about 1/P of the whole load's. 0 <= part < parts, else MLP_ERR_ARGUMENT;
 * part 0 of 1 is exactly the whole load. Parts 0..parts-1 concatenated in
 * order are the rows of the whole load, exactly; a part may be empty (0
 * rows, num_classes 0; fewer lines or images than parts), which the whole
 * load refuses. num_classes is 1 + the largest class of the part's own rows
 * and so may differ between parts: the caller agrees on one (for example by
 * a max-reduction across processes) and sets it with
 * mlp_dataset_set_num_classes. A malformed row fails only the part that
 * holds it; a CSV message then names the line within the part and its byte
 * offset in the file. docs/DATA.md says how parts are cut.
 *
 * CSV: part r holds the lines that start in the byte range
 * [floor(r S / P), floor((r + 1) S / P)) of the file's S bytes; it reads
 * that range plus the rest of its last line, and the file's first non-blank
 * line, which decides the columns and the header (has_header -1 detects
 * from that line in every part, so all parts agree). The header line is
 * skipped by the part that holds it. Needs a file that can seek (a regular
 * file; MLP_ERR_IO otherwise, for parts > 1). Arguments as for
 * mlp_dataset_load_csv. */
MLP_API mlp_status mlp_dataset_load_csv_part(mlp_dataset **out, const char *path,
                                             int has_header, long label_column, int classes,
                                             size_t part, size_t parts);
/* IDX: part r holds the images [floor(r n / P), floor((r + 1) n / P)) of
 * n, and their labels. An uncompressed file is read by seeking to them; a
 * gzip-compressed one cannot seek, so it is decompressed from the start up
 * to the part's last image (in constant memory, the bytes before the part
 * are discarded): memory stays about 1/P, time does not. Truncation or
 * trailing bytes are found by the last part (which reads to the end).
 * Arguments as for mlp_dataset_load_idx. */
MLP_API mlp_status mlp_dataset_load_idx_part(mlp_dataset **out, const char *images_path,
                                             const char *labels_path, size_t part, size_t parts);
/* Sets num_classes of a data set with class labels, for parts that must
 * agree on it: MLP_ERR_ARGUMENT without class labels or above INT32_MAX,
 * MLP_ERR_LABEL if a row's class is not below num_classes. Not while
 * another thread uses ds. */
MLP_API mlp_status mlp_dataset_set_num_classes(mlp_dataset *ds, size_t num_classes);
/* mlp_dataset_load_csv with a bound: max_bytes caps the memory the load
 * takes, the file's bytes (read whole; while the buffer grows, its old and
 * new copies) plus the field table and the data set (4 bytes per column
 * and row, plus 4 per row) that pass 1's row and column count call for,
 * all held at once; SIZE_MAX is no bound. A longer file is refused as it
 * arrives, a shape beyond the bound before the data set is allocated:
 * MLP_ERR_TOO_LARGE either way. */
MLP_API mlp_status mlp_dataset_load_csv_limit(mlp_dataset **out, const char *path, int has_header,
                                              long label_column, int classes, size_t max_bytes);
MLP_API void mlp_dataset_destroy(mlp_dataset *ds);
MLP_API size_t mlp_dataset_rows(const mlp_dataset *ds);
MLP_API size_t mlp_dataset_cols(const mlp_dataset *ds);
/* rows x cols, row-major; valid until mlp_dataset_destroy. */
MLP_API const float *mlp_dataset_features(const mlp_dataset *ds);
/* rows class indices, or NULL when the set has none. */
MLP_API const int32_t *mlp_dataset_classes(const mlp_dataset *ds);
/* 1 + the largest class index (0 without classes). */
MLP_API size_t mlp_dataset_num_classes(const mlp_dataset *ds);
/* rows x target_cols float targets, or NULL when the set has none. */
MLP_API const float *mlp_dataset_values(const mlp_dataset *ds);
MLP_API size_t mlp_dataset_target_cols(const mlp_dataset *ds);

typedef enum mlp_scaling {
    MLP_SCALE_NONE = 0,
    MLP_SCALE_MINMAX = 1,   /* each feature to [0, 1] */
    MLP_SCALE_STANDARD = 2, /* each feature to mean 0, deviation 1 */
    MLP_SCALE_COUNT_
} mlp_scaling;

/* Computes the input scaling of kind from X (n x n_in) and sets it on the
 * network (a constant feature gets scale 1). MLP_SCALE_NONE removes it. */
MLP_API mlp_status mlp_fit_input_scaling(mlp_network *net, const float *X, size_t n,
                                         mlp_scaling kind);

/* Training metadata a network carries (and a model file saves), for tools
 * such as `mlp info`: the seed of the last initialisation, the epochs and
 * optimiser steps trained so far, and the mlp_optimizer whose state it
 * holds (-1 when none). 0 (or -1) for NULL. */
MLP_API uint64_t mlp_seed(const mlp_network *net);
MLP_API uint64_t mlp_epochs_trained(const mlp_network *net);
MLP_API uint64_t mlp_steps_trained(const mlp_network *net);
MLP_API int mlp_optimizer_state_kind(const mlp_network *net);

/* Where a trainer's time goes. With profiling on, mlp_train and
 * mlp_trainer_step add up the wall time of each part: the BLAS products
 * (the plain SGD update, fused into the weight product, included), the
 * element-wise passes (input scaling, bias and activation, the loss and
 * error terms, bias gradients, finiteness bounds), dropout, the optimiser's
 * update (l2 and clipping included), data movement (shuffle and batch
 * gather), validation, and the total time of the epochs (of the steps for
 * mlp_trainer_step); MLP_PROFILE_OTHER is the total less the named parts.
 * Off by default, and then it costs one test per part. */
typedef enum mlp_profile_part {
    MLP_PROFILE_PRODUCTS,
    MLP_PROFILE_ELEMENTWISE,
    MLP_PROFILE_DROPOUT,
    MLP_PROFILE_OPTIMIZER,
    MLP_PROFILE_DATA,
    MLP_PROFILE_VALIDATION,
    MLP_PROFILE_OTHER,
    MLP_PROFILE_TOTAL,
    /* Under a reducer (mlp_trainer_set_reducer): starting the gradient sums
     * and waiting for them and for the reduced statistics, the part of the
     * communication not hidden behind the computation. Counted among the
     * named parts (not in OTHER); appended, so the values above stay. */
    MLP_PROFILE_COMMUNICATION,
    MLP_PROFILE_COUNT_
} mlp_profile_part;

/* Switches profiling on (non-zero) or off, and clears the sums. */
MLP_API mlp_status mlp_trainer_set_profile(mlp_trainer *tr, int on);
/* Copies the seconds of the first n parts (n may exceed the parts known)
 * into seconds[]; returns the number of parts this library knows
 * (MLP_PROFILE_COUNT_), 0 for NULL. */
MLP_API size_t mlp_trainer_profile(const mlp_trainer *tr, double *seconds, size_t n);
/* "products", "elementwise", "dropout", "optimizer", "data", "validation",
 * "other", "total", "communication"; NULL when out of range. Static storage. */
MLP_API const char *mlp_profile_part_name(mlp_profile_part part);

#ifdef __cplusplus
}
#endif

#endif /* MLP_H */
