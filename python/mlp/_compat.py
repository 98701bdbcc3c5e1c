"""scikit-learn's base classes when it is installed, small equivalents when not."""

import inspect

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError

    HAVE_SKLEARN = True
except ImportError:  # the estimators work without scikit-learn
    HAVE_SKLEARN = False

    class NotFittedError(ValueError, AttributeError):
        """The estimator is used before fit."""

    class DataConversionWarning(UserWarning):
        """The input was converted in a way the caller may not expect."""

    class ConvergenceWarning(UserWarning):
        """Training stopped at max_iter without converging."""

    class BaseEstimator:
        """get_params/set_params from __init__'s keyword arguments."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values()
                          if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError("Invalid parameter %r for estimator %s. Valid parameters "
                                     "are: %r." % (key, type(self).__name__, valid))
                setattr(self, key, value)
            return self

        def __repr__(self):
            args = ", ".join("%s=%r" % kv for kv in self.get_params().items())
            return "%s(%s)" % (type(self).__name__, args)

        def __getstate__(self):
            return self.__dict__.copy()

    class ClassifierMixin:
        _estimator_type = "classifier"

        def score(self, X, y, sample_weight=None):
            """Mean accuracy (exact match of every label for multi-label)."""
            y = np.asarray(y)
            pred = self.predict(X)
            hit = pred == y if y.ndim == 1 else np.all(pred == y, axis=1)
            return float(np.average(hit, weights=sample_weight))

    class RegressorMixin:
        _estimator_type = "regressor"

        def score(self, X, y, sample_weight=None):
            """R^2, averaged uniformly over the outputs."""
            y = np.asarray(y, dtype=np.float64)
            pred = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
            w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
            if y.ndim == 1:
                y, pred = y[:, None], pred[:, None]
            ss_res = np.average((y - pred) ** 2, axis=0, weights=w)
            ss_tot = np.average((y - np.average(y, axis=0, weights=w)) ** 2, axis=0, weights=w)
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res > 0, 0.0, 1.0))
            return float(np.mean(r2))
