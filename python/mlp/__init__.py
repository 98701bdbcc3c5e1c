"""libmlp from Python: multilayer perceptrons on OpenBLAS through ctypes.

    import mlp
    net = mlp.Network([4, 16, 3], activations=["tanh", "identity"], seed=0)
    Y = net.forward(X)
    J, grads = net.loss_and_grad(X, classes, loss="softmax_cross_entropy")
    clf = mlp.MLPClassifier(hidden_layer_sizes=(64,)).fit(X, y)

The shared library is found through MLP_LIBRARY, then beside this package,
then the build tree (build*/src/libmlp.so), then the system loader.
"""

from ._lib import lib as _clib
from ._errors import MLPError, MLPFileError, MLPMemoryError, STATUS
from ._network import ACTIVATIONS, LOSSES, Network, Predictor
from ._trainer import OPTIMIZERS, OPTIONS, SCHEDULES, STOP_REASONS, Trainer, option_info
from ._estimators import MLPClassifier, MLPRegressor
from ._compat import HAVE_SKLEARN, ConvergenceWarning, DataConversionWarning, NotFittedError
from ._data import load_csv, load_idx

__all__ = [
    "Network", "Predictor", "Trainer", "MLPClassifier", "MLPRegressor",
    "MLPError", "MLPFileError", "MLPMemoryError",
    "NotFittedError", "ConvergenceWarning", "DataConversionWarning",
    "ACTIVATIONS", "LOSSES", "OPTIMIZERS", "OPTIONS", "SCHEDULES", "STOP_REASONS", "STATUS",
    "HAVE_SKLEARN", "option_info",
    "load_idx", "load_csv", "library_path", "library_version", "set_num_threads", "get_num_threads", "blas_config",
    "blas_coretype_hint",
]

__version__ = _clib.mlp_version().decode()  # the version lives in mlp.h alone

#: the path of the libmlp shared library in use
library_path = _clib.path


def library_version():
    """The version of the loaded libmlp, "MAJOR.MINOR.PATCH"."""
    return _clib.mlp_version().decode()


def set_num_threads(n):
    """OpenBLAS threads (process-wide)."""
    _clib.mlp_set_num_threads(int(n))


def get_num_threads():
    return _clib.mlp_get_num_threads()


def blas_config():
    return _clib.mlp_blas_config().decode()


def blas_coretype_hint():
    """The OPENBLAS_CORETYPE under which OpenBLAS would use this CPU's vector
    units, when it runs its SSE kernels on a CPU with AVX2 or AVX-512 (an
    OpenBLAS older than the CPU); None otherwise. It takes effect only when
    set before the process starts."""
    hint = _clib.mlp_blas_coretype_hint()
    return hint.decode() if hint is not None else None
