"""Django-free local LLM runtime: LLM.int8() (Dettmers et al., 2022) on CPU int8 instructions.

    from inference import load_engine, GenerationError
    engine = load_engine()   # process-wide; LLM_MODEL, LLM_BACKEND (int8 | fp32 | bnb_int8 | stub)
    engine.chat(messages, max_new_tokens=256, temperature=0.0, ...)
    engine.chat_json(messages, schema={...})
"""
import functools

from .generate import GenerationError, GenerationTimeout

__all__ = ["load_engine", "GenerationError", "GenerationTimeout"]


@functools.lru_cache(maxsize=None)
def _load(backend: str, model_env: str | None):  # model_env: LLM_MODEL, part of the cache key
    from . import models

    if backend == "stub":
        from .stub import StubEngine

        return StubEngine()
    from .generate import Engine, HFSteps, Int8Steps

    if backend == "int8":
        model_, tok = models.load_int8_model()
        return Engine(Int8Steps(model_), tok, "int8")
    from . import baselines

    model_, tok = (baselines.fp32_model if backend == "fp32" else baselines.bnb_model)(models.model_path())
    return Engine(HFSteps(model_), tok, backend)


def load_engine(backend: str | None = None):
    """The engine for LLM_BACKEND (or `backend`), loaded once per process and per LLM_MODEL."""
    from . import settings

    return _load(backend or settings.backend(), settings.model_name())
