"""mlp.Trainer: mlp_trainer_* with a Python callback."""

import ctypes

from . import _arrays as arr
from . import _mpi
from ._errors import check, fail
from ._lib import lib, CALLBACK, Progress
from ._network import _names


# The library's own names, in enum order: a new optimiser, schedule or option
# in libmlp appears here without a change to this file.
OPTIONS = _names(lib.mlp_option_name)  # "optimizer", "learning_rate", ...
OPTIMIZERS = _names(lib.mlp_optimizer_name)  # "sgd", "momentum", "nesterov", "adam", ...
SCHEDULES = _names(lib.mlp_schedule_name)  # "constant", "step", "cosine"
STOP_REASONS = _names(lib.mlp_stop_reason_name)  # "completed", "early_stopping", ...
_NAMED = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES}

# Bits of mlp_option_info's flags (MLP_OPTINFO_* in mlp.h).
_INTEGER, _MIN_OPEN, _MAX_OPEN = 1, 2, 4


def option_info(name):
    """The library's default and valid range of a trainer option, as a dict:
    default (a name for optimizer and schedule), min, max, integer (whole
    numbers only), min_open and max_open (whether that end is excluded)."""
    if name not in OPTIONS:
        raise fail("MLP_ERR_OPTION", "unknown trainer option %r; one of %s"
                   % (name, ", ".join(OPTIONS)))
    d, lo, hi, flags = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_int()
    check(lib.mlp_option_info(OPTIONS.index(name), ctypes.byref(d), ctypes.byref(lo),
                              ctypes.byref(hi), ctypes.byref(flags)))
    default = _NAMED[name][int(d.value)] if name in _NAMED else d.value
    return {"default": default, "min": lo.value, "max": hi.value,
            "integer": bool(flags.value & _INTEGER), "min_open": bool(flags.value & _MIN_OPEN),
            "max_open": bool(flags.value & _MAX_OPEN)}


def progress_dict(p):
    """struct mlp_progress as a dict (epoch_end as a bool)."""
    d = {name: getattr(p, name) for name, _ in Progress._fields_}
    d["epoch_end"] = bool(d["epoch_end"])
    return d


class Trainer:
    """Mini-batch training of a Network by libmlp.

    Trainer(net, **options): options by name (see OPTIONS), e.g.
    Trainer(net, optimizer="adam", learning_rate=1e-3, epochs=10). optimizer
    and schedule take names (see OPTIMIZERS and SCHEDULES); option_info(name)
    gives an option's default and valid range. The trainer keeps the network
    alive. callback(progress: dict) is called at the end of each epoch (and of
    each batch with callback_every_batch=1); returning True stops training
    cleanly; an exception raised inside it stops training and is re-raised by
    train().

    Data-parallel training (libmlp_mpi, loaded only then): with comm, an
    mpi4py communicator such as MPI.COMM_WORLD, every process of comm trains
    one replica, run as `mpirun -np N python3 script.py`. Every process
    creates the same network (same sizes and seed) and trainer options;
    train() and step() are then collective: each process computes the
    gradient of its rows of every global batch of batch_size rows, the
    gradients are summed, and every process applies the same update, so the
    parameters are equal on all processes after every step, and equal to
    one process's training up to float summation order. With
    shard=False (replicated) every process passes the whole training set;
    with shard=True each passes only its own rows, shuffled within them
    (batch_size stays the global batch: an epoch has the steps the rows of
    all shards make, each process giving its part of every batch).
    The callback runs on every process with the reduced statistics, and the
    stop request is reduced too. The full-batch optimisers (lbfgs, irprop)
    do not train across processes (MLPError MLP_ERR_OPTION from train()).
    Only rank 0 should print or save. ImportError when libmlp_mpi is not found
    (MLP_MPI_LIBRARY names it explicitly); MLPError with status
    MLP_ERR_MISMATCH when the processes disagree on the network or options.
    """

    def __init__(self, net, callback=None, comm=None, shard=False, **options):
        self._h = None
        self.net = net
        self._callback = None
        self._cfunc = None
        self._error = None
        self._comm = None
        self._shard = False
        # For the estimators: the callback takes the struct mlp_progress
        # itself (valid during the call only) instead of a dict, sparing the
        # dict's construction at every epoch.
        self._raw_progress = False
        out = ctypes.c_void_p()
        with net._lock:
            check(lib.mlp_trainer_create(net.handle, ctypes.byref(out)))
        self._h = out.value
        net._trainers.add(self)
        for name, value in options.items():
            self.set(name, value)
        self.callback = callback
        if comm is not None:
            self.attach(comm, shard)

    # ---- lifetime --------------------------------------------------------

    def close(self):
        """Destroys the trainer (and with it any attachment to a communicator:
        collective then, as detach is)."""
        h, self._h = self._h, None
        self._comm, self._shard = None, False
        if h:
            lib.mlp_trainer_destroy(h)

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            lib.mlp_trainer_destroy(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def handle(self):
        if not self._h or self.net.closed:
            raise fail("MLP_ERR_NULL", "the trainer or its network is closed")
        return self._h

    # ---- processes ---------------------------------------------------------

    def attach(self, comm, shard=False):
        """Trains data-parallel over comm from now on (collective over comm;
        see the class documentation). Replaces an earlier attachment."""
        if self._comm is not None:
            self.detach()
        _mpi.attach(self.handle, comm, shard)
        self._comm, self._shard = comm, bool(shard)

    def detach(self):
        """Trains in this process alone from now on (collective over comm)."""
        if self._comm is None:
            return
        _mpi.detach(self.handle)
        self._comm, self._shard = None, False

    @property
    def comm(self):
        """The communicator the trainer is attached to, or None."""
        return self._comm

    @property
    def shard(self):
        """True when attached in the sharded mode (each process its own rows)."""
        return self._shard

    @property
    def rank(self):
        """This process's rank in comm (0 when not attached)."""
        return _mpi.rank(self._comm)

    # ---- options ---------------------------------------------------------

    def set(self, name, value):
        if name not in OPTIONS:
            raise fail("MLP_ERR_OPTION", "unknown trainer option %r; one of %s"
                       % (name, ", ".join(OPTIONS)))
        if name in _NAMED and isinstance(value, str):
            choices = _NAMED[name]
            if value not in choices:
                raise fail("MLP_ERR_OPTION", "unknown %s %r; one of %s"
                           % (name, value, ", ".join(choices)))
            value = choices.index(value)
        if isinstance(value, bool):
            value = int(value)
        check(lib.mlp_trainer_set(self.handle, OPTIONS.index(name), float(value)))

    def get(self, name):
        if name not in OPTIONS:
            raise fail("MLP_ERR_OPTION", "unknown trainer option %r" % (name,))
        v = ctypes.c_double()
        check(lib.mlp_trainer_get(self.handle, OPTIONS.index(name), ctypes.byref(v)))
        if name in _NAMED:
            return _NAMED[name][int(v.value)]
        return v.value

    def options(self):
        """Every option and its current value, as a dict."""
        return {name: self.get(name) for name in OPTIONS}

    # ---- the callback ----------------------------------------------------

    @property
    def callback(self):
        return self._callback

    @callback.setter
    def callback(self, fn):
        if fn is not None and not callable(fn):
            raise TypeError("callback must be callable or None")
        self._callback = fn
        self._cfunc = CALLBACK(self._trampoline) if fn is not None else None
        # A NULL callback when none: the C side then skips the calls.
        check(lib.mlp_trainer_set_callback(self.handle, self._cfunc or CALLBACK(), None))

    def _trampoline(self, p, user):
        # Runs inside mlp_train (the GIL is re-acquired by ctypes). Nothing may
        # propagate into C: an exception is kept and re-raised by train().
        try:
            arg = p.contents if self._raw_progress else progress_dict(p.contents)
            return 1 if self._callback(arg) else 0
        except BaseException as e:  # noqa: B902 (KeyboardInterrupt included)
            self._error = e
            return 1

    # ---- training ----------------------------------------------------------

    def _data(self, X, y, what):
        net = self.net
        X = arr.matrix(X, net.n_inputs, "X" + what)
        T = net._targets(y, X.shape[0], net.loss)
        return X, T

    def step(self, X, y):
        """One optimiser step on one batch; returns J (dropout active)."""
        X, T = self._data(X, y, "")
        J = ctypes.c_double()
        with self.net._lock:
            check(lib.mlp_trainer_step(self.handle, arr.address(X), X.shape[0], arr.address(T),
                                       ctypes.byref(J)))
        return J.value

    def train(self, X, y, X_val=None, y_val=None, sample_weight=None, val_weight=None):
        """Trains for the configured epochs; returns the per-epoch history
        (list of dicts). Targets follow the network's loss (net.loss).
        sample_weight and val_weight: per-row weights (None = all ones), each
        batch's loss becoming sum w_i l_i / sum w_i (mlp_train_weighted)."""
        X, T = self._data(X, y, "")
        W = arr.weights(sample_weight, X.shape[0])
        Xv = Tv = Wv = None
        n_val = 0
        if X_val is not None:
            if y_val is None:
                raise fail("MLP_ERR_ARGUMENT", "X_val given without y_val")
            Xv, Tv = self._data(X_val, y_val, "_val")
            n_val = Xv.shape[0]
            Wv = arr.weights(val_weight, n_val, "val_weight")
        self._error = None
        with self.net._lock:
            st = lib.mlp_train_weighted(self.handle, arr.address(X), arr.address(T),
                                        arr.address(W), X.shape[0], arr.address(Xv),
                                        arr.address(Tv), arr.address(Wv), n_val)
            err, self._error = self._error, None
            if err is not None:
                raise err
            check(st)
        return self.history

    @property
    def epochs_run(self):
        return lib.mlp_trainer_epochs_run(self.handle)

    @property
    def best_epoch(self):
        return lib.mlp_trainer_best_epoch(self.handle)

    @property
    def stop_reason(self):
        """Why the last train() stopped: a name from STOP_REASONS ("completed",
        "early_stopping", "callback", "diverged", and for L-BFGS "converged"
        and "max_fun")."""
        r = lib.mlp_trainer_stop_reason(self.handle)
        name = lib.mlp_stop_reason_name(r)
        return name.decode() if name else r

    @property
    def history(self):
        """The per-epoch reports of the last train(), as dicts."""
        out = []
        p = Progress()
        for e in range(1, self.epochs_run + 1):
            check(lib.mlp_trainer_history(self.handle, e, ctypes.byref(p)))
            out.append(progress_dict(p))
        return out
