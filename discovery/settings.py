"""Environment settings of the discovery library and its scripts, resolved in one place."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """SHARED_DATA_DIR: the read-only data folder (corpora, CSAbstruct, CSFCube); default ../shared/data."""
    raw = os.environ.get("SHARED_DATA_DIR")
    return Path(raw).expanduser() if raw else PROJECT_ROOT.parent / "shared" / "data"


def cache_dir() -> Path:
    """DISCOVERY_CACHE_DIR: the encoder's compiled kernels; default $CACHE_DIR/discovery (CACHE_DIR is
    resolved with the LLM's caches, in inference.settings.cache_root)."""
    from inference.settings import cache_root

    raw = os.environ.get("DISCOVERY_CACHE_DIR")
    return Path(raw).expanduser() if raw else cache_root() / "discovery"
