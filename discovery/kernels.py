"""Builds and loads the encoder's kernels (csrc/minilm_ops.cpp, AVX-512 only): the Int8 Linear
layer with vector-wise scales, and attention.

Compiled once with torch.utils.cpp_extension (gcc, about 30 s) into the discovery cache
(discovery.settings.cache_dir) and reused by every later process; the build folder is keyed by
the source, the flags, the compiler and the CPU (inference.kernels.extension_load, which builds
the LLM's kernels the same way). `ops()` is None where the CPU lacks AVX-512, the build fails, or
DISCOVERY_KERNELS=0; the encoder then uses PyTorch's per-tensor Int8 and attention.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

from inference.kernels import cpu_flags, extension_load

log = logging.getLogger(__name__)
SOURCE = Path(__file__).parent / "csrc" / "minilm_ops.cpp"
CFLAGS = ["-O3", "-mavx512f", "-mfma"]  # any AVX-512 CPU can run it


def cpu_has_avx512() -> bool:
    return "avx512f" in cpu_flags()


@functools.lru_cache(maxsize=1)
def ops():
    """The compiled module, or None (see the module doc)."""
    from discovery import settings

    if not settings.kernels_enabled() or not cpu_has_avx512():
        return None
    try:
        return extension_load("discovery_minilm_ops", SOURCE, settings.cache_dir() / "kernels", CFLAGS, [],
                              verbose=settings.verbose_build())
    except Exception as exc:  # a missing compiler must not take ingestion down
        log.warning("could not build the encoder kernels (%s): using PyTorch's Int8 and attention", exc)
        return None
