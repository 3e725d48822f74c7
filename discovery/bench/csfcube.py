"""CSFCube dev evaluation (Mysore, O'Gorman, McCallum, Zamani, NeurIPS 2021 Datasets and
Benchmarks: faceted query by example): MAP (grade >= 2 relevant) and NDCG%20 (graded gain,
cut-off int(0.2 * pool size), the official script's "method 0" DCG) per facet and over all 24
dev queries, for BM25, the untrained encoder on whole abstracts, and the product's ranking
through the same code as `python -m discovery rank` (aspects.Ranker).

    python -m discovery.bench.csfcube [--encoder fp32|fast] [--segmentation product|oracle] [--sweep]

`--segmentation oracle` labels sentences with papers.jsonl's predicted_labels instead of the
product's segmenter (an evaluation-only variant). The product is printed as configured and with
untrained aspect spaces (no heads); `--sweep` adds both for a grid of the aspect weight and the
BM25 weight (the two knobs tuned on these queries, with the choice of heads). One run is a few CPU-minutes of encoding (35 min wall on the shared machine at load 20).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from discovery import ASPECTS, aspects, encoder
from discovery.settings import shared_data_dir

CSFCUBE_FACET_ASPECT = {  # CSFCube's facet names -> our aspects
    "background": "problem", "method": "method", "result": "findings"}
SOURCE_LABELS = {"background": "problem", "objective": "problem", "method": "method",
                 "result": "findings", "other": "other"}


def data_dir() -> Path:
    return shared_data_dir() / "csfcube_dev"


def load(folder: Path) -> tuple[dict, list[dict], dict]:
    papers = {}
    with open(folder / "papers.jsonl") as f:
        for line in f:
            p = json.loads(line)
            papers[p["id"]] = p
    with open(folder / "queries.jsonl") as f:
        queries = [json.loads(line) for line in f]
    qrels = {facet: json.loads((folder / f"qrels-{facet}.json").read_text()) for facet in CSFCUBE_FACET_ASPECT}
    return papers, queries, qrels


# ---------------------------------------------------------------------------- metrics

def average_precision(grades: list[int], threshold: int = 2) -> float:
    hits = np.asarray(grades) >= threshold
    if not hits.any():
        return 0.0
    precision_at_hit = np.cumsum(hits)[hits] / (np.flatnonzero(hits) + 1)
    return float(precision_at_hit.mean())


def dcg(grades, k: int) -> float:
    """The official script's method 0: weights 1, 1, 1/log2(3), 1/log2(4), ..."""
    g = np.asarray(grades, dtype=float)[:k]
    return float(g[0] + np.sum(g[1:] / np.log2(np.arange(2, g.size + 1)))) if g.size else 0.0


def ndcg(grades: list[int], k: int) -> float:
    best = dcg(sorted(grades, reverse=True), k)
    return dcg(grades, k) / best if best else 0.0


def query_metrics(ranking: list[str], relevance: dict[str, int]) -> tuple[float, float]:
    grades = [relevance[c] for c in ranking]
    return average_precision(grades), ndcg(grades, int(0.2 * len(grades)))


def summarise(per_query: dict[str, list[tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    out = {a: tuple(100 * np.mean(per_query[a], axis=0)) for a in ASPECTS}
    out["all"] = tuple(100 * np.mean([m for a in ASPECTS for m in per_query[a]], axis=0))
    return out


def evaluate(rank_fn, queries: list[dict], qrels: dict) -> dict[str, tuple[float, float]]:
    """rank_fn(query_paper_id, candidate_ids, aspect) -> candidate ids, best first."""
    per_query = {a: [] for a in ASPECTS}
    for q in queries:
        pool = qrels[q["facet"]][q["paper_id"]]
        relevance = dict(zip(pool["cands"], pool["relevance"]))
        ranking = rank_fn(q["paper_id"], list(pool["cands"]), CSFCUBE_FACET_ASPECT[q["facet"]])
        per_query[CSFCUBE_FACET_ASPECT[q["facet"]]].append(query_metrics(ranking, relevance))
    return summarise(per_query)


# ---------------------------------------------------------------------------- rankers

def by_score(ids: list[str], scores: np.ndarray) -> list[str]:
    return [ids[i] for i in np.argsort(-np.asarray(scores), kind="stable")]


def bm25_ranker(papers: dict):
    from discovery.lexical import BM25

    ids = list(papers)
    index = BM25()
    index.add(np.array([int(i) for i in ids], np.int64), [f"{p['title']} {p['abstract']}" for p in papers.values()])
    def rank(qid, cands, aspect):
        p = papers[qid]
        scores = index.scores(f"{p['title']} {p['abstract']}")
        return by_score(cands, scores[index.rows(np.array([int(c) for c in cands], np.int64))])
    return rank


def whole_abstract_ranker(papers: dict):
    """The untrained encoder on title + abstract, cosine: the baseline to beat."""
    ids = list(papers)
    vecs = encoder.encode([f"{papers[i]['title']} {papers[i]['abstract']}" for i in ids])
    row = {pid: r for r, pid in enumerate(ids)}
    def rank(qid, cands, aspect):
        return by_score(cands, vecs[[row[c] for c in cands]] @ vecs[row[qid]])
    return rank


class OracleSegmenter:
    """Evaluation only: labels from papers.jsonl (predicted_labels), looked up by sentence."""

    def __init__(self, papers: dict):
        self.labels = {s.strip(): SOURCE_LABELS[lab] for p in papers.values()
                       for s, lab in zip(p["sentences"], p["predicted_labels"])}

    def label_many(self, abstracts, vectors=None):
        return [[self.labels.get(s.strip(), "other") for s in sents] for sents in abstracts]


def product_sims(ranker: aspects.Ranker, papers: dict, queries: list[dict], qrels: dict,
                 cfg: aspects.AspectConfig) -> dict[str, dict]:
    """Per query: the Ranker's cosines of its pool in every space and the pool's BM25 (computed
    once, weighed later)."""
    text = {pid: (p["title"], p["abstract"]) for pid, p in papers.items()}
    out = {}
    for q in queries:
        cands = qrels[q["facet"]][q["paper_id"]]["cands"]
        out[q["query_id"]] = ranker.similarities_and_lexical(text[q["paper_id"]], {c: text[c] for c in cands}, cfg)
    return out


def product_ranker(sims: dict, queries: list[dict], cfg: aspects.AspectConfig):
    by_paper_facet = {(q["paper_id"], CSFCUBE_FACET_ASPECT[q["facet"]]): sims[q["query_id"]] for q in queries}
    def rank(qid, cands, aspect):
        return by_score(cands, aspects.pool_score(by_paper_facet[(qid, aspect)], aspect, cfg))
    return rank


# ---------------------------------------------------------------------------- report

def row(name: str, figures: dict[str, tuple[float, float]]) -> str:
    return f"| {name} | " + " | ".join(f"{figures[k][0]:.2f} / {figures[k][1]:.2f}"
                                       for k in ASPECTS + ("all",)) + " |"


def header() -> str:
    return ("| ranker (MAP / NDCG%20) | problem | method | findings | all |\n"
            "|---|---|---|---|---|")


GRID = (0.0, 0.25, 0.5, 0.75, 1.0)  # aspect weight
LEXICAL_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75)


def sweep_configs() -> list[aspects.AspectConfig]:
    return [replace(aspects.CONFIG, fused_weights={a: w for a in ASPECTS}, lexical=lam)
            for lam in LEXICAL_GRID for w in GRID]


def sweep(sims, name, queries, qrels) -> None:
    for cfg in sweep_configs():
        print(row(f"{name}, w = {cfg.fused_weights['method']}, lexical = {cfg.lexical}",
                  evaluate(product_ranker(sims, queries, cfg), queries, qrels)))


def query_ap(sims, queries, qrels, cfg) -> dict[str, tuple[str, float]]:
    """Per query id: (its aspect, its average precision) under cfg."""
    rank = product_ranker(sims, queries, cfg)
    out = {}
    for q in queries:
        pool, aspect = qrels[q["facet"]][q["paper_id"]], CSFCUBE_FACET_ASPECT[q["facet"]]
        ranking = rank(q["paper_id"], list(pool["cands"]), aspect)
        out[q["query_id"]] = (aspect, query_metrics(ranking, dict(zip(pool["cands"], pool["relevance"])))[0])
    return out


def leave_one_out(sims, queries, qrels) -> None:
    """How the tuning carries to unseen queries: each query scored with the grid point that is
    best on the other queries (all 23, or its facet's 7 for per-facet weights)."""
    table = [query_ap(sims, queries, qrels, cfg) for cfg in sweep_configs()]
    for per_facet in (False, True):
        held = {a: [] for a in ASPECTS}
        for qid, (aspect, _) in table[0].items():
            others = [k for k, (a, _) in table[0].items() if k != qid and (a == aspect or not per_facet)]
            best = max(table, key=lambda t: np.mean([t[k][1] for k in others]))
            held[aspect].append(best[qid][1])
        figures = " / ".join(f"{a} {100 * np.mean(v):.2f}" for a, v in held.items())
        print(f"leave-one-query-out MAP, weights {'per facet' if per_facet else 'shared'}: {figures}"
              f" / all {100 * np.mean(sum(held.values(), [])):.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", choices=encoder.MODES, default=encoder.CONFIG.mode)
    ap.add_argument("--segmentation", choices=("product", "oracle"), default="product")
    ap.add_argument("--sweep", action="store_true", help="also print a grid of aspect and BM25 weights, and leave-one-query-out figures")
    ap.add_argument("--skip-baselines", action="store_true", help="product rows only")
    args = ap.parse_args(argv)
    folder = data_dir()
    if not folder.exists():
        raise SystemExit(f"{folder} not found (set SHARED_DATA_DIR)")
    encoder.CONFIG.mode = args.encoder
    papers, queries, qrels = load(folder)
    print(f"CSFCube dev: {len(queries)} queries, {len(papers)} papers; encoder {args.encoder}\n")
    print(header())
    if not args.skip_baselines:
        print(row("BM25, title + abstract", evaluate(bm25_ranker(papers), queries, qrels)), flush=True)
        print(row(f"all-MiniLM-L6-v2 ({args.encoder}), title + abstract",
                  evaluate(whole_abstract_ranker(papers), queries, qrels)), flush=True)
    ranker = aspects.Ranker(segmenter=OracleSegmenter(papers) if args.segmentation == "oracle" else None)
    variants = {"untrained aspect spaces": replace(aspects.CONFIG, heads=()),
                "product": aspects.CONFIG}
    sims = {}
    for name, cfg in variants.items():
        sims[name] = product_sims(ranker, papers, queries, qrels, cfg)
        figures = evaluate(product_ranker(sims[name], queries, cfg), queries, qrels)
        print(row(f"{name} ({args.segmentation} segmentation, heads {cfg.heads})", figures), flush=True)
    if args.sweep:
        print("\naspect weight x lexical weight sweep (one aspect weight for the three aspects):")
        for name in variants:
            sweep(sims[name], name, queries, qrels)
        print()
        leave_one_out(sims["product"], queries, qrels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
