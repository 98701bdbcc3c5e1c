import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # reference.py
# python/ of this checkout, unless PYTHONPATH already points at a package.
sys.path.append(os.path.join(HERE, "..", "..", "python"))

import mlp  # noqa: E402


def trainer_available():
    return mlp._clib.has("mlp_train")


def io_available():
    return mlp._clib.has("mlp_save")


needs_trainer = pytest.mark.skipif(not trainer_available(),
                                   reason="libmlp built without the trainer (mlp_train)")
needs_io = pytest.mark.skipif(not io_available(),
                              reason="libmlp built without model files (mlp_save)")


@pytest.fixture
def rng():
    return np.random.RandomState(1234)
