"""Builds and loads the LLM.int8() CPU kernels in csrc/int8_ops.cpp (AVX-512 VNNI, or AVX2 +
FMA + F16C where the CPU has no AVX-512: the source picks its path from -march=native).

The extension is compiled once with torch.utils.cpp_extension (gcc, about a minute) into the
LLM cache directory and reused by every later process. `available()` says whether it loaded;
callers fall back to the pure-torch reference in int8.py when it did not.
"""
import functools
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
SOURCE = Path(__file__).parent / "csrc" / "int8_ops.cpp"


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def cpu_has_vnni() -> bool:
    return {"avx512_vnni", "avx512bw"} <= cpu_flags()


def cpu_supported() -> bool:
    """A CPU one of the kernel's two paths can run on."""
    return cpu_has_vnni() or {"avx2", "fma", "f16c"} <= cpu_flags()


@functools.lru_cache(maxsize=1)
def ops():
    """The compiled module, or None when this machine cannot build or run it."""
    if not cpu_supported():
        log.warning("CPU lacks AVX-512 VNNI and AVX2: using the pure-torch int8 reference path")
        return None
    from torch.utils.cpp_extension import load

    from .settings import cache_dir

    # one build per instruction set: a cache shared by several machines (a lab's NFS volume)
    # must not hand an AVX-512 binary to an AVX2-only CPU
    build = cache_dir() / "torch_extensions" / ("avx512_vnni" if cpu_has_vnni() else "avx2")
    build.mkdir(parents=True, exist_ok=True)
    try:
        mod = load(name="llm_int8_ops", sources=[str(SOURCE)], build_directory=str(build),
                   extra_cflags=["-O3", "-march=native", "-fopenmp"], extra_ldflags=["-fopenmp"],
                   verbose=os.environ.get("LLM_VERBOSE_BUILD") == "1")
    except Exception as exc:  # a missing compiler must not take the product down
        log.warning("could not build the int8 kernels (%s): using the pure-torch path", exc)
        return None
    mod.set_parallel_decode(parallel_decode())
    return mod


def parallel_decode() -> bool:
    """LLM_PARALLEL_DECODE=1 splits one-token matmuls across torch's threads: worth it only on a
    machine where no other process wants those cores. Prompt blocks always use all threads."""
    raw = os.environ.get("LLM_PARALLEL_DECODE", "0").strip()
    if raw not in ("0", "1"):
        raise RuntimeError(f"LLM_PARALLEL_DECODE={raw!r} must be 0 or 1")
    return raw == "1"


def available() -> bool:
    return ops() is not None

