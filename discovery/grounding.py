"""Grounded or silent: the checks every sentence of an LLM rationale must pass before it is saved.

A citation check that only confirms [n] exists lets a valid number on a false claim through. So
each sentence is checked against what it may rest on:

- **support**: a sentence that cites [n] must be close (encoder cosine) to one of paper n's own
  sentences or its title, for *every* paper it cites; a sentence that cites nothing must be close
  to the idea or to some evidence paper. The thresholds are calibrated on labelled claims
  (`discovery/weights/grounding_claims.jsonl`, `python -m discovery.train.grounding`), chosen on
  the dev half so that no unsupported claim passes, and reported on the test half.
- **specifics**: numbers, years, sizes and capitalised names in the sentence must occur in the
  sources it rests on (the cited papers' text, else the idea and the evidence): cosine is blind to
  "175B" vs "52B" and to an invented initiative's name.
- **the idea's words**: a sentence that cites [n] without speaking of the idea must not use the
  idea's terms that paper n's text lacks (the paper is said to do what the idea does).
- **titles**: a quoted title must be the title of a paper the sentence cites (of any evidence
  paper when it cites none); a sentence that is only a title says nothing and fails too.
- **verdict**: a sentence about the idea must not contradict the verdict (calling an aspect new
  that the verdict found known, or the reverse).

A sentence that fails is dropped; the rationale keeps what passed, or gives way to an extractive
one when too little is left (discovery.rationale).
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).parent / "weights" / "grounding.json"
CITE = re.compile(r"\s*\[(\d+)\]")
QUOTED = re.compile(r"[\"“]([^\"“”]{8,}?)[\"”]")

# A "specific" is what a reader takes as a checkable fact: a number (with its unit or suffix: 175B,
# 8-bit, 1.6x, 2022, 30%) or a capitalised name that is not the first word of the sentence.
NUMBER = re.compile(r"\b\d[\d.,]*(?:[-/]?[a-zA-Z%]+)?\b|\d+%")
NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*\b")
# capitalised words that carry no fact
COMMON = {"the", "a", "an", "this", "these", "that", "it", "its", "their", "our", "we", "both", "while", "however",
          "paper", "papers", "idea", "ideas", "method", "methods", "problem", "problems", "findings", "finding",
          "verdict", "novel", "novelty", "new", "related", "prior", "existing", "work", "approach", "in", "on",
          "for", "of", "to", "and", "or", "but", "by", "with", "as", "at", "from", "unlike", "like", "similarly",
          "moreover", "also", "thus", "therefore", "overall", "here", "there", "each", "one", "two", "three", "i",
          "first", "second", "finally", "according", "compared", "although", "since", "because", "instead"}

ASPECT_WORDS = {
    "problem": r"problem|task|question|challenge|goal|motivation",
    "method": r"method|approach|technique|model|algorithm|architecture|procedure|framework|solution",
    "findings": r"finding|result|outcome|evidence|observation",
}
ABOUT_IDEA = re.compile(r"\b(the|this|your|proposed) (idea|proposal|study|work|research)\b|\bthe idea'?s?\b|\bproposed\b", re.I)
NOT_NEW = re.compile(r"\b(not|hardly|rarely) (entirely |really |very |particularly )?(new|novel|original|unique)\b"
                     r"|\blacks? novelty\b|\bno(t)? (much )?novelty\b", re.I)
KNOWN = re.compile(r"\balready\b|\bsimilar to\b|\bclosely related\b|\bclose to\b|\boverlaps?\b|\bresembles?\b"
                   r"|\b(has|have) been (\w+ly )?(studied|explored|addressed|proposed|done|investigated|shown|tackled|used)\b"
                   r"|\bwell[- ](known|studied|established)\b|\bsame as\b|\bmirrors?\b|\bcovered by\b", re.I)
NEW = re.compile(r"\bnovel\b|\bnew\b|\boriginal\b|\bunexplored\b|\bfirst to\b|\bfirst time\b|\bunique\b"
                 r"|\b(has|have) not been\b|\bno (prior|previous|existing) (work|paper|study)\b"
                 r"|\bunlike (any|prior|previous|existing)\b|\bdiffers? (from|significantly)\b", re.I)
NEGATION = re.compile(r"\b(not|no|without|cannot|never|none|neither|nor|rather than|instead of|fails?|lacks?|"
                      r"unlike|isn't|aren't|doesn't|don't|didn't|won't)\b|n't\b", re.I)
CLAUSES = re.compile(r";|,?\s+\bbut\b|,?\s+\bwhile\b|,?\s+\bwhereas\b|,?\s+\balthough\b", re.I)

# verdict -> aspect -> "new" / "known" (aspects left out are not checked); "idea" is the whole
NEW_ASPECTS = {
    "close_to_existing": {"problem": "known", "method": "known", "findings": "known", "idea": "known"},
    "new_problem": {"problem": "new", "idea": "new"},
    "new_method": {"problem": "known", "method": "new", "idea": "new"},
    "new_combination": {"problem": "known", "method": "known", "idea": "new"},
    "new_findings": {"problem": "known", "method": "known", "findings": "new"},
    # the learned scorer's typed verdicts: the idea as a whole is known
    "paraphrase_of": {"problem": "known", "method": "known", "findings": "known", "idea": "known"},
    "subset_of": {"problem": "known", "method": "known", "idea": "known"},
    "combination_of": {"problem": "known", "method": "known", "idea": "known"},
}


@dataclass(frozen=True)
class Thresholds:
    cited: float = 0.55    # a cited paper's best sentence, for a sentence that cites it
    uncited: float = 0.55  # the idea's or any evidence paper's best sentence, for one that cites none

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> Thresholds:
        raw = json.loads(path.read_text())
        return cls(raw["cited"], raw["uncited"])


@dataclass
class Source:
    """What a citation [n] may rest on: the paper's title and its sentences."""
    title: str
    sentences: list[str]

    def text(self) -> str:
        return " ".join([self.title, *self.sentences])


@dataclass
class Check:
    sentence: str
    cites: list[int]
    reasons: list[str] = field(default_factory=list)  # empty: it passed
    support: float = 0.0  # the weakest cited paper's best cosine (the idea's/evidence's when uncited)

    @property
    def ok(self) -> bool:
        return not self.reasons


@lru_cache(maxsize=1)
def thresholds() -> Thresholds:
    return Thresholds.load() if WEIGHTS.exists() else Thresholds()


def strip_citations(sentence: str) -> str:
    return re.sub(r"\s+([.,;:])", r"\1", CITE.sub("", sentence)).strip()


def specifics(sentence: str) -> set[str]:
    """The checkable tokens of a sentence, lower-cased (see NUMBER and NAME)."""
    plain = strip_citations(sentence)
    found = {m.group(0) for m in NUMBER.finditer(plain)}
    found |= {m.group(0) for m in NAME.finditer(plain) if m.start() > 0}
    return {t.lower().rstrip(".") for t in found if t.lower() not in COMMON and len(t) > 1}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+(?:[-.][a-z0-9]+)*", text.lower()))


def unknown_specifics(sentence: str, source_text: str) -> list[str]:
    """Specifics of `sentence` that `source_text` does not contain (as a word or a substring)."""
    low, words = source_text.lower(), _words(source_text)
    return sorted(t for t in specifics(sentence) if t not in words and t not in low)


CONTENT_WORD = re.compile(r"[a-z][a-z-]{3,}")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in CONTENT_WORD.findall(text.lower())}  # "diffusion" / "diffuses": one stem


def borrowed_terms(sentence: str, idea_text: str, basis: str) -> list[str]:
    """Words of the sentence that come from the idea and not from the papers it cites: a claim
    about paper n in the idea's terms ("[1] shows that diffusion models ..." of a paper that never
    says "diffusion") puts the idea in n's mouth, and the encoder's cosine does not notice."""
    only_idea = _stems(idea_text) - _stems(basis)
    return sorted({w for w in CONTENT_WORD.findall(strip_citations(sentence).lower())
                   if w[:5] in only_idea and w not in COMMON})


def _tokens(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def title_matches(quoted: str, titles: list[str]) -> bool:
    """A quote is a title when it is part of one or nearly all of one (a model drops a word)."""
    q = _tokens(quoted)
    for t in titles:
        t = _tokens(t)
        if q and (q in t or difflib.SequenceMatcher(None, q, t).ratio() >= 0.85):
            return True
    return False


def polarity(clause: str) -> str | None:
    """"new", "known" or None (says neither, or both)."""
    if NOT_NEW.search(clause):
        return "known"
    known, new = bool(KNOWN.search(clause)), bool(NEW.search(clause))
    return "known" if known and not new else "new" if new and not known else None


def aspect_of(clause: str) -> str:
    hits = [a for a, words in ASPECT_WORDS.items() if re.search(rf"\b({words})s?\b", clause, re.I)]
    return hits[0] if len(hits) == 1 else "idea"


def contradicts_verdict(sentence: str, verdict: str) -> str:
    """Why `sentence` disagrees with the verdict ("" when it does not). Only clauses about the
    idea count: "[1] introduces a new scheme" describes the paper, not the idea."""
    expected = NEW_ASPECTS.get(verdict, {})
    plain = strip_citations(sentence)
    about_idea = bool(ABOUT_IDEA.search(plain)) or not CITE.search(sentence)
    if not about_idea:
        return ""
    for clause in CLAUSES.split(plain):
        said = polarity(clause or "")
        aspect = aspect_of(clause or "")
        want = expected.get(aspect)
        if said and want and said != want:
            return f"calls the {'idea' if aspect == 'idea' else aspect} {said}, but the verdict found it {want}"
    return ""


def split(text: str) -> list[str]:
    from discovery.sentences import split_sentences

    return [s for line in text.splitlines() for s in split_sentences(line)]


def check(text: str, sources: dict[int, Source], idea_text: str, verdict: str,
          limits: Thresholds | None = None, encode=None) -> list[Check]:
    """One Check per sentence of `text`; `sources` maps each valid [n] to its paper. `encode`
    (default the encoder's) lets the calibration reuse vectors across thousands of checks."""
    from discovery import encoder

    limits, encode = limits or thresholds(), encode or encoder.encode
    sentences = split(text)
    if not sentences:
        return []
    idea_sents = split(idea_text) or [idea_text]
    numbered = list(sources.items())
    pool = [s for _, src in numbered for s in [src.title, *src.sentences] if s] + idea_sents
    owner = [n for n, src in numbered for s in [src.title, *src.sentences] if s] + [0] * len(idea_sents)
    vecs = encode([strip_citations(s) for s in sentences] + pool)
    sims = vecs[:len(sentences)] @ vecs[len(sentences):].T  # sentence x pool
    owner = np.asarray(owner)
    everything = " ".join([idea_text] + [src.text() for _, src in numbered])
    return [_check_one(s, sims[i], owner, pool, sources, everything, idea_text, verdict, limits)
            for i, s in enumerate(sentences)]


def _closest(n: int, sims: np.ndarray, owner: np.ndarray, pool: list[str]) -> str:
    idx = np.flatnonzero(owner == n)
    return pool[idx[int(np.argmax(sims[idx]))]]


def _negation_differs(claim: str, support: str) -> bool:
    """A contradiction reads almost like its source ("causes degradation" against "without
    degradation"): the encoder cannot tell them apart, a negation on one side only can."""
    return bool(NEGATION.search(strip_citations(claim))) != bool(NEGATION.search(support))


def _check_one(sentence: str, sims: np.ndarray, owner: np.ndarray, pool: list[str], sources: dict[int, Source],
               everything: str, idea_text: str, verdict: str, limits: Thresholds) -> Check:
    cites = list(dict.fromkeys(int(n) for n in CITE.findall(sentence)))
    out = Check(sentence, cites)
    unknown = [n for n in cites if n not in sources]
    if unknown:
        out.reasons.append(f"cites {unknown} outside the evidence")
    known = [n for n in cites if n in sources]
    if known:
        best = {n: float(sims[owner == n].max()) if (owner == n).any() else 0.0 for n in known}
        out.support = min(best.values())
        weak = [n for n, v in best.items() if v < limits.cited]
        if weak:
            out.reasons.append("not supported by " + ", ".join(f"[{n}] ({best[n]:.2f})" for n in weak))
        flipped = [n for n in known if n not in weak and _negation_differs(sentence, _closest(n, sims, owner, pool))]
        if flipped:
            out.reasons.append("negates what " + ", ".join(f"[{n}]" for n in flipped) + " says")
        basis = " ".join(sources[n].text() for n in known)
        borrowed = [] if ABOUT_IDEA.search(strip_citations(sentence)) else borrowed_terms(sentence, idea_text, basis)
        if borrowed:
            out.reasons.append("gives " + "".join(f"[{n}]" for n in known) + " the idea's words: " + ", ".join(borrowed[:5]))
    else:
        out.support = float(sims.max()) if sims.size else 0.0
        if polarity(strip_citations(sentence)) is None:  # not a statement of the verdict
            if out.support < limits.uncited:
                out.reasons.append(f"supported by neither the idea nor the evidence ({out.support:.2f})")
            elif _negation_differs(sentence, pool[int(np.argmax(sims))]):
                out.reasons.append("negates the sentence it rests on")
        basis = everything
    extra = unknown_specifics(sentence, basis)
    if extra:
        out.reasons.append("states what its sources do not: " + ", ".join(extra[:5]))
    titles = [sources[n].title for n in known] or [s.title for s in sources.values()]
    if title_matches(strip_citations(sentence).rstrip("."), [s.title for s in sources.values() if s.title]):
        out.reasons.append("names a paper and says nothing about it")  # "Some Title [1]." passes support
    for quoted in QUOTED.findall(sentence):
        if len(quoted.split()) >= 3 and not title_matches(quoted, titles):
            out.reasons.append(f"quotes a title its citations do not have: \"{quoted[:60]}\"")
    why = contradicts_verdict(sentence, verdict)
    if why:
        out.reasons.append(why)
    return out
