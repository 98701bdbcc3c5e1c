"""Builds libmlp.so with CMake and puts it inside the `mlp` package (with
libmlp_mpi.so beside it where CMake finds MPI).

Metadata is in pyproject.toml; this file adds what a declarative file cannot:
the version from include/mlp.h, the CMake build, and a platform wheel tag
(the package carries a native library, though no CPython extension).
Nothing is written into the source tree: setuptools' build folders and the
egg-info go to a temporary folder, removed at exit.
"""

import atexit
import os
import re
import shutil
import subprocess
import tempfile

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from wheel.bdist_wheel import bdist_wheel

ROOT = os.path.dirname(os.path.abspath(__file__))


def mlp_version():
    with open(os.path.join(ROOT, "include", "mlp.h"), encoding="utf-8") as f:
        text = f.read()
    parts = [re.search(r"^#define MLP_VERSION_%s +(\d+)" % k, text, re.M) for k in
             ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise RuntimeError("include/mlp.h: MLP_VERSION_MAJOR/MINOR/PATCH not found")
    return ".".join(m.group(1) for m in parts)


def build_mpi_library(build_dir, jobs, dest):
    """Builds libmlp_mpi beside libmlp when CMake configured it (MPI found),
    copied to dest: the package loads it only for a communicator (comm=).
    Without MPI the target does not exist and the package goes without it;
    any other build failure fails the install."""
    r = subprocess.run(["cmake", "--build", build_dir, "--target", "mlp_mpi", "--parallel"] + jobs,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        out = r.stdout
        if ("No rule to make target" in out and "mlp_mpi" in out) or "unknown target" in out:
            print("libmlp_mpi: not configured (MPI not found); the package goes without it")
            return
        print(out)
        raise RuntimeError("building libmlp_mpi failed (cmake --build --target mlp_mpi)")
    print(r.stdout, end="")
    built = sorted(os.path.realpath(os.path.join(d, "libmlp_mpi.so"))
                   for d, _, files in os.walk(build_dir) if "libmlp_mpi.so" in files)
    if not built:
        raise RuntimeError("the mlp_mpi target built no libmlp_mpi.so under %s" % build_dir)
    shutil.copyfile(built[0], dest)


def cmake_build(build_dir, dest):
    """Configures and builds the shared library alone (and libmlp_mpi where
    MPI is found); copies them to dest's folder."""
    # No build-tree RUNPATH (pkg-config's -L folder of OpenBLAS, with CMake's
    # padding): the installed library finds OpenBLAS as the system loader does.
    subprocess.check_call([
        "cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
        "-DMLP_BUILD_TESTS=OFF", "-DMLP_BUILD_TOOLS=OFF", "-DMLP_BUILD_BENCHMARKS=OFF",
        "-DMLP_BUILD_FUZZERS=OFF", "-DMLP_SANITIZE=", "-DCMAKE_SKIP_BUILD_RPATH=ON"])
    # CMAKE_BUILD_PARALLEL_LEVEL, when set, is cmake's own default for --parallel.
    jobs = [] if os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") else [str(os.cpu_count() or 1)]
    subprocess.check_call(["cmake", "--build", build_dir, "--target", "mlp", "--parallel"] + jobs)
    # libmlp.so is a symlink chain in the build tree; a wheel holds plain files.
    built = os.path.realpath(os.path.join(build_dir, "src", "libmlp.so"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(built, dest)
    build_mpi_library(build_dir, jobs, os.path.join(os.path.dirname(dest), "libmlp_mpi.so"))


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        cmake_build(os.path.join(self.get_finalized_command("build").build_temp, "cmake"),
                    os.path.join(self.build_lib, "mlp", "libmlp.so"))


class NativeDistribution(Distribution):
    """Carries a native library: installed into platlib, a platform wheel."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """py3-none-<platform>: any Python 3 (ctypes), one machine architecture."""

    def get_tag(self):
        return ("py3", "none") + super().get_tag()[2:]


_scratch = tempfile.mkdtemp(prefix="libmlp-setup-")
atexit.register(shutil.rmtree, _scratch, ignore_errors=True)

setup(
    version=mlp_version(),
    package_dir={"": "python"},
    packages=["mlp"],
    distclass=NativeDistribution,
    cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel},
    options={"build": {"build_base": os.path.join(_scratch, "build")},
             "egg_info": {"egg_base": _scratch}},
)
