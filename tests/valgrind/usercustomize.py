"""Python start-up hook for scripts/ci-valgrind-python.sh only: that script
makes this file the `usercustomize` module of every Python process it runs
(PYTHONUSERBASE), the pytest process and the ones the tests start.

Under valgrind, scipy.stats (which scikit-learn, and so the binding's
estimators, import) cannot be imported: loading each scipy/stats/_boost/
*_ufunc extension runs Boost.Math's static initialiser for
erfc_inv<long double>, and valgrind emulates x87 long double with 64-bit
doubles, so that warm-up call overflows. scipy's Boost error policy turns the
overflow into a pending Python OverflowError (no C++ throw), and the import
then fails: "SystemError: initialization of beta_ufunc raised unreported
exception". Natively nothing is raised.

So, just before scipy.stats is first imported, each of those extensions is
loaded once with ctypes and exactly that pending OverflowError is discarded
(any other error is raised). The libraries stay loaded; the import that
follows finds them initialised and succeeds. Nothing of libmlp is involved;
only the result of Boost's long double warm-up call is thrown away, a
precision scikit-learn's float32/float64 code never uses.
"""

import sys


def _load_boost_ufuncs():
    import ctypes
    import glob
    import importlib.util
    import os

    spec = importlib.util.find_spec("scipy")  # finds the package, imports nothing
    if spec is None or not spec.submodule_search_locations:
        return
    where = os.path.join(list(spec.submodule_search_locations)[0], "stats", "_boost")
    for path in sorted(glob.glob(os.path.join(where, "*_ufunc*.so"))):
        try:
            ctypes.PyDLL(path)
        except SystemError as e:
            cause = e.__cause__
            if not (isinstance(cause, OverflowError) and "boost::math::erf" in str(cause)):
                raise


class _BeforeScipyStats:
    """A meta path entry that finds nothing: it only runs the loads above
    once, when scipy.stats is about to be imported."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "scipy.stats":
            sys.meta_path.remove(cls)
            _load_boost_ufuncs()
        return None


sys.meta_path.insert(0, _BeforeScipyStats)
