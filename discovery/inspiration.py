"""Methodology inspiration retrieval, after MIR (Garikaparthi et al. 2025, "MIR: Methodology
Inspiration Retrieval for Scientific Research Problems"): for a research problem, find papers
whose *method* could be carried over, not merely papers that look similar.

Two routes into the corpus, scored together:
- problems like this one, and the methods they used (the problem space of the ideation space);
- methods that the learned ideation transition (discovery.transitions) points to from this
  problem, searched in the method space, so a method from another area can surface.
score = w_problem * cos(problem, paper's problem) + w_transition * cos(f(problem), paper's method).
Then Maximal Marginal Relevance (Carbonell & Goldstein 1998) over the method vectors keeps the
list from repeating one method, and an optional LLM pass re-orders the top few. Each result
says why: its best-matching problem sentence and its transferable method sentence.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from discovery import encoder, transitions
from discovery.aspects import embed_papers, pooled, split_sentences
from discovery.index import IndexSet

SentencesOf = Callable[[list[int]], dict[int, list[tuple[str, str]]]]  # id -> [(text, aspect)]


@dataclass
class InspirationConfig:
    k: int = 8  # inspirations returned
    problem_k: int = 60  # nearest problems whose methods become candidates
    transition_k: int = 60  # nearest methods to the mapped problem (the transition route)
    w_problem: float = 1.0  # weight of "solved a problem like this one"
    w_transition: float = 1.0  # weight of "its method is where the transition points"
    mmr_lambda: float = 0.7  # relevance vs. novelty among picks (Carbonell & Goldstein use 0.7 too)
    rerank_top: int = 0  # candidates the LLM may re-order; 0 = off (a 135M model is a weak judge)


@dataclass
class Inspiration:
    id: object  # corpus id of the paper
    score: float  # combined relevance before MMR
    problem_sim: float  # cos(query problem, its problem)
    method_sim: float  # cos(transition(query problem), its method)
    via: str  # "problem", "transition" or "both": the route(s) that found it
    problem_sentence: str = ""  # why: its problem, closest to the query's
    method_sentence: str = ""  # why: the method sentence that could be carried over
    title: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def problem_vectors(problem: str) -> dict[str, np.ndarray]:
    """A problem statement in the ideation space: every sentence counts as problem."""
    sentences = split_sentences(problem) or [problem]
    vecs = encoder.encode([problem] + sentences)
    return {"paper": vecs[0], "problem": pooled(vecs[1:])}


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


def score_candidates(q_problem: np.ndarray, problems: np.ndarray, methods: np.ndarray,
                     transition: transitions.Transition, cfg: InspirationConfig):
    """(score, problem_sim, method_sim) per candidate."""
    p_sim = problems @ q_problem
    m_sim = methods @ transition(q_problem)
    return cfg.w_problem * p_sim + cfg.w_transition * m_sim, p_sim, m_sim


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


def inspire(index_set: IndexSet, problem: str, *, cfg: InspirationConfig | None = None,
            transition: transitions.Transition | None = None, sentences_of: SentencesOf | None = None,
            exclude: set | None = None, engine=None) -> list[Inspiration]:
    """Ranked sources of methodology for `problem` from the corpus in `index_set`."""
    cfg = cfg or InspirationConfig()
    transition = transition or transitions.default()
    q = problem_vectors(problem)
    target = transition(q["problem"])
    _, by_problem = index_set.search("problem", q["problem"], cfg.problem_k)
    _, by_method = index_set.search("method", target, cfg.transition_k)
    p_ids, m_ids = set(by_problem[0][by_problem[0] >= 0]), set(by_method[0][by_method[0] >= 0])
    ids = np.asarray(sorted((p_ids | m_ids) - (exclude or set())), np.int64)
    if not len(ids):
        return []
    problems, methods = index_set.reconstruct("problem", ids), index_set.reconstruct("method", ids)
    score, p_sim, m_sim = score_candidates(q["problem"], problems, methods, transition, cfg)
    picks = mmr(score, methods, cfg.k, cfg.mmr_lambda)
    found = [Inspiration(int(ids[i]), round(float(score[i]), 4), round(float(p_sim[i]), 4),
                         round(float(m_sim[i]), 4), _via(ids[i] in p_ids, ids[i] in m_ids)) for i in picks]
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


def rank_candidates(problem: str, candidates: list[tuple[object, str, str]],
                    transition: transitions.Transition | None = None,
                    cfg: InspirationConfig | None = None) -> list:
    """The `inspire` command: order given (id, title, abstract) papers as sources of methodology
    for `problem` by the same combined score (no MMR: every candidate is ranked)."""
    cfg = cfg or InspirationConfig()
    transition = transition or transitions.default()
    if not candidates:
        return []
    vectors = embed_papers([(t, a) for _, t, a in candidates]).vectors
    score, _, _ = score_candidates(problem_vectors(problem)["problem"], vectors["problem"], vectors["method"],
                                   transition, cfg)
    return [candidates[i][0] for i in np.argsort(-score, kind="stable")]
