"""Environment settings of the discovery library and its scripts, read and validated in one place.

Every variable discovery reads is read here, when its function is called (so a test can set it
with monkeypatch); a value that cannot be used stops with an error naming the variable. The
typed readers (env_bool, env_choice, ...) are the runtime's (inference.settings), so both
packages accept the same spellings.

DISCOVERY_ENCODER       fast (default) | fp32: the sentence encoder's mode (fp32 = the reference)
DISCOVERY_ENCODER_INT8  auto (default: on where the CPU has VNNI) | a boolean: Int8 Linear layers
                        in the fast encoder
DISCOVERY_KERNELS       a boolean, default on: the compiled AVX-512 encoder kernels (off: PyTorch's)
DISCOVERY_VERBOSE_BUILD a boolean, default off: print the kernels' compiler output
DISCOVERY_CACHE_DIR     the encoder's compiled kernels; default $CACHE_DIR/discovery (CACHE_DIR:
                        inference.settings.cache_root)
DISCOVERY_RATIONALE_S   a number of seconds > 0, default 15: the LLM's time for one rationale, all
                        attempts together (15 fits the 135M default's 20 s report; the 1.5B needs
                        ~25 to finish two sentences on 2 loaded cores). The site's reports also
                        stay within their time limit
DISCOVERY_CROSSCHECK    a boolean, default on: the LLM cross-check of novelty scores
                        (discovery.crosscheck), used only when LLM_MODEL names a model with
                        fitted cross-check weights
SHARED_DATA_DIR         the read-only data folder (corpora, CSAbstruct, CSFCube) the scripts and
                        tests read; default ../shared/data beside the project
Booleans: 1/0, true/false, yes/no, on/off (any case).
"""
from __future__ import annotations

import os
from pathlib import Path

from inference.settings import cache_root, env_auto_bool, env_bool, env_choice, env_path, env_positive

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENCODER_MODES = ("fp32", "fast")  # fp32 = sentence-transformers reference, fast = Int8 / kernels


def rationale_budget_s() -> float:
    return env_positive("DISCOVERY_RATIONALE_S", 15.0)


def crosscheck_enabled() -> bool:
    return env_bool("DISCOVERY_CROSSCHECK", True)


def encoder_mode() -> str:
    return env_choice("DISCOVERY_ENCODER", ENCODER_MODES, "fast")


def encoder_int8() -> bool | None:
    """True or False when set, None for auto (the encoder decides by the CPU's VNNI)."""
    return env_auto_bool("DISCOVERY_ENCODER_INT8")


def kernels_enabled() -> bool:
    return env_bool("DISCOVERY_KERNELS", True)


def verbose_build() -> bool:
    return env_bool("DISCOVERY_VERBOSE_BUILD", False)


def cache_dir() -> Path:
    return env_path("DISCOVERY_CACHE_DIR") or cache_root() / "discovery"


def shared_data_dir() -> Path:
    return env_path("SHARED_DATA_DIR") or PROJECT_ROOT.parent / "shared" / "data"


def models_offline() -> None:
    """Hugging Face libraries must not reach the hub: set HF_HUB_OFFLINE=1 unless the caller chose."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
