"""The `mlp` package as `pip install .` leaves it: run by scripts/ci-pip.sh with
the venv's python, from a folder outside the repository, with PYTHONPATH and
MLP_LIBRARY unset. MLP_EXPECTED_VERSION is include/mlp.h's version."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile

import mlp

# What the library may link: OpenBLAS, zlib, the C library (libc, libm, and the
# dynamic loader, which provides thread-local storage).
ALLOWED_NEEDED = {"libopenblas.so.0", "libz.so.1", "libm.so.6", "libc.so.6"}


def package_dir():
    return os.path.dirname(os.path.abspath(mlp.__file__))


def test_the_installed_package_and_its_bundled_library_are_used():
    assert "PYTHONPATH" not in os.environ and "MLP_LIBRARY" not in os.environ
    site = os.path.realpath(sys.prefix)
    assert os.path.realpath(package_dir()).startswith(site + os.sep), (mlp.__file__, site)
    assert mlp.library_path == os.path.join(package_dir(), "libmlp.so")


def test_versions_come_from_the_header():
    expected = os.environ["MLP_EXPECTED_VERSION"]
    assert mlp.__version__ == expected
    assert mlp.library_version() == expected
    assert importlib.metadata.version("libmlp") == expected


def test_python_m_mlp_prints_version_library_and_openblas():
    r = subprocess.run([sys.executable, "-m", "mlp"], capture_output=True, text=True, check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "mlp " + mlp.__version__
    assert lines[1] == "library: " + mlp.library_path
    assert lines[2].startswith("OpenBLAS: OpenBLAS "), lines[2]


def test_bundled_library_links_only_openblas_zlib_and_libc():
    out = subprocess.run(["readelf", "-d", mlp.library_path], capture_output=True, text=True,
                         check=True).stdout
    needed = {line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line}
    assert "libopenblas.so.0" in needed and "libz.so.1" in needed, needed
    extra = {n for n in needed - ALLOWED_NEEDED if not n.startswith("ld-linux")}
    assert not extra, "libmlp.so links more than OpenBLAS, zlib and libc: %s" % sorted(extra)
    # no build-tree search path baked in
    assert "(RPATH)" not in out and "(RUNPATH)" not in out, out


def test_an_explicit_mlp_library_still_wins():
    code = "import mlp; print(mlp.library_path)"
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "libmlp-copy.so")
        shutil.copy(mlp.library_path, copy)
        env = dict(os.environ, MLP_LIBRARY=copy)
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == copy
        env["MLP_LIBRARY"] = os.path.join(d, "absent.so")
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert r.returncode != 0 and "MLP_LIBRARY=" + env["MLP_LIBRARY"] in r.stderr


def readelf_dynamic(path):
    return subprocess.run(["readelf", "-d", path], capture_output=True, text=True,
                          check=True).stdout


def test_libmlp_mpi_is_bundled_beside_libmlp_and_used_under_mpirun():
    """scripts/deps.sh installs Open MPI, so setup.py builds libmlp_mpi too; the
    package finds it beside its libmlp, which it needs (by SONAME) with MPI."""
    bundled = os.path.join(package_dir(), "libmlp_mpi.so")
    assert os.path.isfile(bundled), "no libmlp_mpi.so in %s (MPI not found at build?)" % (
        package_dir())
    out = readelf_dynamic(bundled)
    needed = {line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line}
    assert "libmlp.so.0" in needed and any(n.startswith("libmpi.so") for n in needed), needed
    assert "(RPATH)" not in out and "(RUNPATH)" not in out, out
    code = """if True:
        import numpy as np
        from mpi4py import MPI
        import mlp, mlp._mpi
        comm = MPI.COMM_WORLD
        net = mlp.Network([3, 5, 2], seed=1)
        net.loss = "softmax_cross_entropy"
        X = np.random.RandomState(0).normal(size=(41, 3)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.int32)
        mlp.Trainer(net, comm=comm, epochs=3, batch_size=8).train(X, y)
        theta = comm.gather(net._flat("params").tobytes())
        if comm.Get_rank() == 0:
            print(mlp._mpi.library().path, len(theta), theta[0] == theta[1])
    """
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    r = subprocess.run(["mpirun", "--oversubscribe", "--bind-to", "none", "-np", "2",
                        sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == [bundled, "2", "True"], r.stdout
