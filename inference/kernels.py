"""Builds and loads the LLM.int8() CPU kernels in csrc/int8_ops.cpp (AVX-512 VNNI, or AVX2 +
FMA + F16C where the CPU has no AVX-512: the source picks its path from -march=native).

The extension is compiled once with torch.utils.cpp_extension (gcc, about a minute) into the
LLM cache directory and reused by every later process. `available()` says whether it loaded;
callers fall back to the pure-torch reference in int8.py when it did not.

Every build has its own folder, named by a hash of all the binary depends on (`build_key`): the
source, the compiler's flags and version, this CPU's feature flags (-march=native compiles for
them: a cache shared by several machines, a lab's NFS volume or CI runners, must never hand one
CPU's binary to an older one), torch and Python (the ABI). discovery/kernels.py builds the
encoder's kernels through `extension_load` too.
"""
import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import settings

log = logging.getLogger(__name__)
SOURCE = Path(__file__).parent / "csrc" / "int8_ops.cpp"
CFLAGS = ["-O3", "-march=native", "-fopenmp"]
LDFLAGS = ["-fopenmp"]


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def cpu_has_vnni() -> bool:
    return {"avx512_vnni", "avx512bw"} <= cpu_flags()


def cpu_supported() -> bool:
    """A CPU one of the kernel's two paths can run on."""
    return cpu_has_vnni() or {"avx2", "fma", "f16c"} <= cpu_flags()


@functools.lru_cache(maxsize=1)
def compiler_version() -> str:
    """`$CXX --version` (torch compiles with $CXX, else c++); empty where there is no compiler."""
    try:
        done = subprocess.run([settings.compiler(), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def build_key(source: Path, cflags: list[str], ldflags: list[str]) -> str:
    import torch

    blob = json.dumps([hashlib.sha256(source.read_bytes()).hexdigest(), cflags, ldflags, compiler_version(),
                       sorted(cpu_flags()), torch.__version__, sys.version])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def extension_load(name: str, source: Path, root: Path, cflags: list[str], ldflags: list[str], verbose: bool):
    """The compiled module: imported from root/<name>-<build_key>/ when built there before, else built."""
    folder = root / f"{name}-{build_key(source, cflags, ldflags)}"
    library = folder / f"{name}.so"
    if not library.exists():
        with build_lock(folder):  # a second process waits for the first one's build, then imports it
            if not library.exists():
                return extension_build(name, source, folder, cflags, ldflags, verbose)
    return library_import(name, library)


@contextlib.contextmanager
def build_lock(folder: Path):
    """flock on folder.lock: released by the kernel when its process dies, so never stale."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def extension_build(name: str, source: Path, folder: Path, cflags: list[str], ldflags: list[str], verbose: bool):
    """Compiled in a private temp folder, then renamed into place: another process (the tests'
    Celery worker, a second worker) finds either no folder or a complete build, never half of one."""
    from torch.utils.cpp_extension import load

    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        module = load(name=name, sources=[str(source)], build_directory=str(tmp), extra_cflags=cflags,
                      extra_ldflags=ldflags, verbose=verbose)
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first; its build is as good as ours
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # what is left of a failed or a redundant build
    return module


def library_import(name: str, library: Path):
    """A built extension module (it links against libtorch, which importing torch loads)."""
    import torch  # noqa: F401

    spec = importlib.util.spec_from_file_location(name, library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=1)
def ops():
    """The compiled module, or None when this machine cannot build or run it."""
    if not cpu_supported():
        log.warning("CPU lacks AVX-512 VNNI and AVX2: using the pure-torch int8 reference path")
        return None
    try:
        mod = extension_load("llm_int8_ops", SOURCE, settings.cache_dir() / "kernels", CFLAGS, LDFLAGS,
                             verbose=settings.verbose_build())
    except Exception as exc:  # a missing compiler must not take the product down
        log.warning("could not build the int8 kernels (%s): using the pure-torch path", exc)
        return None
    mod.set_parallel_decode(settings.parallel_decode())
    return mod


def available() -> bool:
    return ops() is not None
