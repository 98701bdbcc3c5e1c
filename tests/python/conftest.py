import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # reference.py
# python/ of this checkout, unless PYTHONPATH already points at a package.
sys.path.append(os.path.join(HERE, "..", "..", "python"))

import mlp  # noqa: E402,F401  (fails early, and clearly, if libmlp is not found)


@pytest.fixture
def rng():
    return np.random.RandomState(1234)
