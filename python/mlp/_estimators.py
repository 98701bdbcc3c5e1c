"""MLPClassifier and MLPRegressor: scikit-learn conventions on libmlp.

The parameters are scikit-learn's MLPClassifier's, with these differences:
- solver: "adam" (default), "sgd" (with momentum / nesterovs_momentum),
  "lbfgs" (libmlp's own L-BFGS, docs/SOLVERS.md: scikit-learn's stopping
  rules max_iter, max_fun, tol; its line search is Nocedal-Wright's strong
  Wolfe zoom where scipy's L-BFGS-B uses More-Thuente, so iterates differ in
  detail), and every other optimiser libmlp has (mlp.OPTIMIZERS: "adamw"
  with decoupled weight_decay, "rmsprop", "irprop": FANN's full-batch
  iRPROP-).
- sample_weight (fit, partial_fit) and class_weight ("balanced" or a dict,
  MLPClassifier): as scikit-learn 1.7, each batch's loss is
  sum w_i l_i / sum w_i. Multi-label targets ignore class_weight.
- alpha: scikit-learn adds alpha/(2 n_batch) * sum ||W||^2 to the loss of
  each mini-batch of n_batch rows (with weights: alpha/(2 sum_batch w)).
  libmlp's penalty is lambda/2 * sum ||W||^2 on the batch-mean loss, so
  lambda = alpha / batch_size (with weights: alpha / (batch_size * mean w))
  gives the same objective and the same gradients: exactly for the
  full-batch solvers, for mini-batches up to the last, smaller batch and
  the batch's own sum of weights.
- learning_rate: as in scikit-learn, "invscaling" (lr = learning_rate_init
  / (t + 1)^power_t after each epoch, t = samples seen) and "adaptive" (lr / 5
  after n_iter_no_change epochs without improvement, stopping below 1e-6)
  apply to solver="sgd" only, "constant" to all; libmlp's own schedules
  "step" (lr * 0.1 every 10 epochs) and "cosine" (to 0 over max_iter epochs)
  apply to every solver.
- Computation is in float32; coefs_ and intercepts_ are float32 arrays, read
  from the network each time (coefs_[i] has shape (n_in, n_out) as in
  scikit-learn; network_ holds the mlp.Network itself).
- Binary problems use two softmax outputs (scikit-learn: one logistic unit).
- Extras: input_scaling (None, "standard" or "minmax": fitted on the training
  data and stored in the network, so a saved network_ predicts on raw
  inputs), weight_decay (adamw), clip_norm (global gradient norm, 0 = off).
- comm (extra): an mpi4py communicator (e.g. MPI.COMM_WORLD) for
  data-parallel training under `mpirun -np N python3 script.py` (libmlp_mpi,
  loaded only then; mlp.Trainer's comm). Every process calls fit with the
  whole data set (the same X, y and parameters); each computes the gradient
  of its rows of every mini-batch, the gradients are summed, and every
  process ends with the same network_: the model one process trains with the
  same batch_size, up to float summation order. rank 0's random_state is
  used everywhere (random_state=None draws one seed, on rank 0), and only
  rank 0 prints the verbose report. The full-batch solvers ("lbfgs",
  "irprop") do not train across processes (MLPError MLP_ERR_OPTION from
  fit). A pickled estimator drops comm (an
  MPI communicator cannot be pickled): the copy predicts in one process.
  For the same reason sklearn.base.clone (GridSearchCV, cross_val_score)
  cannot copy an estimator whose comm is set (mpi4py refuses to deepcopy
  a communicator). Training on a shard of the rows per process is
  mlp.Trainer(net, comm=comm, shard=True).
- MLPRegressor's loss is 1/2 ||o - y||^2 per sample (scikit-learn also
  divides by the number of outputs); its early-stopping validation score is
  R^2 (variance-weighted when there are several outputs).
"""

import numbers
import sys
import warnings

import numpy as np

from ._compat import (BaseEstimator, ClassifierMixin, ConvergenceWarning, DataConversionWarning,
                      NotFittedError, RegressorMixin)
from . import _mpi
from ._network import ACTIVATIONS, Network
from ._trainer import OPTIMIZERS, SCHEDULES, Trainer

# From the library's own names: every optimiser is a solver except momentum
# and Nesterov, which solver="sgd" picks by momentum and nesterovs_momentum
# as scikit-learn does; every libmlp schedule is a learning_rate beside
# scikit-learn's own "invscaling" and "adaptive" (run here, per epoch).
_SGD_VARIANTS = {"momentum", "nesterov"}
SOLVERS = frozenset(OPTIMIZERS) - _SGD_VARIANTS
LEARNING_RATES = frozenset(SCHEDULES) | {"invscaling", "adaptive"}
SCALINGS = {None, "none", "standard", "minmax"}
_FULL_BATCH = {"lbfgs", "irprop"}
_ACTIVATION_ALIASES = {"logistic": "sigmoid"}

# scikit-learn checks that float32 arithmetic cannot pass, with the reason.
_FLOAT32_XFAIL = {
    "check_methods_subset_invariance":
        "float32 BLAS: OpenBLAS sums a row's products in an order that depends on "
        "the batch size (sgemv for one row, sgemm kernels by row count), so a row "
        "predicted alone or in another batch differs in the last bits (up to about 1e-6 "
        "relative), while this check allows 1e-7 absolute",
    "check_methods_sample_order_invariance":
        "float32 BLAS: OpenBLAS's AVX2 sgemm kernels (Haswell, Zen; also what valgrind "
        "emulates) sum the rows at a block's edge in another order than the others, so "
        "the same row at another position in a permuted batch differs in the last bits "
        "(about 1e-6 relative), while this check allows 1e-7 relative",
    "check_sample_weights_invariance":  # kind="zeros"; kind="ones" passes (xpass)
        "kind=zeros, mini-batches and float32: rows of weight 0 still take slots in the batches and "
        "draws of the shuffle, so the batches differ from those of the data without them, "
        "and even on one full batch float32 sums over other rows differ in the last bits "
        "where this check allows 1e-7 (the weighting itself is tested in "
        "tests/python/test_solvers.py: weights of 0 give the gradient of the rows removed)",
}


def _seed(random_state):
    """A 32-bit seed from None, an int or a numpy RandomState."""
    if random_state is None:
        return int(np.random.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral):
        return int(random_state) & 0x7FFFFFFF
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise ValueError("random_state must be None, an int or a numpy RandomState, got %r"
                     % (random_state,))


def _check_X(X, name, n_features=None):
    """X as a finite 2-D float32 C-contiguous array (no copy when it already is one)."""
    if X is None:
        raise ValueError("Expected 2D array, got None")
    if hasattr(X, "toarray") and not isinstance(X, np.ndarray):  # scipy.sparse
        X = X.toarray()
    a = np.asarray(X)
    if a.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if a.ndim != 2:
        raise ValueError("Expected 2D array, got %dD array instead. Reshape your data either "
                         "using array.reshape(-1, 1) if your data has a single feature or "
                         "array.reshape(1, -1) if it contains a single sample." % a.ndim)
    a = np.ascontiguousarray(a, dtype=np.float32)  # TypeError for non-numbers, as numpy says
    if a.shape[0] < 1:
        raise ValueError("Found array with 0 sample(s) (shape=%s) while a minimum of 1 is "
                         "required." % (a.shape,))
    if a.shape[1] < 1:
        raise ValueError("Found array with 0 feature(s) (shape=%s) while a minimum of 1 is "
                         "required." % (a.shape,))
    # A finite sum means every value is finite (NaN and infinity propagate),
    # found in one pass without a boolean copy of X (scikit-learn's check
    # does the same); only a sum that is not finite needs the full test.
    with np.errstate(over="ignore", invalid="ignore"):  # large finite values may overflow it
        total = np.sum(a)
    if not np.isfinite(total) and not np.isfinite(a).all():
        raise ValueError("Input X contains NaN, infinity or a value too large for float32.")
    if n_features is not None and a.shape[1] != n_features:
        raise ValueError("X has %d features, but %s is expecting %d features as input."
                         % (a.shape[1], name, n_features))
    return a


def _check_y(y, name):
    if y is None:
        raise ValueError("%s requires y to be passed, but the target y is None" % name)
    if hasattr(y, "toarray") and not isinstance(y, np.ndarray):
        y = y.toarray()
    y = np.asarray(y)
    if y.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    return y


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameters, fit loop, state."""

    _loss = None  # set by the subclasses

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 input_scaling=None, weight_decay=0.01, clip_norm=0.0, comm=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.input_scaling = input_scaling
        self.weight_decay = weight_decay
        self.clip_norm = clip_norm
        self.comm = comm

    # ---- parameters --------------------------------------------------------

    def _hidden(self):
        h = self.hidden_layer_sizes
        if isinstance(h, numbers.Integral):
            h = [h]
        try:
            h = list(h)
        except TypeError:
            raise ValueError("hidden_layer_sizes must be an int or a sequence of ints, got %r" % (h,))
        if any(not isinstance(s, numbers.Integral) or s <= 0 for s in h):
            raise ValueError("hidden_layer_sizes must be > 0, got %r" % (self.hidden_layer_sizes,))
        return [int(s) for s in h]

    def _validate_params(self):
        act = _ACTIVATION_ALIASES.get(self.activation, self.activation)
        if act not in ACTIVATIONS:
            raise ValueError("activation %r is not supported; one of %s" % (
                self.activation, ", ".join(["logistic"] + list(ACTIVATIONS))))
        if self.solver not in SOLVERS:
            raise ValueError("solver %r is not supported; one of %s"
                             % (self.solver, ", ".join(sorted(SOLVERS))))
        if self.learning_rate not in LEARNING_RATES:
            raise ValueError("learning_rate %r is not supported; one of %s"
                             % (self.learning_rate, ", ".join(sorted(LEARNING_RATES))))
        if self.input_scaling not in SCALINGS:
            raise ValueError("input_scaling must be None, 'standard' or 'minmax', got %r"
                             % (self.input_scaling,))
        checks = [
            ("alpha", self.alpha, 0, None), ("learning_rate_init", self.learning_rate_init, 0, None),
            ("max_iter", self.max_iter, 1, None), ("tol", self.tol, 0, None),
            ("momentum", self.momentum, 0, 1), ("validation_fraction", self.validation_fraction, 0, 1),
            ("beta_1", self.beta_1, 0, 1), ("beta_2", self.beta_2, 0, 1),
            ("epsilon", self.epsilon, 0, None), ("n_iter_no_change", self.n_iter_no_change, 1, None),
            ("power_t", self.power_t, 0, None), ("weight_decay", self.weight_decay, 0, None),
            ("clip_norm", self.clip_norm, 0, None), ("max_fun", self.max_fun, 1, None),
        ]
        for name, value, lo, hi in checks:
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not (
                    value >= lo and (hi is None or value <= hi)) or value != value:
                rng = "[%s, %s]" % (lo, "inf" if hi is None else hi)
                raise ValueError("%s must be a number in %s, got %r" % (name, rng, value))
        if self.learning_rate_init <= 0:
            raise ValueError("learning_rate_init must be > 0, got %r" % (self.learning_rate_init,))
        if self.early_stopping and not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be in (0, 1) with early_stopping, got %r"
                             % (self.validation_fraction,))
        bs = self.batch_size
        if not (bs == "auto" or (isinstance(bs, numbers.Integral) and not isinstance(bs, bool)
                                 and bs >= 1)):
            raise ValueError("batch_size must be 'auto' or a positive int, got %r" % (bs,))
        return act, self._hidden()

    def _optimizer(self):
        if self.solver == "sgd":
            if self.momentum == 0:
                return "sgd"
            return "nesterov" if self.nesterovs_momentum else "momentum"
        return self.solver

    def _batch(self, n):
        if self.solver in _FULL_BATCH:
            return n  # scikit-learn's lbfgs ignores batch_size too
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going "
                          "to be clipped")
        return max(1, min(int(self.batch_size), n))

    # ---- fitted state ------------------------------------------------------

    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise NotFittedError("This %s instance is not fitted yet. Call 'fit' with appropriate "
                                 "arguments before using this estimator." % type(self).__name__)

    @property
    def coefs_(self):
        """Weight matrices, coefs_[i] of shape (n_in, n_out) (float32)."""
        self._check_fitted()
        return [W.T for W, _ in self.network_.get_params()]

    @property
    def intercepts_(self):
        self._check_fitted()
        return [b for _, b in self.network_.get_params()]

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_trainer", None)  # a C handle; rebuilt on demand from network_
        # An MPI communicator cannot be pickled, and belongs to this run: the
        # copy is a one-process estimator (what rank 0 saves after training).
        if state.get("comm") is not None:
            state["comm"] = None
        return state

    # ---- training ------------------------------------------------------------

    def _initialize(self, n_features, n_outputs, act, hidden, seed):
        sizes = [n_features] + hidden + [n_outputs]
        net = Network(sizes, activations=[act] * len(hidden) + ["identity"], seed=seed)
        net.loss = self._loss
        self.network_ = net
        self._trainer = None
        self.n_features_in_ = n_features
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(sizes)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self.best_loss_ = np.inf
        self.validation_scores_ = None
        self.best_validation_score_ = None

    def _split_rows(self, A, n, seed):
        """A's rows as _split divides them: (training rows, held-out rows)."""
        n_val = int(np.ceil(self.validation_fraction * n))
        perm = np.random.RandomState(seed).permutation(n)
        return A[np.sort(perm[n_val:])], A[np.sort(perm[:n_val])]

    def _weights(self, sample_weight, T, n):
        """Per-row weights (sample_weight times class weights), None when all
        are 1 (so that unit weights give the unweighted fit, bit for bit)."""
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.ndim == 0:
                w = np.full(n, float(w))
            if w.shape != (n,):
                raise ValueError("sample_weight.shape == %s, expected (%d,)!" % (w.shape, n))
            if not np.isfinite(w).all():
                raise ValueError("Input sample_weight contains NaN or infinity.")
            if (w < 0).any():
                raise ValueError("Negative values in data passed to sample_weight")
            if not w.sum() > 0:
                raise ValueError("sample_weight sums to 0: nothing to fit")
        cw = self._class_weights(T)
        if cw is not None:
            w = cw if w is None else w * cw
        if w is None or np.all(w == 1.0):
            return None
        return np.ascontiguousarray(w, dtype=np.float32)

    def _class_weights(self, T):
        return None

    def _split(self, X, T, seed):
        """A held-out validation set for early stopping (seeded permutation)."""
        n = X.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError("validation_fraction=%r of n_samples=%d leaves no training or no "
                             "validation sample" % (self.validation_fraction, n))
        perm = np.random.RandomState(seed).permutation(n)
        tr, va = np.sort(perm[n_val:]), np.sort(perm[:n_val])
        return X[tr], T[tr], X[va], T[va]

    def _fit(self, X, y, incremental, classes=None, sample_weight=None):
        act, hidden = self._validate_params()
        if incremental and self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "%s is not stochastic." % self.solver)
        first = not hasattr(self, "network_") or not (incremental or self.warm_start)
        X = _check_X(X, type(self).__name__, None if first else self.n_features_in_)
        T, n_outputs = self._targets(X, y, first, incremental, classes)
        W = self._weights(sample_weight, T, X.shape[0])
        # Every process must start from the same weights and draw the same
        # validation split: rank 0's seed (random_state=None draws one per process).
        seed = _mpi.broadcast_seed(self.comm, _seed(self.random_state))
        if first:
            self._initialize(X.shape[1], n_outputs, act, hidden, seed)
            if self.input_scaling not in (None, "none"):
                self.network_.fit_input_scaling(X, self.input_scaling)
        elif self.network_.n_outputs != n_outputs:
            raise ValueError("warm_start/partial_fit with %d outputs, but the network has %d"
                             % (n_outputs, self.network_.n_outputs))
        early = bool(self.early_stopping) and not incremental and self.solver != "lbfgs"
        Wv = None
        if early:
            if W is not None:
                W, Wv = self._split_rows(W, X.shape[0], seed)
            X, T, Xv, Tv = self._split(X, T, seed)
            self._val_ss_tot = self._ss_tot(Tv)
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        else:
            Xv = Tv = None
            self.validation_scores_ = None
            self.best_validation_score_ = None
        if not incremental:
            self._no_improvement_count = 0
        batch = self._batch(X.shape[0])
        net = self.network_
        # scikit-learn scales alpha by the batch's row count, with weights by
        # its sum of weights: the batch size times the mean weight (exact for
        # a full batch; for mini-batches the mean over the whole set).
        net.l2 = self.alpha / (batch if W is None else batch * float(np.mean(W, dtype=np.float64)))
        if not incremental or getattr(self, "_trainer", None) is None:
            # scikit-learn: a fresh optimiser for every fit, kept across
            # partial_fit. libmlp allows one trainer per network: release
            # the last fit's before making the next.
            old = self.__dict__.pop("_trainer", None)
            if old is not None:
                old.close()
            self._trainer = Trainer(net)
        tr = self._trainer
        self._lr = float(self.learning_rate_init) if not incremental or not hasattr(self, "_lr") \
            else self._lr
        sched = self.learning_rate if self.learning_rate in SCHEDULES else "constant"
        for name, value in (("optimizer", self._optimizer()), ("learning_rate", self._lr),
                            ("momentum", self.momentum), ("beta1", self.beta_1),
                            ("beta2", self.beta_2), ("epsilon", self.epsilon),
                            ("weight_decay", self.weight_decay), ("clip_norm", self.clip_norm),
                            ("schedule", sched),
                            ("batch_size", min(batch, 4096) if self.solver in _FULL_BATCH else batch),
                            ("tol", self.tol), ("max_fun", self.max_fun),
                            ("epochs", 1 if incremental else self.max_iter),
                            ("validation_fraction", 0), ("patience", 0),
                            ("shuffle", bool(self.shuffle)), ("callback_every_batch", 0)):
            tr.set(name, value)
        # Attached once the options are set, so that the agreement check
        # (collective: every process is in fit) sees the fit's own; kept
        # across partial_fit calls unless set_params changed comm.
        if tr.comm is not self.comm:
            tr.detach()
            if self.comm is not None:
                tr.attach(self.comm)
        self._n_train = X.shape[0]
        self._best_params = None
        self._incremental = incremental
        tr._raw_progress = True
        tr.callback = self._epoch_end
        try:
            tr.train(X, T, Xv, Tv, sample_weight=W, val_weight=Wv)
        finally:
            tr.callback = None
            tr._raw_progress = False
        if early and self._best_params is not None:
            net._flat_set(self._best_params)
        self._best_params = None
        if self.solver == "lbfgs" and tr.stop_reason in ("completed", "max_fun"):
            warnings.warn("lbfgs failed to converge (status=1): STOP: TOTAL NO. of %s REACHED LIMIT."
                          % ("ITERATIONS" if tr.stop_reason == "completed" else
                             "f AND g EVALUATIONS"), ConvergenceWarning)
        elif not incremental and self._stopped is None and tr.stop_reason == "completed":
            warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                          "optimization hasn't converged yet." % self.max_iter, ConvergenceWarning)
        for attr in ("_val_ss_tot", "_n_train", "_incremental", "_n_val"):
            self.__dict__.pop(attr, None)
        return self

    def _epoch_end(self, p):
        """The trainer's callback: scikit-learn's bookkeeping and stopping rules.
        p: the struct mlp_progress (mlp._lib.Progress), read during the call
        only. Returns True to stop."""
        if not p.epoch_end:
            return False
        self._stopped = None
        self.n_iter_ += 1
        self.t_ += self._n_train
        loss = p.objective
        self.loss_ = loss
        self.loss_curve_.append(loss)
        if self.validation_scores_ is not None:
            score = self._val_score(p)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self.network_._flat("params").copy()
        else:
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if loss < self.best_loss_:
                self.best_loss_ = loss
        if self.verbose and self._trainer.rank == 0:  # one report for all processes
            print("Iteration %d, loss = %.8f" % (self.n_iter_, loss), file=sys.stdout)
            if self.validation_scores_ is not None:
                print("Validation score: %f" % self.validation_scores_[-1], file=sys.stdout)
        stop = False
        if self._incremental:
            return False
        sgd = self.solver == "sgd"
        if self.solver == "lbfgs":
            return False  # L-BFGS stops by its own tests (tol, max_fun) in the library
        if self._no_improvement_count > self.n_iter_no_change:
            if sgd and self.learning_rate == "adaptive" and self._lr / 5.0 > 1e-6:
                self._lr /= 5.0
                self._no_improvement_count = 0
                self._trainer.set("learning_rate", self._lr)
            else:
                self._stopped = "no_improvement"
                stop = True
        if not stop and sgd and self.learning_rate == "invscaling":
            self._lr = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
            self._trainer.set("learning_rate", self._lr)
        return stop

    def fit(self, X, y, sample_weight=None):
        """Trains from scratch (or from the current weights with warm_start).
        sample_weight (n_samples,): each row's weight in the loss."""
        self._stopped = None
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    def _forward(self, X):
        self._check_fitted()
        X = _check_X(X, type(self).__name__, self.n_features_in_)
        return self.network_.forward(X)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier on libmlp (softmax cross-entropy;
    sigmoid cross-entropy for multi-label indicator targets). See the module
    documentation for the parameters and how they map onto scikit-learn's."""

    _loss = "softmax_cross_entropy"

    def _targets(self, X, y, first, incremental, classes):
        name = type(self).__name__
        y = _check_y(y, name)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                          "change the shape of y to (n_samples, ), for example using ravel().",
                          DataConversionWarning, stacklevel=3)
            y = y[:, 0]
        if y.shape[0] != X.shape[0]:
            raise ValueError("Found input variables with inconsistent numbers of samples: [%d, %d]"
                             % (X.shape[0], y.shape[0]))
        if y.ndim == 2:
            return self._multilabel(y, first)
        if y.ndim != 1:
            raise ValueError("y should be a 1d array, got an array of shape %s instead." % (y.shape,))
        if y.dtype.kind == "f":
            if not np.isfinite(y).all():
                raise ValueError("Input y contains NaN or infinity.")
            if np.any(y != np.round(y)):
                raise ValueError("Unknown label type: 'continuous'. MLPClassifier takes class "
                                 "labels (integers, strings, ...), not continuous values.")
        if y.dtype.kind not in "biufUSO":
            raise ValueError("Unknown label type: %r" % (y.dtype,))
        if first and not incremental:
            labels, idx = np.unique(y, return_inverse=True)
        else:
            if first:  # the first partial_fit
                if classes is None:
                    raise ValueError("classes must be passed on the first call to partial_fit.")
                labels = np.unique(np.asarray(classes))
            else:
                if getattr(self, "_label_kind", "multiclass") != "multiclass":
                    raise ValueError("the network was trained for multi-label targets")
                labels = self.classes_
                if classes is not None and not np.array_equal(np.unique(classes), labels):
                    raise ValueError("`classes=%r` is not the same as on the first call to "
                                     "partial_fit, was: %r" % (classes, labels))
            idx = np.searchsorted(labels, y)
            idx[idx >= len(labels)] = 0
            if len(labels) == 0 or np.any(labels[idx] != y):
                bad = np.setdiff1d(y, labels)
                raise ValueError("y has labels %r that are not in classes %r" % (bad, labels))
        if len(labels) < 2:
            raise ValueError("%s needs samples of at least 2 classes in the data, but the data "
                             "contains only one class: %r" % (name, labels[0] if len(labels) else None))
        if first:
            self.classes_ = labels
            self._label_kind = "multiclass"
            self.out_activation_ = "softmax"
        elif not np.array_equal(labels, self.classes_):
            raise ValueError("warm_start can only be used where `y` has the same classes as in "
                             "the previous call to fit. Previously got %r, `y` has %r"
                             % (self.classes_, labels))
        self._set_loss("softmax_cross_entropy")
        return np.ascontiguousarray(idx, dtype=np.int32), len(labels)

    def _multilabel(self, y, first):
        if not np.isin(y, (0, 1)).all():
            raise ValueError("Unknown label type: 2-D y must be a multi-label indicator matrix of "
                             "0 and 1 (multiclass-multioutput is not supported)")
        if first:
            self.classes_ = np.arange(y.shape[1])
            self._label_kind = "multilabel"
            self.out_activation_ = "logistic"
        elif self._label_kind != "multilabel" or y.shape[1] != len(self.classes_):
            raise ValueError("y does not match the multi-label targets of the previous fit")
        self._set_loss("sigmoid_cross_entropy")
        return np.ascontiguousarray(y, dtype=np.float32), y.shape[1]

    def _set_loss(self, loss):
        self._loss_name = loss
        if hasattr(self, "network_"):
            self.network_.loss = loss

    def _initialize(self, n_features, n_outputs, act, hidden, seed):
        super()._initialize(n_features, n_outputs, act, hidden, seed)
        self.network_.loss = self._loss_name

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 class_weight=None, input_scaling=None, weight_decay=0.01, clip_norm=0.0,
                 comm=None):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
            max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            input_scaling=input_scaling, weight_decay=weight_decay, clip_norm=clip_norm, comm=comm)
        self.class_weight = class_weight

    def _class_weights(self, T):
        """Per-row weights from class_weight, as scikit-learn's linear models
        take it: "balanced" gives class c the weight n / (n_classes * n_c);
        a dict maps labels to weights (others 1). None for multi-label."""
        cw = self.class_weight
        if cw is None or self._label_kind != "multiclass":
            return None
        k = len(self.classes_)
        if isinstance(cw, str):
            if cw != "balanced":
                raise ValueError("class_weight must be 'balanced', a dict or None, got %r" % (cw,))
            counts = np.bincount(T, minlength=k).astype(np.float64)
            per = np.where(counts > 0, T.shape[0] / (k * np.maximum(counts, 1)), 1.0)
        elif isinstance(cw, dict):
            per = np.ones(k)
            for label, weight in cw.items():
                i = np.searchsorted(self.classes_, label)
                if i >= k or self.classes_[i] != label:
                    raise ValueError("class_weight label %r is not in classes %r"
                                     % (label, self.classes_))
                per[i] = float(weight)
        else:
            raise ValueError("class_weight must be 'balanced', a dict or None, got %r" % (cw,))
        return per[T]

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), keeping the optimiser state between calls.
        classes (every label there will be) is required on the first call."""
        self._stopped = None
        return self._fit(X, y, incremental=True, classes=classes, sample_weight=sample_weight)

    @staticmethod
    def _ss_tot(Tv):
        return None

    def _val_score(self, p):
        return p.val_accuracy

    def _logits(self, X):
        return self._forward(X).astype(np.float64)

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), float64: the softmax of
        the outputs (per-label sigmoids for multi-label)."""
        z = self._logits(X)
        if self._label_kind == "multilabel":
            return 1.0 / (1.0 + np.exp(-z))
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict_log_proba(self, X):
        z = self._logits(X)
        if self._label_kind == "multilabel":
            return -np.logaddexp(0.0, -z)
        return z - np.logaddexp.reduce(z, axis=1, keepdims=True)

    def predict(self, X):
        z = self._forward(X)
        if self._label_kind == "multilabel":
            return (z > 0).astype(np.int64)
        return self.classes_[np.argmax(z, axis=1)]

    def _more_tags(self):
        return {"multilabel": True, "_xfail_checks": _FLOAT32_XFAIL}


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor on libmlp (squared error; several
    outputs for 2-D targets). See the module documentation."""

    _loss = "mse"

    def _targets(self, X, y, first, incremental, classes):
        y = _check_y(y, type(self).__name__)
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError("MLPRegressor needs numeric targets, got dtype %s" % y.dtype)
        if y.shape[0:1] != X.shape[0:1]:
            raise ValueError("Found input variables with inconsistent numbers of samples: [%d, %d]"
                             % (X.shape[0], y.shape[0] if y.ndim else 0))
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2:
            raise ValueError("y must be 1-D or 2-D, got shape %s" % (y.shape,))
        T = np.ascontiguousarray(y, dtype=np.float32)
        if not np.isfinite(T).all():
            raise ValueError("Input y contains NaN, infinity or a value too large for float32.")
        if first:
            self.out_activation_ = "identity"
        return T, T.shape[1]

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), keeping the optimiser state between calls."""
        self._stopped = None
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    @staticmethod
    def _ss_tot(Tv):
        return float(np.sum((Tv.astype(np.float64) - Tv.mean(axis=0, dtype=np.float64)) ** 2))

    def _val_score(self, p):
        # val_loss = mean over rows of 1/2 ||o - y||^2, so SS_res = 2 n val_loss.
        ss_res = 2.0 * p.val_loss * self._n_val
        if self._val_ss_tot > 0:
            return 1.0 - ss_res / self._val_ss_tot
        return 1.0 if ss_res == 0 else 0.0

    def _split(self, X, T, seed):
        out = super()._split(X, T, seed)
        self._n_val = out[2].shape[0]
        return out

    def predict(self, X):
        """Predictions (n_samples,) for one output, else (n_samples, n_outputs); float64."""
        y = self._forward(X).astype(np.float64)
        return y.ravel() if self.n_outputs_ == 1 else y

    def _more_tags(self):
        return {"multioutput": True, "_xfail_checks": _FLOAT32_XFAIL}
