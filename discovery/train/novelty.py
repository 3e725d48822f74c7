"""Train the novelty scorer (discovery.novelty_scorer) on synthetic examples from the ML corpus.

    python -m discovery.train.novelty [--anchors 1600] [--save]

No novelty_dev item is used here: that set is what discovery.bench.novelty_dev measures.

Examples (Liu et al. 2025's construction, without an LLM): every corpus paper is reduced to a
one-sentence idea, "<its method sentence>, and <its findings>", the kind of idea summary a pool
holds. For a seeded sample of anchor papers, a query is made from the anchor's own abstract in one
of six ways: its findings restated with its method (paraphrase by reordering), its title with its
findings, its problem and method sentences (paraphrase by other sentences of the same abstract),
its method sentence alone or one clause of its idea (subsets), or its method joined with a
neighbour's findings (combination). Each query is judged twice, against the top-50 corpus ideas a
MiniLM retriever finds for it: once WITHOUT the papers it was made from (novel) and once WITH them
(not novel). The wording is the same for both labels, so only the pool tells them apart: the model
cannot learn a style or a length, only how the idea relates to its prior work.

Papers: ACL, NAACL, COLING, COLM and WWW, and a seeded half of IJCAI and AAAI (7.2k with a cue
sentence for the method and a findings sentence after it): a topical mix whose retrieved pools are
as dense as novelty_dev's. Split by anchor paper (a seeded 25% for synthetic dev: Platt scaling
and the figures printed). Runtime on 2 shared cores at load ~12: 13 minutes to encode the 10.4k
texts with their token states (once: cached in --cache, ~550 MB), then 2 minutes for the features
and the fit (121 s measured with the cache). The weights are the same on every run (seeded draws,
deterministic sorts, lbfgs from zero).
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from discovery import novelty_scorer as ns
from discovery.sentences import split_sentences
from discovery.settings import PROJECT_ROOT, shared_data_dir

DEFAULT_CACHE = PROJECT_ROOT / "var" / "cache" / "novelty_train_encodings.npz"
VENUES = {"ACL", "NAACL", "COLING", "COLM", "WWW"}
HALF_VENUES = {"IJCAI", "AAAI"}  # a seeded half of these, for topics beyond NLP
POOL = 50  # items per pool, like novelty_dev's retrieved top-50
# the model's inputs, chosen on synthetic dev and the dev half of novelty_dev (the table in
# discovery.bench.novelty_dev's docstring): the margins and the pool-relative excesses only. The
# absolute levels (cos_max, cov_max) separate the synthetic set best, whose copies share words
# verbatim, and transfer worst (novelty_dev AUROC 79.6 / 80.0 with them, 82.1 / 81.2 without).
MODEL_FEATURES = ("cos_margin", "cos_density", "cov_margin", "cov_excess", "lex_margin")
KINDS = ("para_reorder", "para_title", "para_sentences", "subset_method", "subset_clause", "combination")

_METHOD = re.compile(r"\b(we|this paper|this work|this study|the paper)\s+(propose|introduce|present|develop|design|"
                     r"describe|investigate|study|explore|examine|show|argue|address)s?\b", re.I)
_FINDINGS = re.compile(r"\b(results|experiments|evaluations?|we (show|find|demonstrate|observe)|outperform|improve|"
                       r"achiev|significant)", re.I)
_LEAD = re.compile(r"^(in this (paper|work|study|article),?\s*|here,?\s*|to (this end|address this|tackle this)"
                   r"[^,]*,\s*|specifically,?\s*|finally,?\s*|furthermore,?\s*|moreover,?\s*)", re.I)
_CUE = re.compile(r"^(we|this paper|this work|this study)\s+(propose|introduce|present|develop|design|describe|"
                  r"investigate|study|explore|examine|show|argue|address)s?\s+(that\s+)?", re.I)
_FINDINGS_LEAD = re.compile(r"^.{0,100}?\b(show|shows|demonstrate|demonstrates|indicate|indicates|reveal|reveals|"
                            r"confirm|confirms|suggest|suggests|find|found)\s+that\s+", re.I)
# clause boundaries of an idea sentence, for the subset queries: one clause is part of the idea
_CLAUSE = re.compile(r"(?:;|:|, (?:and |but |while |whereas |which |thereby |leading |resulting |as well as )|,? "
                     r"(?:and|but|while|whereas|thereby) (?=(?:the|this|it|they|we|a|an|their|its|such|these|those|"
                     r"consumers?|users?|models?)\b)| which | by (?=[a-z]+ing\b)| leading to | resulting in | due to "
                     r"| because | through | so that | in order to | when | if | than | compared to | mediated by "
                     r"| moderated by )")


def _clean(sentence: str) -> str:
    """A user's idea, not a paper's voice: 'In this paper, we propose X' -> 'X'."""
    s = _CUE.sub("", _LEAD.sub("", _LEAD.sub("", sentence.strip()))).strip()
    return s[:1].upper() + s[1:]


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s and not s[:2].isupper() else s


def paper_parts(title: str, abstract: str) -> dict | None:
    """Problem (first sentence), method (first cue sentence) and findings (the first findings
    sentence after it), or None for an abstract without them."""
    sents = [s for s in split_sentences(abstract or "") if 6 <= len(s.split()) <= 60]
    if len(sents) < 3:
        return None
    mi = next((i for i, s in enumerate(sents) if _METHOD.search(s)), None)
    fi = next((i for i, s in enumerate(sents) if mi is not None and i > mi and _FINDINGS.search(s)), None)
    if fi is None:
        return None
    findings = _FINDINGS_LEAD.sub("", _clean(sents[fi])).strip()
    parts = {"title": title, "problem": _clean(sents[0]) if mi > 0 else title,
             "method": _clean(sents[mi]), "findings": findings[:1].upper() + findings[1:]}
    parts["idea"] = parts["method"].rstrip(". ") + ", and " + _lower_first(parts["findings"])
    return parts


def corpus_papers(path: Path, seed: int) -> list[dict]:
    rng = random.Random(seed)  # one draw per IJCAI/AAAI record, in file order
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            r = json.loads(line)
            if r["venue"] in VENUES or (r["venue"] in HALF_VENUES and rng.random() < 0.5):
                parts = paper_parts(r["title"], r["abstract"])
                if parts:
                    out.append(parts | {"id": r["id"]})
    return out


def clauses(text: str, min_words: int = 4) -> list[str]:
    """The idea's clauses, a piece shorter than min_words joined to the next (the last to the one
    before); the text itself when it has one clause."""
    out, buf = [], ""
    for piece in (p.strip(" ,.") for p in _CLAUSE.split(text.strip().rstrip("."))):
        buf = f"{buf} {piece}".strip() if buf else piece
        if len(buf.split()) >= min_words:
            out.append(buf)
            buf = ""
    if buf and out:
        out[-1] = f"{out[-1]} {buf}"
    return out if len(out) > 1 else [text]


def query_text(kind: str, p: dict, other: dict, rng: random.Random) -> str:
    if kind == "para_reorder":
        return p["findings"].rstrip(". ") + " with " + _lower_first(p["method"])
    if kind == "para_title":
        return p["title"].rstrip(". ") + ": " + _lower_first(p["findings"])
    if kind == "para_sentences":
        return p["problem"].rstrip(". ") + "; " + _lower_first(p["method"])
    if kind == "subset_method":
        return p["method"]
    if kind == "subset_clause":  # a random clause of at least six words, if the idea has one
        return max(clauses(p["idea"]), key=lambda c: (len(c.split()) >= 6, rng.random()))
    return p["method"].rstrip(". ") + ", and " + _lower_first(other["findings"])


@dataclass
class Example:
    anchor: int
    kind: str
    text: str
    sources: tuple[int, ...]  # the papers it was made from


def make_examples(papers: list[dict], vectors: np.ndarray, anchors: int, seed: int) -> list[Example]:
    """Two kinds of query per anchor paper, each from the anchor (and, for a combination, one of
    its ten nearest papers). Every text is drawn before the kinds are (all from one seeded stream)."""
    rng = random.Random(seed)
    out = []
    for a in rng.sample(range(len(papers)), min(anchors, len(papers))):
        other = int(rng.choice(np.argsort(-(vectors @ vectors[a]))[1:11]))
        texts = {kind: query_text(kind, papers[a], papers[other], rng) for kind in KINDS}
        for kind in rng.sample(KINDS, 2):
            out.append(Example(a, kind, texts[kind], (a, other) if kind == "combination" else (a,)))
    return out


def pool_of(query: np.ndarray, vectors: np.ndarray, sources: tuple[int, ...], with_sources: bool) -> np.ndarray:
    """The retriever's top-POOL for the query, without its sources, or with them in the last places."""
    order = np.argsort(-(vectors @ query), kind="stable")
    rest = order[~np.isin(order, sources)]
    return np.concatenate([rest[:POOL - len(sources)], sources]) if with_sources else rest[:POOL]


# ---------------------------------------------------------------------------------------------
# encodings, cached: text -> (vector, token states, pieces)


class Encodings:
    def __init__(self, path: Path | None):
        self.path, self.rows = path, {}
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as z:  # each z[key] reads the file again: once each
                texts, vectors, pieces, lengths, states = (z[k] for k in ("texts", "vectors", "pieces", "lengths", "states"))
            bounds = np.concatenate([[0], np.cumsum(lengths)])
            for i, (text, joined) in enumerate(zip(texts, pieces)):
                rows = states[bounds[i]:bounds[i + 1]]
                self.rows[str(text)] = (vectors[i], rows, str(joined).split("\x1f") if len(rows) else [])

    def ensure(self, texts: list[str], log=print) -> None:
        from discovery import encoder

        missing = list(dict.fromkeys(t for t in texts if t not in self.rows))
        for lo in range(0, len(missing), 1000):
            chunk = missing[lo:lo + 1000]
            enc = encoder.encode_tokens(chunk)
            for t, v, s, p in zip(chunk, enc.vectors, enc.states, enc.tokens):
                self.rows[t] = (v, s.astype(np.float16), p)
            log(f"encoded {lo + len(chunk)}/{len(missing)} texts")
            self.save()

    def save(self) -> None:
        if self.path is None:
            return
        texts = list(self.rows)
        vectors, states, pieces = zip(*(self.rows[t] for t in texts))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, texts=np.array(texts), vectors=np.stack(vectors), pieces=np.array(["\x1f".join(p) for p in pieces]),
                     lengths=np.array([len(s) for s in states]), states=np.concatenate(states).astype(np.float16))
        tmp.replace(self.path)

    def vectors(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.rows[t][0] for t in texts]).astype(np.float32)

    def tokens(self, text: str) -> ns.Tokens:
        _, states, pieces = self.rows[text]
        return ns.Tokens(states.astype(np.float32), pieces)


def example_features(ex: Example, with_sources: bool, papers: list[dict], corpus: np.ndarray,
                     enc: Encodings, cfg: ns.ScorerConfig) -> dict[str, float]:
    q = enc.vectors([ex.text])[0]
    pool = pool_of(q, corpus, ex.sources, with_sources)
    texts = [papers[j]["idea"] for j in pool]
    pool_vecs = corpus[pool]
    nearest = np.argsort(-(pool_vecs @ q), kind="stable")[:cfg.top_k]
    view = ns.PoolView(ex.text, q, enc.tokens(ex.text), texts, pool_vecs, nearest,
                       [enc.tokens(texts[j]) for j in nearest])
    return ns.features(view)[0]


def is_dev(anchor_id: str) -> bool:
    """A fixed quarter of the anchors, by a hash of the paper id (stable across runs)."""
    import hashlib

    return int(hashlib.sha1(anchor_id.encode()).hexdigest(), 16) % 4 == 0


def fit(X: np.ndarray, y: np.ndarray, dev: np.ndarray, names: list[str], c: float) -> ns.Model:
    """Logistic regression on the train split, Platt scaling of its logit on the dev split."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = X[~dev].mean(0), X[~dev].std(0) + 1e-9
    lr = LogisticRegression(C=c, max_iter=1000).fit((X[~dev] - mean) / scale, y[~dev])
    model = ns.Model(names, mean, scale, lr.coef_[0], float(lr.intercept_[0]))
    logits = np.array([[model.logit(dict(zip(names, x)))] for x in X[dev]])
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(logits, y[dev])
    model.platt = (float(platt.coef_[0][0]), float(platt.intercept_[0]))
    return model


def auroc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return 100 * float(roc_auc_score(y, score))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--anchors", type=int, default=1600, help="anchor papers (two queries each)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the regression")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="encodings cache (npz)")
    ap.add_argument("--save", action="store_true", help=f"write {ns.WEIGHTS.relative_to(PROJECT_ROOT)}")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    papers = corpus_papers(shared_data_dir() / "ml_papers.jsonl.gz", args.seed)
    enc = Encodings(args.cache)
    enc.ensure([p["idea"] for p in papers])
    corpus = enc.vectors([p["idea"] for p in papers])
    examples = make_examples(papers, corpus, args.anchors, args.seed + 1)  # a second seeded stream
    enc.ensure([e.text for e in examples])
    cfg = ns.ScorerConfig()
    rows, y, dev, kinds = [], [], [], []
    for n, ex in enumerate(examples):
        if n % 500 == 0:
            print(f"features: {n}/{len(examples)} queries", flush=True)
        for with_sources in (False, True):
            rows.append(example_features(ex, with_sources, papers, corpus, enc, cfg))
            y.append(int(with_sources))
            dev.append(is_dev(papers[ex.anchor]["id"]))
            kinds.append(ex.kind)
    names = list(MODEL_FEATURES)
    X, y, dev, kinds = np.array([[r[n] for n in names] for r in rows]), np.array(y), np.array(dev), np.array(kinds)
    model = fit(X, y, dev, names, args.c)
    p = np.array([model.p_not_novel(dict(zip(names, x))) for x in X])
    print(f"{len(papers)} papers, {len(examples)} queries, {len(y)} examples ({int(dev.sum())} synthetic dev)")
    print(f"synthetic dev AUROC (not novel = positive): all {auroc(y[dev], p[dev]):.1f}; " + ", ".join(
        f"{k} {auroc(y[dev & (kinds == k)], p[dev & (kinds == k)]):.1f}" for k in KINDS))
    for n, c in zip(names, model.coef):
        print(f"  {n:<12} {c:+.3f}")
    elapsed = time.perf_counter() - t0
    print(f"trained in {elapsed:.0f} s")
    if args.save:
        model.meta = {"examples": int(len(y)), "synthetic_dev": int(dev.sum()), "anchors": args.anchors,
                      "seed": args.seed, "c": args.c, "synthetic_dev_auroc": round(auroc(y[dev], p[dev]), 1),
                      "command": "python -m discovery.train.novelty --save"}
        model.save()
        print(f"saved {ns.WEIGHTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
