"""Learned novelty judgement: the probability that an idea is *not* novel given its prior work.

Liu et al. 2025 ("Harnessing Large Language Models for Scientific Novelty Detection") show that
plain nearest-neighbour similarity misses the non-novel ideas that matter: paraphrases, which
say the same in other words, and subsets, which restate part of one paper. A reviewer asks how
much of the idea one prior paper already contains, and whether that paper stands out from the
rest of the related work. The features say exactly that, each measured against the request's own
pool so that a dense pool (a crowded field) and a sparse one give comparable scores:

- whole-text cosine to the nearest prior item, its margin over the second nearest, and its excess
  over the pool's own nearest-neighbour similarity (the pool's density: an idea that is as close
  to the pool as its papers are to each other is one more paper of the field, not a copy);
- soft token coverage (BERTScore recall, Zhang et al. 2020, "BERTScore: Evaluating Text Generation
  with BERT"): the share of the idea's word pieces matched, by contextual MiniLM states, in one
  prior item; the best item's coverage, its margin over the next and over the median of the
  nearest items. A paraphrase or a subset is covered token by token by its original even where
  rewording lowers the whole-text cosine;
- rare-term overlap with the nearest items (IDF-weighted, IDF from the pool itself: a term most
  pool items share is the field's vocabulary, a term only one shares is specific), as a margin.

A logistic regression on standardised features, Platt-calibrated, turns them into p(not novel);
it is trained on synthetic examples from the 49k corpus (discovery/train/novelty.py), never on
the novelty_dev set it is measured on (discovery/bench/novelty_dev.py). The verdict types the
answer: paraphrase of / subset of / combination of the papers behind it, or new.
"""
from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from discovery.lexical import STOPWORDS, tokenize

WEIGHTS = Path(__file__).resolve().parent / "weights" / "novelty_scorer.json"  # python -m discovery.train.novelty
NOT_NOVEL = ("paraphrase_of", "subset_of", "combination_of")
VERDICTS = {
    "paraphrase_of": "Paraphrase of existing work",
    "subset_of": "Part of an existing idea",
    "combination_of": "Combination of existing ideas",
    "new": "New",
}
_WORD_PIECE = re.compile(r"^(##)?[a-z0-9]")


@dataclass
class ScorerConfig:
    top_k: int = 10  # nearest items (by whole-text cosine) whose tokens are aligned with the idea's
    # word pieces of each of those items that are aligned: an abstract's opening (its problem and
    # method), so that 10 abstracts cost ~110 ms instead of ~210 ms on 2 cores; novelty_dev's
    # one-sentence items are shorter than this
    item_tokens: int = 128
    not_novel_above: float = 0.5  # p(not novel) from which the verdict names the covering papers
    # the idea is a paraphrase when it also covers this share of its original (precision), a
    # subset when it covers less: it restates part of that paper
    paraphrase_precision: float = 0.6
    combination_gain: float = 0.05  # two items together cover this much more of the idea than one
    # both thresholds: the best type accuracy on the not-novel items of novelty_dev's dev half
    # (grids 0.5-0.7 and 0.05-0.1): 62% over the three types (combination labels are noisy);
    # paraphrase vs subset alone 83%; the best-covering item is one of the idea's originals for
    # 91% of the paraphrases and 70% of the subsets


CONFIG = ScorerConfig()
# (idea, prior items best-covering first, p not novel) -> (p not novel, the opinion's own score)
SecondOpinion = Callable[[str, list[str], float], tuple[float, float]]


@dataclass
class Tokens:
    """An item's contextual word-piece states and the pieces they stand for."""
    states: np.ndarray  # (t, DIM), L2-normalised rows
    pieces: list[str]

    def content(self) -> np.ndarray:
        """States of content pieces: function words and punctuation carry no claim."""
        keep = [bool(_WORD_PIECE.match(p)) and p not in STOPWORDS for p in self.pieces]
        return self.states[np.asarray(keep, bool)] if any(keep) else self.states[:0]


@dataclass
class Judgement:
    p_not_novel: float  # calibrated probability that the idea is not novel
    verdict: str  # a key of VERDICTS
    papers: list[int]  # positions in the pool of the items the verdict rests on, closest first
    coverage: dict[int, float] = field(default_factory=dict)  # nearest items' share of the idea
    # they contain (soft token recall), by position in the pool, best first
    features: dict[str, float] = field(default_factory=dict)

    @property
    def overall(self) -> float:
        """Higher = more novel, comparable across pools."""
        return round(1.0 - self.p_not_novel, 4)


# ---------------------------------------------------------------------------------------------
# features


def coverage(idea: np.ndarray, item: np.ndarray) -> tuple[float, float]:
    """(recall, precision) of soft token alignment: mean best cosine of the idea's content pieces
    in the item, and of the item's in the idea (BERTScore without IDF weights: measured on
    novelty_dev, IDF weights from the pool did not help)."""
    if not len(idea) or not len(item):
        return 0.0, 0.0
    sims = idea @ item.T
    return float(sims.max(1).mean()), float(sims.max(0).mean())


def pool_idf(pool_texts: list[str]) -> dict[str, float]:
    counts = Counter(t for text in pool_texts for t in set(tokenize(text)))
    n = len(pool_texts)
    return {t: math.log((n + 1) / (c + 0.5)) for t, c in counts.items()} | {"": math.log((n + 1) / 0.5)}


def rare_overlap(idea: str, item: str, idf: dict[str, float]) -> float:
    """IDF mass of the idea's terms that the item shares, over the idea's IDF mass."""
    terms, other = set(tokenize(idea)), set(tokenize(item))
    weights = {t: idf.get(t, idf[""]) for t in terms}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in other) / total if total else 0.0


def _margin(values: np.ndarray) -> float:
    top = np.sort(values)[::-1]
    return float(top[0] - top[1]) if len(top) > 1 else float(top[0])


def pool_density(pool_vectors: np.ndarray) -> float:
    """Mean similarity of each pool item to its nearest other item."""
    if len(pool_vectors) < 2:
        return 0.0
    gram = pool_vectors @ pool_vectors.T
    np.fill_diagonal(gram, -np.inf)
    return float(gram.max(1).mean())


@dataclass
class PoolView:
    """What the features read of one request: the idea and its pool, encoded."""
    idea_text: str
    idea_vector: np.ndarray
    idea_tokens: Tokens
    pool_texts: list[str]
    pool_vectors: np.ndarray  # (n, DIM)
    nearest: np.ndarray  # positions of the top_k items by whole-text cosine, closest first
    nearest_tokens: list[Tokens]  # their tokens, same order


def features(view: PoolView) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Feature values and the per-item arrays behind them (for the verdict)."""
    sims = view.pool_vectors @ view.idea_vector
    idea = view.idea_tokens.content()
    cov = np.array([coverage(idea, t.content()) for t in view.nearest_tokens]).reshape(-1, 2)
    recall = cov[:, 0]
    idf = pool_idf(view.pool_texts)
    lex = np.array([rare_overlap(view.idea_text, view.pool_texts[j], idf) for j in view.nearest])
    f = {
        "cos_max": float(sims.max()),
        "cos_margin": _margin(sims),
        "cos_density": float(sims.max()) - pool_density(view.pool_vectors),
        "cov_max": float(recall.max()),
        "cov_margin": _margin(recall),
        "cov_excess": float(recall.max() - np.median(recall)),
        "lex_margin": _margin(lex),
    }
    return f, {"sims": sims, "recall": recall, "precision": cov[:, 1]}


def aspect_novelty(idea: dict[str, np.ndarray], pool: dict[str, np.ndarray]) -> dict[str, float]:
    """Per space, the share of pool items whose nearest other pool item is at least as close as
    the idea's nearest item is: novelty.Calibration's meaning, with the request's own pool as the
    reference (0.9 = further from this prior work than 90% of its papers are from each other)."""
    out = {}
    for space, vecs in pool.items():
        nearest = float((vecs @ idea[space]).max())
        if len(vecs) < 2:
            out[space] = round(float(nearest < 1.0), 4)
            continue
        gram = vecs @ vecs.T
        np.fill_diagonal(gram, -np.inf)
        out[space] = round(float((gram.max(1) >= nearest).mean()), 4)
    return out


# ---------------------------------------------------------------------------------------------
# model


@dataclass
class Model:
    """Logistic regression on standardised features, then Platt scaling: p = sigmoid(a * z + b)."""
    names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    platt: tuple[float, float] = (1.0, 0.0)
    meta: dict = field(default_factory=dict)  # how it was trained (the training command writes it)

    def logit(self, feats: dict[str, float]) -> float:
        x = (np.array([feats[n] for n in self.names]) - self.mean) / self.scale
        return float(x @ self.coef + self.intercept)

    def p_not_novel(self, feats: dict[str, float]) -> float:
        a, b = self.platt
        return float(1.0 / (1.0 + math.exp(-(a * self.logit(feats) + b))))

    def to_json(self) -> dict:
        return {"names": self.names, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept, "platt": list(self.platt),
                "meta": self.meta}

    @classmethod
    def from_json(cls, d: dict) -> Model:
        return cls(list(d["names"]), np.array(d["mean"]), np.array(d["scale"]), np.array(d["coef"]),
                   float(d["intercept"]), tuple(d["platt"]), d.get("meta", {}))

    def save(self, path: Path | str = WEIGHTS) -> None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        tmp.replace(path)


@functools.lru_cache(maxsize=4)
def load(path: Path | str = WEIGHTS) -> Model:
    return Model.from_json(json.loads(Path(path).read_text()))


# ---------------------------------------------------------------------------------------------
# judging one idea


def verdict_of(p_not_novel: float, view: PoolView, arrays: dict[str, np.ndarray],
               cfg: ScorerConfig = CONFIG) -> tuple[str, list[int]]:
    """Not novel: the best-covering item, and whether the idea restates all of it (paraphrase),
    part of it (subset) or needs a second item to be covered (combination)."""
    recall, precision = arrays["recall"], arrays["precision"]
    order = np.argsort(-recall, kind="stable")
    best = int(order[0])
    if p_not_novel < cfg.not_novel_above:
        return "new", [int(view.nearest[i]) for i in order[:3]]
    if len(order) > 1:
        second = int(order[1])
        idea = view.idea_tokens.content()
        pair = np.vstack([view.nearest_tokens[best].content(), view.nearest_tokens[second].content()])
        if coverage(idea, pair)[0] - recall[best] >= cfg.combination_gain:
            return "combination_of", [int(view.nearest[best]), int(view.nearest[second])]
    kind = "paraphrase_of" if precision[best] >= cfg.paraphrase_precision else "subset_of"
    return kind, [int(view.nearest[best])]


def view_of(idea: str, pool_texts: list[str], pool_vectors: np.ndarray | None = None,
            cfg: ScorerConfig = CONFIG) -> PoolView:
    """Encode what is missing: the pool's vectors if not given, the idea's tokens and those of
    its top_k nearest items."""
    from discovery import encoder

    if pool_vectors is None:
        pool_vectors = encoder.encode(list(pool_texts))
    head = encoder.encode_tokens([idea])
    sims = pool_vectors @ head.vectors[0]
    nearest = np.argsort(-sims, kind="stable")[:cfg.top_k]
    enc = encoder.encode_tokens([pool_texts[j] for j in nearest], max_length=cfg.item_tokens)
    return PoolView(idea, head.vectors[0], Tokens(head.states[0], head.tokens[0]), list(pool_texts),
                    np.asarray(pool_vectors, np.float32), nearest,
                    [Tokens(s, t) for s, t in zip(enc.states, enc.tokens)])


def judge_view(view: PoolView, model: Model | None = None, cfg: ScorerConfig = CONFIG,
               second_opinion: SecondOpinion | None = None) -> Judgement:
    feats, arrays = features(view)
    p = (model or load()).p_not_novel(feats)
    order = np.argsort(-arrays["recall"], kind="stable")
    if second_opinion is not None:  # the LLM cross-check (discovery.crosscheck) sees the best-covering items
        p, feats["llm_margin"] = second_opinion(view.idea_text, [view.pool_texts[int(view.nearest[i])] for i in order], p)
    verdict, papers = verdict_of(p, view, arrays, cfg)
    cover = {int(view.nearest[i]): round(float(arrays["recall"][i]), 4) for i in order}
    return Judgement(round(p, 4), verdict, papers, cover, {k: round(v, 4) for k, v in feats.items()})


def judge(idea: str, pool_texts: list[str], pool_vectors: np.ndarray | None = None,
          model: Model | None = None, cfg: ScorerConfig = CONFIG, second_opinion: SecondOpinion | None = None) -> Judgement:
    """p(not novel) of `idea` against `pool_texts` only, its type and the papers behind it
    (positions in the pool). `pool_vectors`, when given (an index's whole-paper vectors), saves
    encoding the pool: only its top_k nearest items are encoded, for their tokens."""
    if not pool_texts:
        raise ValueError("no prior work to judge the idea against")
    return judge_view(view_of(idea, pool_texts, pool_vectors, cfg), model, cfg, second_opinion)
