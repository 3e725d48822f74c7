"""Sentence splitter for scientific abstracts.

A rule-based splitter in the spirit of Punkt (Kiss & Strunk, 2006, "Unsupervised Multilingual
Sentence Boundary Detection") with the abbreviation list written down instead of learned:
abstracts are short, their abbreviations are few and known (e.g., i.e., et al., Fig., Eq.), and
a rule can be read and fixed. A candidate boundary is sentence-final punctuation followed by
white space, or glued directly to a capitalised word ("results.We propose", a common PDF and
metadata artefact). A candidate is rejected when the token before it is an abbreviation, an
initial or a dotted acronym, or when the next word starts in lower case. LaTeX math ($...$) and
braced arguments (\\cite{a.b}) are masked first so their periods never split. Blank lines always
split; single newlines are plain white space.
"""
from __future__ import annotations

import re

# Lower-cased tokens (with their final period) after which a period does not end a sentence.
ABBREVIATIONS = frozenset("""
e.g. i.e. al. cf. vs. viz. resp. approx. ca. w.r.t. a.k.a. incl. fig. figs. eq. eqs. sec.
secs. tab. ref. refs. no. nos. vol. pp. p. ch. app. alg. thm. def. lem. prop. cor. dr. prof. mr.
mrs. ms. st. jr. inc. ltd. co. corp. univ. dept. est. max. min. avg. std. var.
""".split())

_MASKED = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\{[^{}]*\}", re.S)
# punctuation, optional closing quotes/brackets, then white space or a glued capitalised word
_CANDIDATE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?:\s+|(?=[A-Z][a-z]))")
_INITIAL_OR_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+$")
_BLANK_LINE = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"\s+")


def _mask(text: str) -> str:
    """Same length as text, with math and braced spans blanked so their periods are inert."""
    return _MASKED.sub(lambda m: "x" * len(m.group()), text)


def _previous_token(text: str, end: int) -> str:
    """The white-space token that ends at text[end - 1] (the punctuation itself included)."""
    start = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end)) + 1
    return text[start:end].lstrip("(\"'[\u201c\u2018").lower()


def _is_boundary(text: str, punct_end: int, next_start: int) -> bool:
    if next_start >= len(text):
        return True
    nxt = text[next_start]
    if nxt.islower() or nxt in ",;:":
        return False
    if text[punct_end - 1] in "!?":
        return True
    token = _previous_token(text, punct_end)
    if token in ABBREVIATIONS:
        return False
    # "J. Smith", "U.S. Army": a lone letter or a dotted acronym before a capitalised word
    return not _INITIAL_OR_ACRONYM.match(token)


def _split_block(block: str) -> list[str]:
    masked = _mask(block)
    pieces, start = [], 0
    for m in _CANDIDATE.finditer(masked):
        punct_end = m.start() + len(m.group().rstrip())
        punct_only = re.match(r"[.!?]+", m.group()).end() + m.start()
        if _is_boundary(block, punct_only, m.end()):
            pieces.append(block[start:punct_end])
            start = m.end()
    pieces.append(block[start:])
    return [_SPACES.sub(" ", p).strip() for p in pieces]


def _merge_markers(sentences: list[str]) -> list[str]:
    """A short fragment with no letters ("1.", "(2).") is a list marker: glue it to what
    follows (or, at the very end, to what precedes)."""
    out: list[str] = []
    carry = ""
    for s in sentences:
        if len(s) <= 6 and not any(c.isalpha() for c in s):
            carry = f"{carry} {s}".strip()
        else:
            out.append(f"{carry} {s}".strip())
            carry = ""
    if carry and out:
        out[-1] = f"{out[-1]} {carry}"
    elif carry:
        out.append(carry)
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, white space normalised; [] for empty or blank text."""
    if not text or not text.strip():
        return []
    sentences = [s for block in _BLANK_LINE.split(text.strip()) for s in _split_block(block)]
    return _merge_markers([s for s in sentences if s])
