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

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from discovery.lexical import tokenize

# Words of any abstract that say nothing about its subject: c-TF-IDF discounts words common to
# every cluster, but at a few clusters (a level-1 map of 12) these still float to the top.
BOILERPLATE = frozenset(
    "paper propose proposed proposes approach approaches method methods results result show shows shown "
    "using use used based new novel present presents study work also however problem problems "
    "experiments experimental demonstrate demonstrates existing significantly performance task tasks "
    "address introduce introduces provide provides well via while both more most many one two three "
    "first well able state art outperforms achieves achieve evaluate paper's".split())


@dataclass
class LabelConfig:
    terms: int = 3  # terms per label: a short phrase a person reads at a glance on the map
    min_papers: int = 2  # a term used by one paper only cannot describe a cluster
    bigrams: bool = True  # adjacent token pairs as candidate terms beside single tokens


def paper_terms(text: str, bigrams: bool = True) -> set[str]:
    """The candidate label terms of one text (each counted once)."""
    tokens = [t for t in tokenize(text) if t not in BOILERPLATE and not t.isdigit()]
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
    cfg = cfg or LabelConfig()
    table: dict[str, int] = {}
    indptr, indices = [0], []
    for text in texts:
        for term in sorted(paper_terms(text, cfg.bigrams)):  # sorted: ties between terms break the same way every run
            indices.append(table.setdefault(term, len(table)))
        indptr.append(len(indices))
    data = np.ones(len(indices), np.float32)
    matrix = sp.csr_matrix((data, np.asarray(indices, np.int64), np.asarray(indptr, np.int64)),
                           shape=(len(texts), len(table)))
    df = np.asarray(matrix.sum(axis=0)).ravel()
    keep = np.flatnonzero(df >= cfg.min_papers)
    vocab = np.asarray(list(table), dtype=object)[keep].tolist() if len(table) else []
    return TermMatrix(matrix[:, keep].tocsr(), vocab)


def class_weights(terms: TermMatrix, assignment: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_terms) c-TF-IDF weights; `assignment` is the class of each paper."""
    rows = np.arange(len(assignment))
    onehot = sp.csr_matrix((np.ones(len(assignment), np.float32), (assignment, rows)),
                           shape=(n_classes, len(assignment)))
    counts = np.asarray((onehot @ terms.matrix).todense(), np.float64)  # papers of class c using t
    sizes = np.bincount(assignment, minlength=n_classes).astype(np.float64)
    tf = counts / np.maximum(sizes, 1.0)[:, None]
    f = counts.sum(axis=0)
    idf = np.log1p(sizes.mean() / np.maximum(f, 1.0))
    return tf * idf[None, :]


def pick_terms(weights: np.ndarray, vocab: list[str], k: int, avoid: set[str] = frozenset()) -> list[str]:
    """The k best terms of one class, without repeating a word already shown (a pair and one of
    its words), and without the `avoid` terms (a parent cluster's label) while others remain."""
    chosen: list[str] = []
    words: set[str] = set()
    for j in np.argsort(-weights, kind="stable")[: 20 * k + len(avoid)]:
        if weights[j] <= 0 or len(chosen) == k:
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
    return [pick_terms(weights[c], terms.vocab, cfg.terms, (avoid or [set()] * n_classes)[c])
            for c in range(n_classes)]


def label_coverage(label: list[str], texts: list[str]) -> float:
    """Share of the texts that contain at least one of the label's terms (as whole tokens)."""
    if not texts:
        return 0.0
    wanted = set(label)
    return sum(bool(wanted & paper_terms(t)) for t in texts) / len(texts)
