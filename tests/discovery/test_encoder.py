"""The real encoder (bundled all-MiniLM-L6-v2, no download): both precisions, a few sentences."""
import numpy as np
import pytest

from discovery import encoder

TEXTS = ["We propose a graph neural network for molecule property prediction.",
         "Results show a 3% gain in accuracy over strong baselines.",
         "Dependency parsing of morphologically rich languages is hard.",
         "Short."]


@pytest.fixture(scope="module")
def both():
    return {m: encoder.encode(TEXTS, mode=m) for m in encoder.MODES}


def test_it_returns_unit_float32_rows(both):
    for vecs in both.values():
        assert vecs.shape == (len(TEXTS), encoder.DIM) and vecs.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_it_keeps_fast_vectors_close_to_the_reference(both):
    cos = (both["fast"] * both["fp32"]).sum(1)
    assert cos.min() > 0.97


def test_it_keeps_input_order_despite_length_sorting(both):
    # exact on the AVX-512 kernels (per-token scales); PyTorch's Int8 scales per batch
    single = encoder.encode([TEXTS[2]], mode="fast")[0]
    sims = both["fast"] @ single
    assert sims.argmax() == 2 and sims[2] > 0.98


def test_it_groups_indices_by_length():
    batches = encoder.length_sorted_batches([5, 1, 9, 3, 7], batch_size=2)
    assert [list(b) for b in batches] == [[1, 3], [0, 4], [2]]


def test_it_handles_empty_input_and_rejects_unknown_modes():
    assert encoder.encode([]).shape == (0, encoder.DIM)
    with pytest.raises(ValueError, match="DISCOVERY_ENCODER"):
        encoder.encode(["x"], mode="fp8")


def test_it_caps_batches_by_padded_tokens():
    lengths = [10] * 6 + [100] * 3
    batches = encoder.length_sorted_batches(lengths, batch_size=64, batch_tokens=200)
    assert all(len(b) * max(lengths[i] for i in b) <= 200 for b in batches)
    assert sorted(int(i) for b in batches for i in b) == list(range(9))
    assert [len(b) for b in batches] == [6, 2, 1]
