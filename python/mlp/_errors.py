"""Library statuses as Python exceptions."""

from ._lib import lib

# Statuses about files: raised as MLPFileError, which is also an OSError.
FILE_STATUSES = frozenset({
    "MLP_ERR_IO", "MLP_ERR_BAD_MAGIC", "MLP_ERR_VERSION", "MLP_ERR_TRUNCATED",
    "MLP_ERR_CORRUPT", "MLP_ERR_CHECKSUM",
})


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


class MLPError(ValueError):
    """A libmlp failure. Attributes: status (int), name ("MLP_ERR_LABEL"),
    description (mlp_strerror) and message (the library's own detail,
    mlp_last_error(), or the binding's for checks made before the call)."""

    def __init__(self, status, message=""):
        self.status = int(status)
        self.name = _text(lib.mlp_status_name(self.status))
        self.description = _text(lib.mlp_strerror(self.status))
        self.message = message
        text = "%s: %s" % (self.name, message or self.description)
        super().__init__(text)

    def __reduce__(self):
        return (error, (self.status, self.message))


class MLPFileError(MLPError, OSError):
    """A failure reading or writing a model file (also an OSError)."""


class MLPMemoryError(MLPError, MemoryError):
    """MLP_ERR_NOMEM (also a MemoryError)."""


def error(status, message=""):
    """The exception for status, of the right class."""
    name = _text(lib.mlp_status_name(int(status)))
    if name in FILE_STATUSES:
        return MLPFileError(status, message)
    if name == "MLP_ERR_NOMEM":
        return MLPMemoryError(status, message)
    return MLPError(status, message)


def check(status):
    """Raises the library's error for a failed status (call right after the C
    call, in the same thread: mlp_last_error is thread-local)."""
    if status != 0:
        raise error(status, _text(lib.mlp_last_error()))


def status_code(name):
    """The integer value of a status name such as "MLP_ERR_MISMATCH"."""
    return STATUS[name]


def _statuses():
    codes = {}
    for code in range(64):
        name = _text(lib.mlp_status_name(code))
        if name.startswith("MLP_") and name not in codes:
            codes[name] = code
    return codes


STATUS = _statuses()


def fail(name, message):
    """An MLPError raised by the binding itself (a check before the C call)."""
    return error(STATUS[name], message)
