"""Methodology inspiration retrieval, after MIR (Garikaparthi et al. 2025, "MIR: Methodology
Inspiration Retrieval for Scientific Research Problems"): for a research problem, find papers
whose *method* could be carried over, not merely papers that look similar.

The ranking starts from whole-text similarity and adds the ideation-space signals only with the
weight they earned on the proxy dev sets of discovery.bench.inspiration. MIR's own baselines
(and held-out runs of this product: 63.0 Recall@3 for the plain cosine of the problem against
each candidate's title and abstract, 47.2 for the old aspect-only score) show that whole-text
similarity carries most of the signal; the aspect terms refine it, never replace it.

relevance = sum over signals of weight * z(signal), each signal z-scored within the request (the
scores of one request are comparable with each other, not across requests; z-scoring puts
cosines and BM25 on one scale). Signals:
- text: cos(problem text, candidate's title + abstract), the backbone;
- lexical: BM25 of the problem text over the candidates (Robertson & Zaragoza 2009);
- method: cos(problem text, candidate's method sentences);
- transition: cos(f(problem), candidate's method), f the learned ideation transition
  (discovery.transitions, Navigating Ideation Space, Radensky et al. 2025);
- problem: cos(problem, candidate's problem sentences).

In a corpus, candidates come from three routes: the nearest papers to the problem text, the
nearest problems, and the methods the transition points to (so a method from another area can
surface). Maximal Marginal Relevance (Carbonell & Goldstein 1998) over the method vectors keeps
the list from repeating one method, and an optional LLM pass re-orders the top few. Each result
says why: its best-matching problem sentence and its transferable method sentence.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from discovery import encoder, transitions
from discovery.aspects import embed_papers, pooled, split_sentences
from discovery.index import IndexSet
from discovery.lexical import pool_scores

SentencesOf = Callable[[list[int]], dict[int, list[tuple[str, str]]]]  # id -> [(text, aspect)]
SIGNALS = ("text", "lexical", "method", "transition", "problem")


@dataclass
class InspirationConfig:
    k: int = 8  # inspirations returned
    text_k: int = 60  # nearest papers to the problem text (the backbone's route)
    problem_k: int = 60  # nearest problems whose methods become candidates
    transition_k: int = 60  # nearest methods to the mapped problem (the transition route)
    # Weights of the z-scored signals (module doc), chosen on the dev halves of proxy sets, by the
    # mean of Recall@3 and mAP over the proxies, grid 0-0.5 (session 4, H7). First set (CSFCube dev's
    # method facet; problems from the partly indexed 49k corpus against the papers their method
    # sentences name, or match in rare method terms): whole text alone 14.5 dev / 13.8 test, these
    # weights 15.7 / 15.9 (means of the two metrics).
    # `python -m discovery.bench.inspiration --vectors FILE.npz --queries 400 --sweep` (CSFCube,
    # and the whole 49k): Recall@3 / mAP over its 5 proxies' dev halves 10.3 / 18.2 for whole
    # text, 12.1 / 19.2 shipped; there transition and problem at 0.1 or 0 are within
    # 0.5 of each other (noise: one query is 1-2 points), the lexical term is the clear gain.
    w_text: float = 1.0  # the backbone: every other weight is relative to it
    w_lexical: float = 0.2  # on top of text alone: +0.5 (first set), +1.7 / +1.3 (bench) on dev at 0.2
    w_method: float = 0.0  # cos(problem text, its method sentences): lost on dev at any weight >= 0.2
    w_transition: float = 0.1  # alone: +0.7 (first set), +0.5 / +0.4 (bench) on dev at 0.1; mAP lower from 0.2 up
    w_problem: float = 0.1  # alone: +0.2 (first set), +0.2 / +0.4 (bench) on dev at 0.1
    mmr_lambda: float = 0.7  # relevance vs. novelty among picks (Carbonell & Goldstein use 0.7 too)
    rerank_top: int = 0  # candidates the LLM may re-order; 0 = off (a 135M model is a weak judge)

    def weights(self) -> dict[str, float]:
        return {s: getattr(self, f"w_{s}") for s in SIGNALS}


@dataclass
class Inspiration:
    id: object  # corpus id of the paper
    score: float  # combined relevance (z-scores within the request) before MMR
    problem_sim: float  # cos(query problem, its problem)
    method_sim: float  # cos(transition(query problem), its method)
    via: str  # "problem", "transition" or "both": the route(s) that found it ("problem": by
    # its whole text or by its problem)
    problem_sentence: str = ""  # why: its problem, closest to the query's
    method_sentence: str = ""  # why: the method sentence that could be carried over
    title: str = ""
    text_sim: float = 0.0  # cos(query problem text, its title + abstract): the backbone signal

    def to_dict(self) -> dict:
        return asdict(self)


def problem_vectors(problem: str) -> dict[str, np.ndarray]:
    """A problem statement in the ideation space: the text whole, and every sentence as problem."""
    sentences = split_sentences(problem) or [problem]
    vecs = encoder.encode([problem] + sentences)
    return {"paper": vecs[0], "problem": pooled(vecs[1:])}


def zscore(x: np.ndarray) -> np.ndarray:
    """Standard scores within one request; a constant signal carries no information (zeros)."""
    x = np.asarray(x, np.float64)
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def signals(q: dict[str, np.ndarray], vectors: dict[str, np.ndarray], lexical: np.ndarray,
            transition: transitions.Transition) -> dict[str, np.ndarray]:
    """Every signal of the module doc, one value per candidate (rows of `vectors`)."""
    return {"text": vectors["paper"] @ q["paper"], "lexical": np.asarray(lexical, np.float64),
            "method": vectors["method"] @ q["paper"], "transition": vectors["method"] @ transition(q["problem"]),
            "problem": vectors["problem"] @ q["problem"]}


def relevance(sig: dict[str, np.ndarray], cfg: InspirationConfig) -> np.ndarray:
    return sum(w * zscore(sig[s]) for s, w in cfg.weights().items() if w)


def mmr(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> list[int]:
    """Greedy MMR: each pick maximises lam * relevance - (1 - lam) * max cos to earlier picks."""
    rel = relevance / max(float(np.abs(relevance).max()), 1e-9)
    chosen: list[int] = []
    closest = np.full(len(rel), -np.inf)
    for _ in range(min(k, len(rel))):
        gain = lam * rel - (1 - lam) * np.where(np.isfinite(closest), closest, 0.0)
        gain[chosen] = -np.inf
        pick = int(np.argmax(gain))
        chosen.append(pick)
        closest = np.maximum(closest, vectors @ vectors[pick])
    return chosen


def best_sentence(query: np.ndarray, sentences: list[str]) -> str:
    if not sentences:
        return ""
    return sentences[int(np.argmax(encoder.encode(sentences) @ query))]


def attach_reasons(found: list[Inspiration], q_problem: np.ndarray, q_method: np.ndarray,
                   sentences_of: SentencesOf) -> None:
    """The paper's problem sentence closest to the query's problem, and its method sentence
    closest to where the transition points (any sentence when the segmenter labelled none)."""
    by_id = sentences_of([f.id for f in found])
    for f in found:
        sents = by_id.get(f.id, [])
        own = {a: [t for t, lab in sents if lab == a] for a in ("problem", "method")}
        f.problem_sentence = best_sentence(q_problem, own["problem"] or [t for t, _ in sents][:2])
        f.method_sentence = best_sentence(q_method, own["method"] or [t for t, _ in sents][1:])


def _route(index_set: IndexSet, space: str, vector: np.ndarray, k: int) -> set:
    _, ids = index_set.search(space, vector, k)
    return {int(i) for i in ids[0] if i >= 0}


def _corpus_lexical(index_set: IndexSet, problem: str, ids: np.ndarray) -> np.ndarray:
    """BM25 of the problem over the corpus (its idf), read at the candidates; 0 where absent."""
    if not len(index_set.lexical):
        return np.zeros(len(ids))
    rows = index_set.lexical.rows(ids)
    scores = index_set.lexical.scores(problem)
    return np.where(rows >= 0, scores[rows.clip(0)], 0.0)


def inspire(index_set: IndexSet, problem: str, *, cfg: InspirationConfig | None = None,
            transition: transitions.Transition | None = None, sentences_of: SentencesOf | None = None,
            exclude: set | None = None, engine=None) -> list[Inspiration]:
    """Ranked sources of methodology for `problem` from the corpus in `index_set`; ids in
    `exclude` (e.g. the paper the problem was taken from) are never returned."""
    cfg = cfg or InspirationConfig()
    transition = transition or transitions.default()
    q = problem_vectors(problem)
    target = transition(q["problem"])
    p_ids = (_route(index_set, "paper", q["paper"], cfg.text_k)
             | _route(index_set, "problem", q["problem"], cfg.problem_k))
    m_ids = _route(index_set, "method", target, cfg.transition_k)
    ids = np.asarray(sorted((p_ids | m_ids) - set(exclude or ())), np.int64)
    if not len(ids):
        return []
    vectors = {s: index_set.reconstruct(s, ids) for s in ("paper", "problem", "method")}
    sig = signals(q, vectors, _corpus_lexical(index_set, problem, ids), transition)
    score = relevance(sig, cfg)
    picks = mmr(score, vectors["method"], cfg.k, cfg.mmr_lambda)
    found = [Inspiration(int(ids[i]), round(float(score[i]), 4), round(float(sig["problem"][i]), 4),
                         round(float(sig["transition"][i]), 4), _via(ids[i] in p_ids, ids[i] in m_ids),
                         text_sim=round(float(sig["text"][i]), 4)) for i in picks]
    if sentences_of is not None:
        attach_reasons(found, q["problem"], target, sentences_of)
    if cfg.rerank_top and engine is not None:
        found = llm_rerank(engine, problem, found, cfg.rerank_top)
    return found


def _via(by_problem: bool, by_transition: bool) -> str:
    return "both" if by_problem and by_transition else "problem" if by_problem else "transition"


RERANK_SCHEMA = {"type": "object", "required": ["order"], "properties": {
    "order": {"type": "array", "items": {"type": "integer"}, "description": "method numbers, most useful first"}}}


def llm_rerank(engine, problem: str, found: list[Inspiration], top: int) -> list[Inspiration]:
    """Let the LLM re-order the top `top` by usefulness; any number it invents or repeats is
    dropped, any it forgets keeps its place after the ones it named. Failure changes nothing."""
    from inference import GenerationError

    head, tail = found[:top], found[top:]
    listing = "\n".join(f"{i + 1}. {f.method_sentence or f.title}" for i, f in enumerate(head))
    messages = [{"role": "user", "content": f"Problem: {problem}\nMethods:\n{listing}\n"
                 "Order the method numbers from most to least useful for solving the problem."}]
    try:
        order = engine.chat_json(messages, schema=RERANK_SCHEMA, max_new_tokens=48, temperature=0.0)["order"]
    except GenerationError:
        return found
    named = list(dict.fromkeys(i - 1 for i in order if isinstance(i, int) and 1 <= i <= len(head)))
    rest = [i for i in range(len(head)) if i not in named]
    return [head[i] for i in named + rest] + tail


def candidate_signals(problem: str, candidates: list[tuple[object, str, str]],
                      transition: transitions.Transition | None = None) -> dict[str, np.ndarray]:
    """Every signal for given (id, title, abstract) papers, in their order (the benchmark reads these)."""
    transition = transition or transitions.default()
    items = [(t, a) for _, t, a in candidates]
    vectors = embed_papers(items).vectors
    lexical = pool_scores(problem, [f"{t} {a}" for t, a in items])
    return signals(problem_vectors(problem), vectors, lexical, transition)


def rank_candidates(problem: str, candidates: list[tuple[object, str, str]],
                    transition: transitions.Transition | None = None,
                    cfg: InspirationConfig | None = None) -> list:
    """The `inspire` command: order given (id, title, abstract) papers as sources of methodology
    for `problem` by the same relevance (no MMR: every candidate is ranked)."""
    if not candidates:
        return []
    score = relevance(candidate_signals(problem, candidates, transition), cfg or InspirationConfig())
    return [candidates[i][0] for i in np.argsort(-score, kind="stable")]
