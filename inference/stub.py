"""A deterministic stand-in for the LLM engine (LLM_BACKEND=stub), for the other parts' tests.

Same interface as generate.Engine. chat() returns a text derived from a hash of the prompt,
streamed word by word; chat_json() returns a schema-valid object built from the schema's
minimal values, with strings derived from the prompt. timeout_s <= 0 raises GenerationTimeout,
so callers can test their timeout handling.
"""
import hashlib
import json

from .decoding import GenerationError, GenerationTimeout
from .structured import minimal_instance

WORDS = "the method improves results on benchmark data with a simple model and careful evaluation".split()


def _digest(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


class StubEngine:
    name = "stub"

    def chat(self, messages: list[dict], max_new_tokens: int = 256, temperature: float = 0.0, top_p: float = 1.0,
             seed: int | None = None, stop: list[str] | None = None, timeout_s: float | None = 60,
             on_token=None) -> str:
        if timeout_s is not None and timeout_s <= 0:
            raise GenerationTimeout("stub: timeout_s <= 0")
        h = _digest(messages)
        words = [WORDS[int(h[i:i + 2], 16) % len(WORDS)] for i in range(0, min(2 * max_new_tokens, 24), 2)]
        text = f"[stub {h[:8]}] " + " ".join(words) + "."
        for s in stop or []:
            if s and s in text:
                text = text[:text.index(s)]
        for i, piece in enumerate(text.split(" ")):
            if on_token:
                on_token(piece if i == 0 else " " + piece)
        return text

    def chat_json(self, messages: list[dict], schema: dict, max_new_tokens: int = 256, retries: int = 2,
                  **sampling) -> dict:
        if sampling.get("timeout_s") is not None and sampling["timeout_s"] <= 0:
            raise GenerationTimeout("stub: timeout_s <= 0")
        obj = minimal_instance(schema, _digest(messages)[:16])
        if not isinstance(obj, dict):
            raise GenerationError("stub: chat_json needs an object schema")
        return obj
