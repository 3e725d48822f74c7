"""Deterministic stand-in for the sentence encoder, for unit tests only (integration tests
and anything that measures quality use the real all-MiniLM-L6-v2)."""
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
