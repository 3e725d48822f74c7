"""The learned novelty scorer (discovery.novelty_scorer) and `novelty --pool`: stand-in encoders
where only the arithmetic matters, the real MiniLM where quality is the point."""
import io
import json
import re
import zlib

import numpy as np
import pytest

from discovery import cli, encoder, novelty_scorer as ns, segmenter
from tests.discovery.stand_ins import CueSegmenter

POOL = [
    "Pruning attention heads of a transformer keeps translation quality while halving inference time.",
    "A graph neural network predicts protein folding from residue contact maps.",
    "Contrastive pretraining on unlabeled speech improves low-resource speech recognition.",
    "Curriculum learning orders training examples from easy to hard to speed up convergence.",
    "Retrieval of similar legal cases with citation graphs improves lawyers' search precision.",
    "Knowledge distillation from a large teacher compresses a question answering model tenfold.",
]
UNRELATED = "Satellite images of crop fields forecast the yearly wheat harvest in dry regions."


def _word_vector(word: str) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(word.encode())).standard_normal(encoder.DIM).astype(np.float32)


def fake_encode_tokens(texts, max_length=None):
    """A word is its own piece and its state a fixed random vector: alignment is exact matching."""
    states, pieces = [], []
    for text in texts:
        words = re.findall(r"[a-z0-9]+", text.lower()) or ["empty"]
        s = np.stack([_word_vector(w) for w in words])
        states.append(s / np.linalg.norm(s, axis=1, keepdims=True))
        pieces.append(words)
    vecs = np.stack([s.mean(0) for s in states])
    return encoder.TokenStates(vecs / np.linalg.norm(vecs, axis=1, keepdims=True), states, pieces)


def fake_encode(texts, batch_size=None, mode=None):
    return fake_encode_tokens(list(texts)).vectors if texts else np.zeros((0, encoder.DIM), np.float32)


@pytest.fixture
def stand_ins(monkeypatch):
    monkeypatch.setattr(encoder, "encode_tokens", fake_encode_tokens)
    monkeypatch.setattr(encoder, "encode", fake_encode)
    monkeypatch.setattr(segmenter, "default_segmenter", CueSegmenter)


def test_it_scores_a_paraphrase_less_novel_than_an_unrelated_idea(stand_ins):
    paraphrase = "Pruning the attention heads of transformers halves inference time and keeps translation quality."
    close, far = ns.judge(paraphrase, POOL), ns.judge(UNRELATED, POOL)
    assert close.p_not_novel > far.p_not_novel
    assert close.overall < far.overall
    assert close.verdict in ns.NOT_NOVEL and close.papers[0] == 0
    assert far.verdict == "new"


def test_it_catches_a_subset_of_one_prior_idea(stand_ins):
    subset = "Knowledge distillation from a large teacher"
    judged = ns.judge(subset, POOL)
    assert judged.verdict == "subset_of" and judged.papers == [5]
    assert judged.features["cov_max"] == pytest.approx(1.0, abs=1e-5)  # every word is in item 5
    assert judged.p_not_novel > ns.judge(UNRELATED, POOL).p_not_novel


def test_it_needs_a_pool():
    with pytest.raises(ValueError, match="prior work"):
        ns.judge("an idea", [])


def test_it_scores_aspects_against_the_pool_own_density():
    pool = {"paper": np.eye(4, dtype=np.float32)[:3]}  # three orthogonal items: nearest-other 0
    assert ns.aspect_novelty({"paper": np.eye(4, dtype=np.float32)[3]}, pool) == {"paper": 1.0}
    assert ns.aspect_novelty({"paper": np.eye(4, dtype=np.float32)[0]}, pool) == {"paper": 0.0}


def test_it_round_trips_the_model(tmp_path):
    model = ns.load()
    model.save(tmp_path / "m.json")
    again = ns.Model.from_json(json.loads((tmp_path / "m.json").read_text()))
    feats = dict(zip(model.names, model.mean + 0.5))
    assert again.p_not_novel(feats) == pytest.approx(model.p_not_novel(feats))


def run_pool(requests: list) -> list[dict]:
    args = cli.parser().parse_args(["novelty", "--pool"])
    stdin = io.StringIO("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests))
    stdout = io.StringIO()
    assert args.func(args, stdin, stdout) == 0
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_pool_mode_judges_each_request_against_its_own_candidates_and_survives_bad_ones(stand_ins):
    cands = [{"id": f"p{i}", "abstract": text} for i, text in enumerate(POOL)]
    requests = [{"id": 1, "text": POOL[5], "candidates": cands},
                "not json",
                {"id": 2, "text": POOL[5]},
                {"id": 3, "text": "", "candidates": cands},
                {"id": 4, "text": "x", "candidates": [{"title": "no id"}]},
                {"id": 5, "idea": UNRELATED, "candidates": cands[:5]}]
    out = run_pool(requests)
    assert [o["id"] for o in out] == [1, None, 2, 3, 4, 5]
    assert all("error" in o for o in out[1:5])
    assert "candidates" in out[2]["error"] and "text" in out[3]["error"] and "id" in out[4]["error"]
    same, new = out[0], out[5]
    assert set(same["scores"]) == {"overall", "paper", "problem", "method", "findings"}
    assert same["verdict"] in ns.NOT_NOVEL and same["overlapping"] == ["p5"]
    assert same["evidence"][0]["id"] == "p5" and same["evidence"][0]["coverage"] == pytest.approx(1.0, abs=1e-4)
    assert new["verdict"] in ("new_problem", "new_method", "new_combination", "new_findings")
    assert new["overlapping"] == []
    assert same["scores"]["overall"] < new["scores"]["overall"]
    assert same["scores"]["overall"] == pytest.approx(1 - same["p_not_novel"], abs=1e-4)


@pytest.mark.slow
def test_it_tells_a_reworded_subset_from_a_new_idea_with_the_real_encoder():
    pool = POOL + [
        "Cross-lingual encoders fail as reference-free machine translation metrics because mutual translations are "
        "not aligned in their space and literal low-quality translations are not penalised.",
    ]
    subset = ("The lack of semantic alignment between translations hinders cross-lingual encoders' ability to "
              "evaluate machine translation quality.")
    new = "Cross-lingual encoders can detect hallucinated content in machine translation of medical reports."
    close, far = ns.judge(subset, pool), ns.judge(new, pool)
    assert close.p_not_novel > far.p_not_novel
    assert close.papers[0] == len(POOL)


def _texts_of(store):
    def texts_of(ids):
        titles = store.titles(ids)
        return {i: " ".join([titles.get(i, "")] + [t for t, _ in s]).strip() for i, s in store.sentences_of(ids).items()}
    return texts_of


def test_the_index_report_takes_its_overall_score_and_type_from_the_scorer(store):
    from discovery.novelty import VERDICTS, Idea, assess
    from tests.conftest import aspect_text

    iid = next(i for i, row in sorted(store.papers.items()) if all(aspect_text(row, a) for a in ("problem", "method")))
    row = store.papers[iid]
    idea = Idea(aspect_text(row, "problem"), aspect_text(row, "method"))
    result = assess(store.index_set, idea, store.calibration, texts_of=_texts_of(store))
    assert result.p_not_novel is not None and result.p_not_novel > 0.5
    assert result.scores["overall"] == pytest.approx(1 - result.p_not_novel, abs=1e-4)
    assert result.verdict in ns.NOT_NOVEL and result.verdict in VERDICTS
    assert result.overlapping[0] == iid
    assert {"problem", "method", "findings", "combination"} <= set(result.scores)
    assert result.timings["judging"] > 0
