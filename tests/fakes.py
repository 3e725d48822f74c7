"""Deterministic stand-ins for the sentence encoder (unit tests only: integration tests and
anything that measures quality use the real all-MiniLM-L6-v2) and for the LLM engine."""
import re
import zlib

import numpy as np

from discovery.encoder import DIM


def fake_encode(texts, batch_size: int = 64, **_) -> np.ndarray:
    """Bag of hashed words projected to DIM: texts sharing words get similar vectors."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            rng = np.random.default_rng(zlib.crc32(word.encode()))
            out[row] += rng.standard_normal(DIM).astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out[norms[:, 0] == 0, 0] = 1.0
    return out / np.maximum(norms, 1e-9)


class ScriptedEngine:
    """Answers chat() from a list of replies in turn (the last one repeats); records prompts."""
    name = "scripted"

    def __init__(self, replies: list[str]):
        self.replies, self.prompts = list(replies), []

    def chat(self, messages, **kw) -> str:
        self.prompts.append(messages[-1]["content"])
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def chat_json(self, messages, schema, **kw) -> dict:
        from inference import GenerationError

        raise GenerationError("scripted engine writes no JSON")
