"""Finding libmlp and declaring its C functions (each one, once, below)."""

import ctypes
import ctypes.util
import glob
import os

# C types of the header, by name.
size_t = ctypes.c_size_t
status_t = ctypes.c_int
enum_t = ctypes.c_int
handle = ctypes.c_void_p  # mlp_network *, mlp_trainer *, ...
ptr = ctypes.c_void_p  # float *, int32_t *, void * data (numpy .ctypes.data)
out_handle = ctypes.POINTER(ctypes.c_void_p)
out_size = ctypes.POINTER(ctypes.c_size_t)
out_double = ctypes.POINTER(ctypes.c_double)
float_p = ctypes.POINTER(ctypes.c_float)


class Progress(ctypes.Structure):
    """struct mlp_progress (fields are only ever appended in C)."""

    _fields_ = [
        ("epoch", size_t),
        ("epochs", size_t),
        ("batch", size_t),
        ("batches", size_t),
        ("step", size_t),
        ("epoch_end", ctypes.c_int),
        ("train_loss", ctypes.c_double),
        ("objective", ctypes.c_double),
        ("train_accuracy", ctypes.c_double),
        ("val_loss", ctypes.c_double),
        ("val_accuracy", ctypes.c_double),
        ("learning_rate", ctypes.c_double),
        ("elapsed_s", ctypes.c_double),
    ]


class GradcheckBlock(ctypes.Structure):
    """struct mlp_gradcheck_block."""

    _fields_ = [
        ("error", ctypes.c_double),
        ("grad_norm", ctypes.c_double),
        ("fd_norm", ctypes.c_double),
        ("worst_index", size_t),
        ("worst_grad", ctypes.c_double),
        ("worst_fd", ctypes.c_double),
        ("checked", size_t),
        ("skipped", size_t),
    ]


# int (*mlp_callback)(const mlp_progress *, void *user)
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Progress), ctypes.c_void_p)

# name: (restype, argtypes). The whole of include/mlp.h that Python calls.
SIGNATURES = {
    "mlp_version": (ctypes.c_char_p, []),
    "mlp_version_number": (ctypes.c_uint, []),
    "mlp_strerror": (ctypes.c_char_p, [status_t]),
    "mlp_status_name": (ctypes.c_char_p, [status_t]),
    "mlp_last_error": (ctypes.c_char_p, []),
    "mlp_activation_name": (ctypes.c_char_p, [enum_t]),
    "mlp_activation_parse": (status_t, [ctypes.c_char_p, ctypes.POINTER(enum_t)]),
    "mlp_loss_name": (ctypes.c_char_p, [enum_t]),
    "mlp_loss_parse": (status_t, [ctypes.c_char_p, ctypes.POINTER(enum_t)]),
    # the network
    "mlp_create": (status_t, [out_handle, size_t, ctypes.POINTER(size_t), ctypes.POINTER(enum_t),
                              ctypes.c_uint64]),
    "mlp_destroy": (None, [handle]),
    "mlp_clone": (status_t, [handle, out_handle]),
    "mlp_init_params": (status_t, [handle, enum_t, ctypes.c_uint64]),
    "mlp_reserve": (status_t, [handle, size_t]),
    "mlp_capacity": (size_t, [handle]),
    "mlp_num_layers": (size_t, [handle]),
    "mlp_layer_size": (size_t, [handle, size_t]),
    "mlp_input_size": (size_t, [handle]),
    "mlp_output_size": (size_t, [handle]),
    "mlp_layer_activation": (enum_t, [handle, size_t]),
    "mlp_num_params": (size_t, [handle]),
    "mlp_get_weights": (status_t, [handle, size_t, ptr, size_t]),
    "mlp_set_weights": (status_t, [handle, size_t, ptr, size_t]),
    "mlp_get_bias": (status_t, [handle, size_t, ptr, size_t]),
    "mlp_set_bias": (status_t, [handle, size_t, ptr, size_t]),
    "mlp_params": (float_p, [handle]),
    "mlp_params_const": (float_p, [handle]),
    "mlp_grads": (float_p, [handle]),
    "mlp_weights_offset": (size_t, [handle, size_t]),
    "mlp_bias_offset": (size_t, [handle, size_t]),
    "mlp_set_loss": (status_t, [handle, enum_t]),
    "mlp_get_loss": (enum_t, [handle]),
    "mlp_set_l2": (status_t, [handle, ctypes.c_float]),
    "mlp_get_l2": (ctypes.c_float, [handle]),
    "mlp_set_dropout": (status_t, [handle, size_t, ctypes.c_float]),
    "mlp_get_dropout": (ctypes.c_float, [handle, size_t]),
    "mlp_set_input_scaling": (status_t, [handle, ptr, ptr]),
    "mlp_get_input_scaling": (status_t, [handle, ptr, ptr]),
    "mlp_has_input_scaling": (ctypes.c_int, [handle]),
    "mlp_fit_input_scaling": (status_t, [handle, ptr, size_t, enum_t]),
    # passes
    "mlp_forward": (status_t, [handle, ptr, size_t, ptr]),
    "mlp_workspace_create": (status_t, [handle, size_t, out_handle]),
    "mlp_workspace_destroy": (None, [handle]),
    "mlp_forward_ws": (status_t, [handle, handle, ptr, size_t, ptr]),
    "mlp_loss_grad": (status_t, [handle, ptr, size_t, ptr, out_double]),
    "mlp_loss_grad_weighted": (status_t, [handle, ptr, size_t, ptr, ptr, out_double]),
    "mlp_penalty": (ctypes.c_double, [handle]),
    "mlp_evaluate": (status_t, [handle, ptr, size_t, ptr, out_double, out_double]),
    "mlp_gradcheck": (status_t, [handle, ptr, size_t, ptr, ctypes.c_double, size_t,
                                 ctypes.c_uint64, ctypes.POINTER(GradcheckBlock)]),
    "mlp_graph_dot": (status_t, [handle, ctypes.c_char_p, size_t, out_size]),
    # BLAS threads
    "mlp_set_num_threads": (None, [ctypes.c_int]),
    "mlp_get_num_threads": (ctypes.c_int, []),
    "mlp_blas_config": (ctypes.c_char_p, []),
    "mlp_blas_coretype_hint": (ctypes.c_char_p, []),
    # training
    "mlp_trainer_create": (status_t, [handle, out_handle]),
    "mlp_trainer_destroy": (None, [handle]),
    "mlp_trainer_set": (status_t, [handle, enum_t, ctypes.c_double]),
    "mlp_trainer_get": (status_t, [handle, enum_t, out_double]),
    "mlp_trainer_set_callback": (status_t, [handle, CALLBACK, ctypes.c_void_p]),
    "mlp_trainer_step": (status_t, [handle, ptr, size_t, ptr, out_double]),
    "mlp_train": (status_t, [handle, ptr, ptr, size_t, ptr, ptr, size_t]),
    "mlp_train_weighted": (status_t, [handle, ptr, ptr, ptr, size_t, ptr, ptr, ptr, size_t]),
    "mlp_trainer_epochs_run": (size_t, [handle]),
    "mlp_trainer_best_epoch": (size_t, [handle]),
    "mlp_trainer_stop_reason": (ctypes.c_int, [handle]),
    "mlp_trainer_history": (status_t, [handle, size_t, ctypes.POINTER(Progress)]),
    "mlp_optimizer_name": (ctypes.c_char_p, [enum_t]),
    "mlp_optimizer_parse": (status_t, [ctypes.c_char_p, ctypes.POINTER(enum_t)]),
    "mlp_schedule_name": (ctypes.c_char_p, [enum_t]),
    "mlp_schedule_parse": (status_t, [ctypes.c_char_p, ctypes.POINTER(enum_t)]),
    "mlp_stop_reason_name": (ctypes.c_char_p, [enum_t]),
    "mlp_stop_reason_parse": (status_t, [ctypes.c_char_p, ctypes.POINTER(enum_t)]),
    "mlp_option_name": (ctypes.c_char_p, [enum_t]),
    "mlp_option_parse": (status_t, [ctypes.c_char_p, ctypes.POINTER(enum_t)]),
    "mlp_option_info": (status_t, [enum_t, out_double, out_double, out_double,
                                   ctypes.POINTER(ctypes.c_int)]),
    # model files
    "mlp_save": (status_t, [handle, ctypes.c_char_p]),
    "mlp_save_buffer": (status_t, [handle, ptr, size_t, out_size]),
    "mlp_load": (status_t, [out_handle, ctypes.c_char_p]),
    "mlp_load_buffer": (status_t, [out_handle, ptr, size_t]),
    # data sets
    "mlp_dataset_load_idx": (status_t, [out_handle, ctypes.c_char_p, ctypes.c_char_p]),
    "mlp_dataset_load_idx_limit": (status_t, [out_handle, ctypes.c_char_p, ctypes.c_char_p,
                                              size_t]),
    "mlp_dataset_load_csv": (status_t, [out_handle, ctypes.c_char_p, ctypes.c_int, ctypes.c_long,
                                        ctypes.c_int]),
    "mlp_dataset_load_idx_part": (status_t, [out_handle, ctypes.c_char_p, ctypes.c_char_p,
                                             size_t, size_t]),
    "mlp_dataset_load_csv_part": (status_t, [out_handle, ctypes.c_char_p, ctypes.c_int,
                                             ctypes.c_long, ctypes.c_int, size_t, size_t]),
    "mlp_dataset_set_num_classes": (status_t, [handle, size_t]),
    "mlp_dataset_load_csv_limit": (status_t, [out_handle, ctypes.c_char_p, ctypes.c_int,
                                              ctypes.c_long, ctypes.c_int, size_t]),
    "mlp_dataset_destroy": (None, [handle]),
    "mlp_dataset_rows": (size_t, [handle]),
    "mlp_dataset_cols": (size_t, [handle]),
    "mlp_dataset_features": (float_p, [handle]),
    "mlp_dataset_classes": (ctypes.POINTER(ctypes.c_int32), [handle]),
    "mlp_dataset_num_classes": (size_t, [handle]),
    "mlp_dataset_values": (float_p, [handle]),
    "mlp_dataset_target_cols": (size_t, [handle]),
}


def candidates():
    """The paths tried, in order, when MLP_LIBRARY is not set: beside the
    package, then the build tree (build/src, then any build*/src)."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, "libmlp.so"), os.path.join(here, "libmlp.so.0")]
    repo = os.path.dirname(os.path.dirname(here))  # python/mlp -> repository root
    paths.append(os.path.join(repo, "build", "src", "libmlp.so"))
    paths += sorted(p for p in glob.glob(os.path.join(repo, "build*", "src", "libmlp.so"))
                    if p not in paths)
    return paths


def open_library(name, env_var, stem, paths, hint):
    """ctypes.CDLL and path of the shared library `name` (e.g. "libmlp"):
    env_var's path when set (then the only choice: never a silent fallback to
    another build), else the first of paths() that loads, else the system
    loader's lib<stem>.so.0. ImportError naming what was tried, with hint."""
    env = os.environ.get(env_var)
    if env:
        if os.sep in env:
            env = os.path.abspath(env)
        try:
            return ctypes.CDLL(env), env
        except OSError as e:
            raise ImportError("%s: %s=%s cannot be loaded: %s" % (name, env_var, env, e)) from e
    tried = ["%s (not set)" % env_var]
    for path in paths():
        if not os.path.exists(path):
            tried.append(path + " (not found)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    found = ctypes.util.find_library(stem)
    if not found:
        tried.append("system loader: ctypes.util.find_library('%s') found nothing" % stem)
    for lib_name in filter(None, [found, "lib%s.so.0" % stem]):
        try:
            return ctypes.CDLL(lib_name), lib_name
        except OSError as e:
            tried.append("system loader: %s (%s)" % (lib_name, e))
    raise ImportError("%s shared library not found%s. Tried:\n  %s"
                      % (name, hint, "\n  ".join(tried)))


def _load():
    return open_library("libmlp", "MLP_LIBRARY", "mlp", candidates,
                        "; build it (cmake) or set MLP_LIBRARY to its path")


def _declare(cdll, path):
    """Sets argtypes/restype on every declared function; returns them by name.
    A library that lacks any of them (an older or partial build) is refused
    here, naming every missing one, rather than failing later at first use."""
    table = {}
    missing = []
    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
        table[name] = fn
    if missing:
        raise ImportError("libmlp at %s lacks %d function(s) this binding uses: %s"
                          % (path, len(missing), ", ".join(missing)))
    return table


class _Functions:
    """lib.mlp_forward(...) etc., only the declared functions."""

    def __init__(self, cdll, path, table):
        self._cdll = cdll
        self.path = path
        self.__dict__.update(table)

    def has(self, name):
        return name in self.__dict__


_cdll, _path = _load()
lib = _Functions(_cdll, _path, _declare(_cdll, _path))
