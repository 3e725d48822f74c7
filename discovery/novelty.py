"""Decomposed Novelty Assessment (Navigating Ideation Space): judge an idea's novelty per aspect,
problem / method / findings, from distances in the ideation space, not by asking an LLM (LLM
judges are sycophantic and barely discriminate; the LLM only explains, see rationale.py).

Per aspect: the nearest prior papers by hierarchical sub-space retrieval (discovery.search: a
broad whole-paper candidate set re-ranked in the aspect's space; the aspect's own index is
searched too so that a paper close on one aspect only is not missed), and the idea's
nearest-neighbour similarity there. That similarity becomes a score through the corpus's own
nearest-neighbour distribution (`calibrate`): novelty = share of corpus papers whose own nearest
neighbour is closer than the idea's. 0.9 means "further from prior work than 90% of published
papers are from theirs", whatever the corpus, its size or the encoder.

Combination check: a paper close on problem *and* method together, scored by min(problem sim,
method sim) and calibrated the same way (the "combination" score).

Overall score: 1 - p(not novel) of the learned scorer (discovery.novelty_scorer: whole-text
margins, soft token coverage, rare terms) against the idea's 50 nearest candidates, when their
texts are at hand (`texts_of`, or `sentences_of`); else the combination score. A not-novel
judgement types the verdict (paraphrase / subset / combination of the papers it names); a novel
one keeps the aspect verdict from the calibrated scores (thresholds in NoveltyConfig).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from discovery import ASPECTS, SPACES
from discovery.index import IndexSet
from discovery.search import SearchConfig, dense_candidates, filter_mask, space_sims

COMBO = "combination"  # calibrated like an aspect: similarity = min(problem sim, method sim)
CALIBRATED = SPACES + (COMBO,)
VERDICTS = {
    "close_to_existing": "Close to existing work",
    "new_findings": "Known problem and method, new findings",
    "new_combination": "Known problem and known method in a new combination",
    "new_method": "Known problem with a new method",
    "new_problem": "New problem",
    "paraphrase_of": "Paraphrase of existing work",
    "subset_of": "Part of an existing idea",
    "combination_of": "Combination of existing ideas",
}


@dataclass
class NoveltyConfig:
    k: int = 5  # evidence papers kept per aspect (what the rationale may cite)
    broad_k: int = 1000  # whole-paper candidates re-ranked per aspect (search.SearchConfig's)
    direct_k: int = 50  # the aspect's own nearest papers added to the candidates
    new_above: float = 0.7  # aspect is new when further than 70% of corpus papers are from theirs
    close_below: float = 0.2  # problem+method pair closer than 80% of corpus pairs: close to existing
    sentences_per_paper: int = 1  # matching sentences shown per evidence paper and aspect
    pool: int = 50  # nearest candidates (whole-paper cosine) the learned scorer judges against:
    # the size of the pools it was trained and measured on


@dataclass
class Idea:
    problem: str
    method: str
    findings: str = ""

    def text(self) -> str:
        return " ".join(t for t in (self.problem, self.method, self.findings) if t)

    def aspect_text(self, aspect: str) -> str:
        """An empty aspect (no expected findings given) falls back to the whole idea."""
        return getattr(self, aspect).strip() or self.text()


# ---------------------------------------------------------------------------------------------
# calibration: the corpus's own nearest-neighbour similarities


@dataclass
class Calibration:
    """Sorted nearest-neighbour similarities of sampled corpus papers, per calibrated space."""
    version: int  # the index version it was computed on
    nn: dict[str, np.ndarray]  # space -> sorted float32 similarities

    def novelty(self, space: str, similarity: float) -> float:
        """Share of corpus papers whose nearest neighbour is closer than `similarity` is."""
        ref = self.nn[space]
        return float(1.0 - np.searchsorted(ref, similarity, side="left") / len(ref))

    def save(self, path: Path | str) -> None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:  # np.savez would append .npz to a temp name
            np.savez(f, version=self.version, **{f"nn_{s}": v for s, v in self.nn.items()})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path | str) -> Calibration:
        with np.load(path) as z:
            return cls(int(z["version"]), {s: z[f"nn_{s}"] for s in CALIBRATED if f"nn_{s}" in z.files})


def calibration_path(index_root: Path | str, version: int) -> Path:
    """Beside the version folders, keyed by version: versions are immutable once saved."""
    return Path(index_root) / f"calibration-v{version:06d}.npz"


def _nn_excluding_self(index_set: IndexSet, space: str, ids: np.ndarray, k: int):
    scores, found = index_set.search(space, index_set.reconstruct(space, ids), k + 1)
    scores = np.where((found == ids[:, None]) | (found < 0), -np.inf, scores)
    return scores, found


def calibrate(index_set: IndexSet, sample: int = 5000, seed: int = 0, pair_k: int = 50) -> Calibration:
    """Leave-one-out nearest-neighbour similarity of up to `sample` corpus papers in every space,
    and of the problem+method pair among each paper's `pair_k` nearest problems. Called when an
    index version is published (49k corpus, 5000 sampled: about a minute on 2 busy cores)."""
    rng = np.random.default_rng(seed)
    ids = index_set.ids
    ids = np.sort(rng.choice(ids, min(sample, len(ids)), replace=False)) if len(ids) else ids
    if len(ids) < 2:
        raise ValueError("calibration needs an index of at least two papers")
    nn = {}
    for space in SPACES:
        scores, _ = _nn_excluding_self(index_set, space, ids, 1)
        nn[space] = np.sort(scores.max(axis=1)).astype(np.float32)
    scores, found = _nn_excluding_self(index_set, "problem", ids, pair_k)
    method_q = index_set.reconstruct("method", ids)
    method_c = index_set.reconstruct("method", np.where(found < 0, ids[:, None], found).ravel())
    method_sim = np.einsum("nkd,nd->nk", method_c.reshape(*found.shape, -1), method_q)
    nn[COMBO] = np.sort(np.minimum(scores, method_sim).max(axis=1)).astype(np.float32)
    return Calibration(index_set.version, nn)


def calibration_for(index_set: IndexSet, **kw) -> Calibration:
    """The stored calibration of this index version, computed and stored if missing."""
    path = calibration_path(index_set.root, index_set.version)
    if path.exists():
        return Calibration.load(path)
    calibration = calibrate(index_set, **kw)
    path.parent.mkdir(parents=True, exist_ok=True)
    calibration.save(path)
    return calibration


# ---------------------------------------------------------------------------------------------
# the idea in the ideation space


def split_idea(text: str) -> Idea:
    """Free text -> the three fields, for the user to correct before the report runs."""
    from discovery import aspects

    seg = aspects.segment([("", text)])[0]
    return Idea(**{a: seg.text(a) for a in ASPECTS})


def idea_vectors(idea: Idea) -> dict[str, np.ndarray]:
    """One vector per space, built exactly like a corpus paper's (aspects.embed_papers): the
    sentences of each field are that aspect's; an empty field stands by the whole idea."""
    from discovery import aspects, encoder
    from discovery.sentences import split_sentences

    groups = [(a, split_sentences(getattr(idea, a))) for a in ASPECTS]
    labels = [a for a, g in groups for _ in g]
    whole = aspects.CONFIG.whole_text == "abstract"
    flat = encoder.encode(([idea.text()] if whole else []) + [s for _, g in groups for s in g])
    vecs = flat[1:] if whole else flat
    paper = flat[0] if whole else aspects.pooled(vecs)
    return aspects.apply_heads({"paper": paper} | aspects.aspect_vectors(vecs, labels, paper))


# ---------------------------------------------------------------------------------------------
# assessment


@dataclass
class Evidence:
    id: int
    similarity: float  # cosine with the idea in this aspect's space
    sims: dict[str, float]  # cosine in every space
    sentences: list[str] = field(default_factory=list)  # the paper's best-matching sentences


@dataclass
class Assessment:
    idea: Idea
    scores: dict[str, float]  # problem, method, findings, overall: calibrated novelty in [0, 1]
    nearest: dict[str, float]  # raw nearest-neighbour similarity per aspect and combination
    verdict: str  # a key of VERDICTS
    overlapping: list[int]  # the papers the verdict rests on
    evidence: dict[str, list[Evidence]]  # aspect (and "combination") -> nearest prior papers
    as_of: int | None = None
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage
    p_not_novel: float | None = None  # the learned scorer's, None when it could not run

    @property
    def verdict_label(self) -> str:
        return VERDICTS[self.verdict]

    def cited_ids(self) -> list[int]:
        """Evidence papers in first-seen order: the numbering [1], [2], ... of the rationale."""
        seen: dict[int, None] = {}
        for group in self.evidence.values():
            for e in group:
                seen.setdefault(e.id, None)
        return list(seen)

    def to_dict(self) -> dict:
        return asdict(self) | {"verdict_label": self.verdict_label}


def prior_mask(index_set: IndexSet, as_of: int | None) -> np.ndarray | None:
    """Papers that count as prior work: with `as_of`, dated papers up to that year only (an
    undated paper cannot be placed before or after, so a backtest leaves it out)."""
    if as_of is None:
        return None
    return (index_set.meta.year > 0) & filter_mask(index_set, year_max=as_of)


def candidates(index_set: IndexSet, q: dict[str, np.ndarray], mask, cfg: NoveltyConfig) -> np.ndarray:
    search_cfg = SearchConfig(broad_k=cfg.broad_k)
    direct = SearchConfig(strategy="direct")
    found = [dense_candidates(index_set, q, a, cfg.k, mask, search_cfg) for a in ASPECTS]
    found += [dense_candidates(index_set, q, a, cfg.direct_k, mask, direct) for a in ASPECTS]
    return np.unique(np.concatenate(found))


def verdict_of(scores: dict[str, float], cfg: NoveltyConfig, has_findings: bool = True) -> str:
    """Expected findings the user did not give cannot be new (their score is the whole idea's)."""
    if scores["problem"] >= cfg.new_above:
        return "new_problem"
    if scores["method"] >= cfg.new_above:
        return "new_method"
    if scores.get(COMBO, scores["overall"]) > cfg.close_below:
        return "new_combination"
    return "new_findings" if has_findings and scores["findings"] >= cfg.new_above else "close_to_existing"


def overlapping_papers(verdict: str, evidence: dict[str, list[Evidence]]) -> list[int]:
    """What the verdict rests on: the closest pair for a close idea, else the known aspects'."""
    if verdict in ("close_to_existing", "new_findings"):
        return [e.id for e in evidence[COMBO][:3]]
    known = {"new_problem": (), "new_method": ("problem",), "new_combination": ("problem", "method")}[verdict]
    return list(dict.fromkeys(e.id for a in known for e in evidence[a][:2]))


def _top(ids: np.ndarray, sims: dict[str, np.ndarray], key: np.ndarray, k: int) -> list[Evidence]:
    order = np.argsort(-key, kind="stable")[:k]
    return [Evidence(int(ids[i]), float(key[i]), {s: float(v[i]) for s, v in sims.items()}) for i in order]


SentencesOf = Callable[[list[int]], dict[int, list[tuple[str, str]]]]  # id -> [(text, aspect)]
TextsOf = Callable[[list[int]], dict[int, str]]  # id -> the paper's text


def learned_judgement(index_set: IndexSet, ids: np.ndarray, sims: dict[str, np.ndarray], idea: Idea,
                      texts_of: TextsOf, cfg: NoveltyConfig, second_opinion=None):
    """(novelty_scorer.Judgement, the paper ids behind its verdict) against the idea's cfg.pool
    nearest candidates by whole-paper cosine; (None, []) when none of their texts is known."""
    from discovery import novelty_scorer

    top = [int(i) for i in ids[np.argsort(-sims["paper"], kind="stable")[:cfg.pool]]]
    texts = texts_of(top)
    pool = [i for i in top if texts.get(i, "").strip()]
    if not pool:
        return None, []
    judged = novelty_scorer.judge(idea.text(), [texts[i] for i in pool],
                                  index_set.reconstruct("paper", np.asarray(pool, np.int64)),
                                  second_opinion=second_opinion)
    return judged, [pool[j] for j in judged.papers]


def attach_sentences(evidence: dict[str, list[Evidence]], idea: Idea, sentences_of: SentencesOf,
                     per_paper: int) -> None:
    """The evidence papers' sentences of the same aspect that best match the idea's."""
    from discovery import encoder

    ids = list(dict.fromkeys(e.id for group in evidence.values() for e in group))
    by_id = sentences_of(ids)
    wanted = [(a, e) for a in ASPECTS for e in evidence[a]]
    pools = [[t for t, lab in by_id.get(e.id, []) if lab == a] or [t for t, _ in by_id.get(e.id, [])]
             for a, e in wanted]
    flat = [t for pool in pools for t in pool]
    vecs = encoder.encode(flat + [idea.aspect_text(a) for a in ASPECTS])
    query = dict(zip(ASPECTS, vecs[len(flat):]))
    start = 0
    for (aspect, e), pool in zip(wanted, pools):
        scores = vecs[start:start + len(pool)] @ query[aspect]
        e.sentences = [pool[i] for i in np.argsort(-scores, kind="stable")[:per_paper]]
        start += len(pool)


def assess(index_set: IndexSet, idea: Idea, calibration: Calibration, *, as_of: int | None = None,
           cfg: NoveltyConfig | None = None, sentences_of: SentencesOf | None = None,
           texts_of: TextsOf | None = None, vectors: dict[str, np.ndarray] | None = None,
           on_stage: Callable[[str], None] = lambda stage: None, second_opinion=None) -> Assessment:
    """Deterministic novelty assessment of one idea against the papers in `index_set` (up to
    `as_of` when given). Stages reported through `on_stage`: retrieving, scoring. The learned
    overall score needs the candidates' texts: `texts_of`, else joined `sentences_of`;
    `second_opinion` (discovery.crosscheck.configured()) lets the LLM cross-check it."""
    cfg = cfg or NoveltyConfig()
    t0 = time.perf_counter()
    on_stage("retrieving")
    q = vectors or idea_vectors(idea)
    mask = prior_mask(index_set, as_of)
    ids = candidates(index_set, q, mask, cfg)
    if not len(ids):
        raise ValueError("no prior papers to compare with" + (f" up to {as_of}" if as_of else ""))
    sims = space_sims(index_set, ids, q)
    t1 = time.perf_counter()
    on_stage("scoring")
    pair = np.minimum(sims["problem"], sims["method"])
    evidence = {a: _top(ids, sims, sims[a], cfg.k) for a in ASPECTS}
    evidence[COMBO] = _top(ids, sims, pair, cfg.k)
    nearest = {a: evidence[a][0].similarity for a in ASPECTS} | {COMBO: evidence[COMBO][0].similarity}
    scores = {a: round(calibration.novelty(a, nearest[a]), 4) for a in ASPECTS}
    scores[COMBO] = round(calibration.novelty(COMBO, nearest[COMBO]), 4)
    if texts_of is None and sentences_of is not None:
        texts_of = lambda pids: {i: " ".join(t for t, _ in s) for i, s in sentences_of(pids).items()}  # noqa: E731
    t_judge = time.perf_counter()
    judged, behind = (learned_judgement(index_set, ids, sims, idea, texts_of, cfg, second_opinion) if texts_of
                      else (None, []))
    judge_ms = (time.perf_counter() - t_judge) * 1000
    scores["overall"] = judged.overall if judged else scores[COMBO]
    verdict = verdict_of(scores, cfg, has_findings=bool(idea.findings.strip()))
    overlapping = overlapping_papers(verdict, evidence)
    if judged and judged.verdict != "new":
        verdict, overlapping = judged.verdict, behind
    if sentences_of is not None:
        attach_sentences(evidence, idea, sentences_of, cfg.sentences_per_paper)
    t2 = time.perf_counter()
    timings = {"retrieving": round((t1 - t0) * 1000, 1), "scoring": round((t2 - t1) * 1000, 1),
               "judging": round(judge_ms, 1)}
    return Assessment(idea, scores, nearest, verdict, overlapping, evidence, as_of, timings,
                      judged.p_not_novel if judged else None)
