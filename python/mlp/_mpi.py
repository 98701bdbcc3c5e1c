"""libmlp_mpi from Python: data-parallel training over an mpi4py communicator.

Nothing here runs at `import mlp`: libmlp_mpi (and through it the MPI
library) is loaded the first time a Trainer is given a communicator, so that
the package works on a machine without MPI or mpi4py, and libmlp.so itself
links no MPI.

libmlp_mpi is found as libmlp is: MLP_MPI_LIBRARY when set (then the only
choice), else beside the libmlp in use (so that a build tree's or a wheel's
pair is taken together), beside this package, in the build tree, then by the
system loader.
"""

import ctypes
import glob
import os
import threading
import types

from ._errors import _text, error
from ._lib import enum_t, handle, lib, open_library, status_t

# mlp_mpi_mode, by name, in enum order.
MODES = ("replicated", "sharded")

# MPI_Fint is a C int in Open MPI and MPICH: what mpi4py's comm.py2f() returns.
_SIGNATURES = {
    "mlp_mpi_attach_f": (status_t, [handle, ctypes.c_int, enum_t]),
    "mlp_mpi_detach": (status_t, [handle]),
}
_NAMES = ("libmlp_mpi.so", "libmlp_mpi.so.0")

_loaded = None
_lock = threading.Lock()


def candidates():
    """The paths tried, in order, when MLP_MPI_LIBRARY is not set."""
    dirs = []
    if os.sep in lib.path:
        d = os.path.dirname(os.path.abspath(lib.path))
        dirs.append(d)
        if os.path.basename(d) == "src":  # a build tree: <build>/src beside <build>/mpi
            dirs.append(os.path.join(os.path.dirname(d), "mpi"))
    here = os.path.dirname(os.path.abspath(__file__))
    dirs.append(here)
    paths = []
    for d in dirs:
        paths += [os.path.join(d, n) for n in _NAMES]
    repo = os.path.dirname(os.path.dirname(here))  # python/mlp -> repository root
    paths.append(os.path.join(repo, "build", "mpi", "libmlp_mpi.so"))
    paths += sorted(glob.glob(os.path.join(repo, "build*", "mpi", "libmlp_mpi.so")))
    seen = set()
    return [p for p in paths if not (p in seen or seen.add(p))]


def _open():
    return open_library("libmlp_mpi", "MLP_MPI_LIBRARY", "mlp_mpi", candidates,
                        ": a communicator (comm=) needs it. Build libmlp with MPI (CMake "
                        "finds it when libopenmpi-dev is installed) or set MLP_MPI_LIBRARY "
                        "to its path")


def library():
    """The loaded libmlp_mpi (its functions by name, and .path), loading it
    on the first call. ImportError, naming what was tried, when it is absent."""
    global _loaded
    with _lock:
        if _loaded is None:
            cdll, path = _open()
            missing = []
            table = {"path": path}
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(cdll, name, None)
                if fn is None:
                    missing.append(name)
                    continue
                fn.restype, fn.argtypes = restype, argtypes
                table[name] = fn
            if missing:
                raise ImportError("libmlp_mpi at %s lacks %s" % (path, ", ".join(missing)))
            table["_cdll"] = cdll
            _loaded = types.SimpleNamespace(**table)
        return _loaded


def _fortran_handle(comm):
    """comm's MPI_Fint, after the checks that would otherwise end in an MPI
    error handler (which aborts every process) rather than an exception."""
    py2f = getattr(comm, "py2f", None)
    if not callable(py2f):
        raise TypeError("comm must be an mpi4py communicator such as MPI.COMM_WORLD, got %r"
                        % (comm,))
    from mpi4py import MPI  # comm came from mpi4py: importable
    if not MPI.Is_initialized() or MPI.Is_finalized():
        raise RuntimeError("comm: MPI is not initialised or already finalised")
    if comm == MPI.COMM_NULL:
        raise ValueError("comm is MPI.COMM_NULL")
    if not isinstance(comm, MPI.Intracomm) or comm.Is_inter():
        raise TypeError("comm must be an intra-communicator, got %r" % (comm,))
    return int(py2f())


def mode_value(shard):
    return MODES.index("sharded" if shard else "replicated")


def _call(name, *args):
    """Calls libmlp_mpi's name; raises its status as the binding's exception.
    libmlp_mpi's own failures (MPI_Comm_dup, allocation) return a status
    without libmlp's message, so a message left unchanged by the call is
    not taken for this failure's."""
    before = lib.mlp_last_error()
    status = getattr(library(), name)(*args)
    if status != 0:
        message = lib.mlp_last_error()
        if message == before:
            message = ("%s failed: %s" % (name, _text(lib.mlp_strerror(status)))).encode()
        raise error(status, _text(message))


def attach(trainer_handle, comm, shard):
    """mlp_mpi_attach_f: collective over comm. Raises the library's error
    (MLPError; MLP_ERR_MISMATCH, naming what differs, when the processes
    disagree on the network, its parameters or the options; MLP_ERR_OPTION
    for the full-batch optimisers, L-BFGS and iRPROP-)."""
    f = _fortran_handle(comm)
    library()  # ImportError before any MPI call when it is absent
    _call("mlp_mpi_attach_f", trainer_handle, f, mode_value(shard))


def detach(trainer_handle):
    _call("mlp_mpi_detach", trainer_handle)


def rank(comm):
    """This process's rank in comm; 0 without one."""
    return 0 if comm is None else int(comm.Get_rank())


def broadcast_seed(comm, seed):
    """Rank 0's seed on every process (a seed drawn at random differs per process)."""
    return seed if comm is None else int(comm.bcast(int(seed), root=0))
