"""Builds and loads the encoder's kernels (csrc/minilm_ops.cpp, AVX-512 only): the Int8 Linear
layer with vector-wise scales, and attention.

Compiled once with torch.utils.cpp_extension (gcc, about 30 s) into DISCOVERY_CACHE_DIR (else
$DATA_DIR/discovery-cache, else ./var/discovery-cache) and reused by every later process.
`ops()` is None where the CPU lacks AVX-512, the build fails, or
DISCOVERY_KERNELS=0; the encoder then uses PyTorch's per-tensor Int8 and attention.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
SOURCE = Path(__file__).parent / "csrc" / "minilm_ops.cpp"


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def cpu_has_avx512() -> bool:
    return "avx512f" in cpu_flags()


def cache_dir() -> Path:
    explicit = os.environ.get("DISCOVERY_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("DATA_DIR")
    root = Path(data).expanduser() if data else Path(__file__).resolve().parent.parent / "var"
    return root / "discovery-cache"


@functools.lru_cache(maxsize=1)
def ops():
    """The compiled module, or None (see the module doc)."""
    if os.environ.get("DISCOVERY_KERNELS", "1") == "0" or not cpu_has_avx512():
        return None
    from torch.utils.cpp_extension import load

    build = cache_dir() / "torch_extensions" / "avx512"
    build.mkdir(parents=True, exist_ok=True)
    try:
        return load(name="discovery_minilm_ops", sources=[str(SOURCE)], build_directory=str(build),
                    extra_cflags=["-O3", "-mavx512f", "-mfma"],  # any AVX-512 CPU can run it
                    verbose=os.environ.get("DISCOVERY_VERBOSE_BUILD") == "1")
    except Exception as exc:  # a missing compiler must not take ingestion down
        log.warning("could not build the encoder kernels (%s): using PyTorch's Int8 and attention", exc)
        return None
