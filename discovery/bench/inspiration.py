"""Methodology inspiration on proxy dev sets: Recall@3 and mAP of the product's ranking
(discovery.inspiration.relevance) beside whole-text cosine, BM25 and the old aspect-only score,
on the dev and test halves of each proxy (halves by a hash of the query id; weights are chosen on
dev only). The held-out set this stands in for (MIR, Garikaparthi et al. 2025: research proposals
ranking the papers they cite so that those whose methods they used come first) is not here.

Proxies, each a request {problem, ~180 candidates, positives}:
- csfcube-method/abstract, csfcube-method/problem: CSFCube dev's method facet (Mysore et al. 2021):
  the query paper as title + abstract, or as its problem sentences only (the product's
  segmentation), over its pool; positives are the papers judged >= 2 on the method facet.
- ml49k/named-method: papers of the 49k corpus whose method sentences name an older paper's method
  (its title is "Name: ..."): the query is their problem sentences, the positives those named papers,
  put into a citation-list-like pool (the 120 nearest papers by whole text, 60 looser ones from
  ranks 120-1000). /strict: the name does not occur in the query text (no lexical shortcut).
- ml49k/method-terms: the same queries' papers' method sentences (terms of their problem sentences
  and title removed) scored by BM25 (corpus idf) against the pool's abstracts: the top 3 above the
  pool's mean + 3 sd. Positives defined lexically, so the dense signals do not grade themselves.
The ml49k proxies read the corpus's stored vectors (`manage.py export_vectors --out FILE.npz`) and
re-segment only the query papers; without --vectors they are skipped.

    python -m discovery.bench.inspiration [--vectors var/cache/ml49k_vectors.npz] [--queries 300] [--sweep]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from discovery import aspects, transitions
from discovery.bench import csfcube
from discovery.inspiration import InspirationConfig, problem_vectors, relevance, signals
from discovery.lexical import BM25, pool_scores, tokenize
from discovery.settings import shared_data_dir

POOL, NEAR, LOOSE_UNTIL = 180, 120, 1000  # pool size, nearest papers in it, rank the looser ones reach


@dataclass
class Request:
    qid: str
    signals: dict[str, np.ndarray]  # inspiration.signals() of every candidate
    positives: np.ndarray  # bool per candidate

    @property
    def half(self) -> str:
        return "dev" if int(hashlib.sha1(self.qid.encode()).hexdigest(), 16) % 2 == 0 else "test"


# ---------------------------------------------------------------------------- metrics

def recall_ap(scores: np.ndarray, positives: np.ndarray, k: int = 3) -> tuple[float, float]:
    hits = positives[np.argsort(-np.asarray(scores), kind="stable")]
    precision_at_hit = np.cumsum(hits)[hits] / (np.flatnonzero(hits) + 1)
    return hits[:k].sum() / hits.sum(), float(precision_at_hit.mean())


def evaluate(requests: list[Request], scorer) -> dict[str, tuple[float, float, int]]:
    """{half: (Recall@3, mAP, requests)} in percent."""
    out = {}
    for half in ("dev", "test"):
        m = [recall_ap(scorer(r.signals), r.positives) for r in requests if r.half == half]
        out[half] = (100 * np.mean([a for a, _ in m]), 100 * np.mean([b for _, b in m]), len(m)) if m else (0, 0, 0)
    return out


def rankers(cfg: InspirationConfig) -> dict:
    return {"product": lambda s: relevance(s, cfg),
            "whole-text cosine": lambda s: s["text"],
            "BM25": lambda s: s["lexical"],
            "old product (problem + transition)": lambda s: s["problem"] + s["transition"]}


# ---------------------------------------------------------------------------- CSFCube

def csfcube_requests() -> dict[str, list[Request]]:
    papers, _, qrels = csfcube.load(csfcube.data_dir())
    transition = transitions.default()
    out = {"csfcube-method/abstract": [], "csfcube-method/problem": []}
    for qid, pool in qrels["method"].items():
        items = [(papers[c]["title"], papers[c]["abstract"]) for c in pool["cands"]]
        vectors = aspects.embed_papers(items).vectors  # once for both query forms
        texts = [f"{t} {a}" for t, a in items]
        positives = np.asarray(pool["relevance"]) >= 2
        whole = f"{papers[qid]['title']} {papers[qid]['abstract']}"
        seg = aspects.segment([(papers[qid]["title"], papers[qid]["abstract"])])[0]
        for name, text in (("abstract", whole), ("problem", seg.text("problem") or seg.sentences[0])):
            sig = signals(problem_vectors(text), vectors, pool_scores(text, texts), transition)
            out[f"csfcube-method/{name}"].append(Request(qid, sig, positives))
    return out


# ---------------------------------------------------------------------------- 49k corpus

_NAME = re.compile(r"^([A-Za-z][\w\-]*[A-Z0-9][\w\-]*)\s*:")  # "BERT: ...", "Grad-CAM: ..."
_WORD = re.compile(r"[A-Za-z0-9][\w\-]*[A-Za-z0-9]")  # case kept: names are matched as written
_DATA = re.compile(r"\b(dataset|data set|benchmark|corpus|challenge|database|treebank)s?\b", re.I)


def method_names(titles: list[str], abstracts: list[str]) -> dict[str, list[int]]:
    """name -> rows of the papers introducing it: distinctive names (4+ characters or mixed
    case, at most 2 papers, in at most 60 abstracts), no datasets or benchmarks."""
    names: dict[str, list[int]] = {}
    for i, t in enumerate(titles):
        m = _NAME.match(t)
        n = m.group(1) if m and not _DATA.search(t) else ""
        if len(n) >= 4 or (n and n != n.upper() and n != n.lower()):
            names.setdefault(n, []).append(i)
    df: dict[str, int] = {}
    for a in abstracts:
        for n in set(_WORD.findall(a)) & names.keys():
            df[n] = df.get(n, 0) + 1
    return {n: rows for n, rows in names.items() if len(rows) <= 2 and df.get(n, 0) <= 60}


def _half_order(ids: list[str]) -> list[int]:
    return sorted(range(len(ids)), key=lambda i: hashlib.sha1(ids[i].encode()).hexdigest())


@dataclass
class Corpus:
    ids: list[str]
    titles: list[str]
    abstracts: list[str]
    years: np.ndarray
    vectors: dict[str, np.ndarray]  # paper, problem, method: (n, 384) float32, L2-normalised

    @classmethod
    def load(cls, vectors_path: Path, papers_path: Path) -> Corpus:
        with np.load(vectors_path) as z:
            ids = [str(i) for i in z["ids"]]
            vectors = {s: z[s].astype(np.float32) for s in ("paper", "problem", "method")}
        for v in vectors.values():
            v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        records = {}
        with gzip.open(papers_path, "rt") as f:
            for line in f:
                r = json.loads(line)
                records[r["id"]] = r
        rows = [i for i, pid in enumerate(ids) if pid in records]
        recs = [records[ids[i]] for i in rows]
        return cls([ids[i] for i in rows], [r["title"] for r in recs], [r["abstract"] or "" for r in recs],
                   np.asarray([r["year"] or 0 for r in recs]), {s: v[rows] for s, v in vectors.items()})

    def text(self, i: int) -> str:
        return f"{self.titles[i]} {self.abstracts[i]}"

    def pool(self, q: int, rng: np.random.Generator, include: list[int]) -> np.ndarray:
        sims = self.vectors["paper"] @ self.vectors["paper"][q]
        sims[[q] + include] = -np.inf
        order = np.argsort(-sims)[:LOOSE_UNTIL]
        loose = rng.choice(order[NEAR:], POOL - NEAR - len(include), replace=False)
        return rng.permutation(np.concatenate([np.asarray(include, np.int64), order[:NEAR], loose]))

    def request(self, qid: str, problem: str, pool: np.ndarray, positives: np.ndarray,
                transition: transitions.Transition) -> Request:
        vectors = {s: v[pool] for s, v in self.vectors.items()}
        lexical = pool_scores(problem, [self.text(i) for i in pool])
        return Request(qid, signals(problem_vectors(problem), vectors, lexical, transition), positives)


def corpus_requests(corpus: Corpus, n_queries: int, seed: int = 0) -> dict[str, list[Request]]:
    rng = np.random.default_rng(seed)
    transition = transitions.default()
    names = method_names(corpus.titles, corpus.abstracts)
    # queries: papers whose abstract names an older paper's method, in hash order; segmented here
    picked = []
    for q in _half_order(corpus.ids):
        named = sorted({j for n in set(_WORD.findall(corpus.abstracts[q])) & names.keys()
                        for j in names[n] if j != q and corpus.years[j] < corpus.years[q]})
        if 1 <= len(named) <= 3:
            picked.append(q)
        if len(picked) == n_queries:
            break
    segs = aspects.segment([(corpus.titles[q], corpus.abstracts[q]) for q in picked])
    method_index = BM25()  # corpus idf for the lexical positives
    method_index.add(np.arange(len(corpus.ids)), corpus.abstracts)
    out = {"ml49k/named-method": [], "ml49k/named-method/strict": [], "ml49k/method-terms": []}
    for q, seg in zip(picked, segs):
        problem, method = seg.text("problem"), seg.text("method")
        if len(problem.split()) < 12 or not method:
            continue
        in_problem = set(_WORD.findall(problem))
        used = {n for n in set(_WORD.findall(method)) & names.keys()}
        named = sorted({j for n in used for j in names[n] if j != q and corpus.years[j] < corpus.years[q]})
        strict = sorted({j for n in used - in_problem for j in names[n]} & set(named))
        if not named:
            continue
        pool = corpus.pool(q, rng, named)
        req = corpus.request(corpus.ids[q], problem, pool, np.isin(pool, named), transition)
        out["ml49k/named-method"].append(req)
        if strict:
            out["ml49k/named-method/strict"].append(replace(req, positives=np.isin(pool, strict)))
        own_terms = set(tokenize(problem)) | set(tokenize(corpus.titles[q]))
        scores = method_index.scores(" ".join(t for t in tokenize(method) if t not in own_terms))[pool]
        top = np.argsort(-scores)[:3]
        top = top[scores[top] > max(scores.mean() + 3 * scores.std(), 0)]
        if len(top):
            out["ml49k/method-terms"].append(replace(req, positives=np.isin(np.arange(len(pool)), top)))
    return out


# ---------------------------------------------------------------------------- report

def cell(r: dict) -> str:
    return f"{r['dev'][0]:.1f} / {r['dev'][1]:.1f} | {r['test'][0]:.1f} / {r['test'][1]:.1f}"


def report(proxies: dict[str, list[Request]], scorers: dict) -> None:
    for name, requests in proxies.items():
        r = evaluate(requests, lambda s: s["text"])
        positives = np.mean([x.positives.sum() for x in requests])
        pool = np.mean([len(x.positives) for x in requests])
        print(f"\n{name}: {r['dev'][2]} dev / {r['test'][2]} test requests, {positives:.1f} positives in {pool:.0f}")
        print("| ranker | dev Recall@3 / mAP | test Recall@3 / mAP |\n|---|---|---|")
        for label, scorer in scorers.items():
            print(f"| {label} | {cell(evaluate(requests, scorer))} |")


def sweep(proxies: dict[str, list[Request]], cfg: InspirationConfig,
          grid=(0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)) -> None:
    """Each signal added alone to the text backbone (the selection procedure), then the shipped
    weights with one signal varied: mean over the proxies of the dev halves."""
    print("\nsweep (mean over proxies, dev Recall@3 / mAP):")
    base = replace(cfg, **{f"w_{s}": 0.0 for s in cfg.weights() if s != "text"})
    for start, label in ((base, "text + w * signal"), (cfg, "shipped, signal's weight = w")):
        for signal in (s for s in cfg.weights() if s != "text"):
            row = []
            for w in grid:
                trial = replace(start, **{f"w_{signal}": w})
                figs = [evaluate(reqs, lambda s: relevance(s, trial))["dev"] for reqs in proxies.values()]
                row.append(f"{w}: {np.mean([f[0] for f in figs]):.1f} / {np.mean([f[1] for f in figs]):.1f}")
            print(f"- {label}, {signal}: " + " · ".join(row))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", type=Path, help="manage.py export_vectors output for the ml49k proxies")
    ap.add_argument("--papers", type=Path, default=shared_data_dir() / "ml_papers.jsonl.gz")
    ap.add_argument("--queries", type=int, default=300, help="ml49k query papers considered")
    ap.add_argument("--skip-csfcube", action="store_true")
    ap.add_argument("--sweep", action="store_true", help="also print the weight sweep")
    args = ap.parse_args(argv)
    cfg = InspirationConfig()
    proxies = {}
    if not args.skip_csfcube:
        proxies |= csfcube_requests()
    if args.vectors:
        proxies |= corpus_requests(Corpus.load(args.vectors, args.papers), args.queries)
    else:
        print("ml49k proxies skipped: pass --vectors (manage.py export_vectors --out FILE.npz)")
    print(f"product weights: {cfg.weights()}")
    report(proxies, rankers(cfg))
    if args.sweep:
        sweep(proxies, cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
