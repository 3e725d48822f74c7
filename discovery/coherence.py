"""Coherence filter for generated ideas: an idea must stay on the user's problem and use the
method of the paper that inspired it before its novelty means anything.

Novelty in the ideation space is distance from the corpus, so text that is about nothing (chat
filler, an invented method name, a method from another field) scores as novel. Before ranking,
each idea written by the LLM is checked, in order:

- filler: the chat register ("I'm happy to ...", "Sure! Here are ...", "you"), never research text;
- echo: a method that only repeats the words of the problem (the user's, or the idea's own);
- off_problem: cos(idea's problem, user's problem) below problem_min;
- off_method: cos(idea's method, the inspiring paper's method sentence) below method_min;
- duplicate: cos(method, an idea already kept) above duplicate_max (a small model repeats itself).

Cosines are all-MiniLM-L6-v2 (discovery.encoder). The thresholds sit between the good and the bad
ideas of the labelled set tests/discovery/data/idea_coherence.json (5 problems, 20 good ideas,
29 bad of seven kinds), printed by `python -m discovery.bench.coherence`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from discovery import encoder

REASONS = ("filler", "echo", "off_problem", "off_method", "duplicate")

# First and second person and the phrases of a chat reply: a research idea uses none of them.
_FIRST_PERSON = re.compile(r"\bI(?:'m|'d|'ll|'ve)?\b")  # case-sensitive: "i" may be a roman numeral
_FILLER = re.compile(r"\b(?:me|my|you|your|you're|sure|of course|great question|thank you|feel free|"
                     r"hope this helps|as an ai|here (?:are|is) (?:some|an?))\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]{3,}")


@dataclass
class CoherenceConfig:
    # Labelled set (module doc), precision first (a rejected idea costs a template in its place,
    # a kept bad one is ranked): the idea's problem against the user's is >= 0.477 for every good
    # idea; off-topic ones are <= 0.244, filler <= 0.103, the vague replies of SmolLM2-135M
    # <= 0.34. 0.42 keeps every good idea with a margin; "RL agents need many interactions"
    # (0.287: the encoder knows the abbreviation badly) is lost with it.
    problem_min: float = 0.42
    # The idea's method against its inspiration's method sentence: >= 0.312 for every good idea,
    # <= 0.193 for methods from another field and invented names; 0.25 is in the gap.
    method_min: float = 0.25
    # share of the method's words (3+ letters) that are the problem's: an echo, not a method
    echo_share: float = 0.8
    duplicate_max: float = 0.9  # the same method reworded, not another idea


def is_filler(text: str) -> bool:
    return bool(_FIRST_PERSON.search(text) or _FILLER.search(text))


def echo_share(method: str, problem: str) -> float:
    words = _WORD.findall(method.lower())
    known = set(_WORD.findall(problem.lower()))
    return sum(w in known for w in words) / len(words) if words else 1.0


@dataclass
class Verdict:
    reason: str | None  # None: coherent; else one of REASONS
    inspiration: int  # index of the inspiration the method is closest to among those allowed
    problem_sim: float
    method_sim: float
    vector: np.ndarray | None = None  # the method's

    def scores(self) -> dict[str, float]:
        return {"problem": round(self.problem_sim, 4), "method": round(self.method_sim, 4)}


class Coherence:
    """Judges ideas for one problem and its inspirations; their vectors are computed once."""

    def __init__(self, problem: str, inspiration_methods: list[str], cfg: CoherenceConfig | None = None):
        self.problem, self.cfg = problem, cfg or CoherenceConfig()
        vecs = encoder.encode([problem] + inspiration_methods)
        self.q, self.methods = vecs[0], vecs[1:]
        self.kept: list[np.ndarray] = []  # methods of the ideas kept so far

    def keep(self, verdict: Verdict) -> None:
        self.kept.append(verdict.vector)

    def judge(self, problem: str, method: str, findings: str, cited: list[int]) -> Verdict:
        """cited: the inspirations the idea says it uses (any of them may carry its method); an
        empty list lets every inspiration compete."""
        vecs = encoder.encode([problem, method])
        method_sims = self.methods @ vecs[1]
        pool = cited or list(range(len(self.methods)))
        best = max(pool, key=lambda i: method_sims[i])
        verdict = Verdict(None, int(best), float(vecs[0] @ self.q), float(method_sims[best]), vecs[1])
        verdict.reason = self.reason(problem, method, findings, verdict)
        return verdict

    def reason(self, problem: str, method: str, findings: str, v: Verdict) -> str | None:
        if any(is_filler(t) for t in (problem, method, findings)):
            return "filler"
        if max(echo_share(method, text) for text in (self.problem, problem)) >= self.cfg.echo_share:
            return "echo"
        if v.problem_sim < self.cfg.problem_min:
            return "off_problem"
        if v.method_sim < self.cfg.method_min:
            return "off_method"
        if self.kept and float(max(k @ v.vector for k in self.kept)) > self.cfg.duplicate_max:
            return "duplicate"
        return None
