"""The learned problem -> method map: identity before training, learns a real transition, and
round-trips through its weights file."""
import numpy as np

from discovery import transitions
from discovery.transitions import Transition, TransitionConfig, hit_rate, normalise


def synthetic_pairs(n: int, seed: int = 0):
    """Methods are a fixed rotation of problems plus noise: the identity map cannot find them."""
    rng = np.random.default_rng(seed)
    problems = normalise(rng.normal(size=(n, 384)))
    rotation, _ = np.linalg.qr(rng.normal(size=(384, 384)))
    methods = normalise(problems @ rotation.T + 0.3 * normalise(rng.normal(size=(n, 384))))
    return problems.astype(np.float32), methods.astype(np.float32)


def test_it_is_the_identity_before_training():
    p, _ = synthetic_pairs(4)
    assert Transition().is_identity
    np.testing.assert_allclose(Transition()(p), p, atol=1e-6)


def test_it_learns_a_transition_the_identity_misses():
    p, m = synthetic_pairs(2000)
    model = transitions.train(p[:1600], m[:1600], TransitionConfig(epochs=30, batch_size=256, lr=1e-2))
    held = np.arange(1600, 2000)
    identity, _ = hit_rate(p[held], held, m, k=30)
    learned, _ = hit_rate(model(p[held]), held, m, k=30)
    assert identity < 0.1
    assert learned > 0.8


def test_it_trains_deterministically():
    p, m = synthetic_pairs(300)
    cfg = TransitionConfig(epochs=2, batch_size=64)
    np.testing.assert_array_equal(transitions.train(p, m, cfg).w, transitions.train(p, m, cfg).w)


def test_it_round_trips_through_its_weights_file(tmp_path):
    p, m = synthetic_pairs(300)
    model = transitions.train(p, m, TransitionConfig(epochs=1, batch_size=64))
    model.meta = {"hit_rate": 0.5}
    model.save(tmp_path / "t.npz")
    loaded = Transition.load(tmp_path / "t.npz")
    assert loaded.meta == {"hit_rate": 0.5}
    np.testing.assert_allclose(loaded(p[:5]), model(p[:5]), atol=2e-3)


def test_it_counts_a_hit_only_within_k():
    pool = np.eye(4, dtype=np.float32)
    queries = np.array([[1, 0, 0, 0], [0.9, 0.1, 0, 0]], np.float32)
    assert hit_rate(queries, np.array([0, 1]), pool, k=1)[0] == 0.5
    assert hit_rate(queries, np.array([0, 1]), pool, k=2)[0] == 1.0
