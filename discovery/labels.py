"""Cluster labels from their papers' words: class-based TF-IDF (c-TF-IDF, Grootendorst 2022,
"BERTopic: Neural topic modeling with a class-based TF-IDF procedure").

Every cluster is one "class document". A term's weight in a cluster is the share of the cluster's
papers that use it, times log(1 + A / f), where f is how many papers of the whole corpus use it
and A the average cluster size: frequent in the cluster and rare elsewhere. Papers count once per
term (binary), so that one abstract repeating a rare word cannot label a cluster of 500; the
label quality measure of discovery.bench.fieldmap (the share of a cluster's papers that contain a
label term) is the same per-paper count.

Terms are the lexical index's tokens (discovery.lexical.tokenize: lowercase, stopwords dropped)
and the pairs of adjacent tokens, so "graph neural" / "neural network" can win over "graph".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from discovery.lexical import STOPWORDS

# Words of any abstract that say nothing about its subject: c-TF-IDF discounts words common to
# every cluster, but at a few clusters (a level-1 map of 12) these still float to the top.
BOILERPLATE = frozenset(
    "paper propose proposed proposes approach approaches method methods results result show shows shown "
    "using use used based new novel present presents study work also however problem problems "
    "experiments experimental demonstrate demonstrates existing significantly performance task tasks "
    "address introduce introduces provide provides well via while both more most many one two three "
    "first well able state art outperforms achieves achieve evaluate paper's".split())
_DROP = STOPWORDS | BOILERPLATE
WORD = re.compile(r"[^\W_]+", re.UNICODE)  # discovery.lexical.tokenize's pattern


@dataclass
class LabelConfig:
    terms: int = 3  # terms per label: a short phrase a person reads at a glance on the map
    min_papers: int = 2  # a term used by one paper only cannot describe a cluster
    bigrams: bool = True  # adjacent token pairs as candidate terms beside single tokens


def _tokens(text: str) -> list[str]:
    """discovery.lexical's tokens (lowercase words, no stopwords or 1-letter tokens), without
    boilerplate words and numbers: one pass, the hot loop of labelling 49k abstracts."""
    return [t for t in WORD.findall(text.lower()) if len(t) > 1 and t not in _DROP and not t.isdigit()]


def paper_terms(text: str, bigrams: bool = True) -> set[str]:
    """The candidate label terms of one text (each counted once)."""
    tokens = _tokens(text)
    terms = set(tokens)
    if bigrams:
        terms.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:]))
    return terms


@dataclass
class TermMatrix:
    """Papers x terms, 1 where the paper's text contains the term."""
    matrix: sp.csr_matrix
    vocab: list[str]


def term_matrix(texts: list[str], cfg: LabelConfig | None = None) -> TermMatrix:
    """One dictionary lookup per token in Python; pairs, presence and counts in numpy (a term is
    an int64 code: a token's id, or V + first * V + second for a pair), so 49k abstracts take
    seconds, not minutes."""
    cfg = cfg or LabelConfig()
    table: dict[str, int] = {}
    flat: list[int] = []
    lengths = np.zeros(len(texts), np.int64)
    add = table.setdefault
    for d, text in enumerate(texts):
        tokens = [add(t, len(table)) for t in _tokens(text)]
        flat.extend(tokens)
        lengths[d] = len(tokens)
    v = max(len(table), 1)
    ids = np.asarray(flat, np.int64)
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    span = v + v * v  # codes per paper
    keys = [doc * span + ids]
    if cfg.bigrams and len(ids) > 1:
        same = doc[:-1] == doc[1:]
        keys.append(doc[:-1][same] * span + v + ids[:-1][same] * v + ids[1:][same])
    keys = _sorted_unique(np.concatenate(keys))  # one entry per (paper, term)
    if not len(keys):
        return TermMatrix(sp.csr_matrix((len(texts), 0), dtype=np.float32), [])
    codes, rows = keys % span, keys // span
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    found, df = codes[order][starts], np.diff(np.r_[starts, len(codes)])
    column = np.empty(len(codes), np.int64)
    column[order] = np.repeat(np.arange(len(found)), df)
    keep = df >= cfg.min_papers
    new_column = np.cumsum(keep) - 1
    mask = keep[column]
    matrix = sp.csr_matrix((np.ones(int(mask.sum()), np.float32), (rows[mask], new_column[column[mask]])),
                           shape=(len(texts), int(keep.sum())))
    words = list(table)
    vocab = [words[c] if c < v else f"{words[(c - v) // v]} {words[(c - v) % v]}" for c in found[keep].tolist()]
    return TermMatrix(matrix, vocab)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy 2's hash-based unique slows to seconds on these keys (all
    multiples of one large span collide in its table)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def class_weights(terms: TermMatrix, assignment: np.ndarray, n_classes: int) -> sp.csr_matrix:
    """(n_classes, n_terms) c-TF-IDF weights, sparse; `assignment` is the class of each paper."""
    rows = np.arange(len(assignment))
    onehot = sp.csr_matrix((np.ones(len(assignment), np.float32), (assignment, rows)),
                           shape=(n_classes, len(assignment)))
    counts = (onehot @ terms.matrix).tocsr()  # papers of class c using term t
    sizes = np.bincount(assignment, minlength=n_classes).astype(np.float64)
    f = np.asarray(counts.sum(axis=0)).ravel()
    idf = np.log1p(sizes.mean() / np.maximum(f, 1.0))
    weights = sp.diags(1.0 / np.maximum(sizes, 1.0)) @ counts @ sp.diags(idf)
    return weights.tocsr()


def pick_terms(weights: sp.csr_matrix, row: int, vocab: list[str], k: int, avoid: set[str] = frozenset()) -> list[str]:
    """The k best terms of one class, without repeating a word already shown (a pair and one of
    its words), and without the `avoid` terms (a parent cluster's label) while others remain.
    Ties go to the term first met in the corpus."""
    start, end = weights.indptr[row], weights.indptr[row + 1]
    cols, values = weights.indices[start:end], weights.data[start:end]
    order = np.lexsort((cols, -values))
    chosen: list[str] = []
    words: set[str] = set()
    for j in cols[order[: 20 * k + len(avoid)]]:
        if len(chosen) == k:
            break
        term = vocab[j]
        parts = set(term.split())
        if term in avoid or parts <= words or any(term in c.split() or c in term.split() for c in chosen):
            continue
        chosen.append(term)
        words |= parts
    return chosen


def label_clusters(terms: TermMatrix, assignment: np.ndarray, n_classes: int,
                   avoid: list[set[str]] | None = None, cfg: LabelConfig | None = None) -> list[list[str]]:
    """The label terms of every class; `avoid[c]`: terms class c should not repeat."""
    cfg = cfg or LabelConfig()
    if not terms.vocab or not len(assignment):
        return [[] for _ in range(n_classes)]
    weights = class_weights(terms, assignment, n_classes)
    weights.sort_indices()
    return [pick_terms(weights, c, terms.vocab, cfg.terms, (avoid or [set()] * n_classes)[c])
            for c in range(n_classes)]


def label_coverage(label: list[str], terms: list[set[str]]) -> float:
    """Share of the papers (their paper_terms) that contain at least one of the label's terms."""
    if not terms:
        return 0.0
    wanted = set(label)
    return sum(bool(wanted & t) for t in terms) / len(terms)
