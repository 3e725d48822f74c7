"""Benchmark of the novelty report (Decomposed Novelty Assessment + checked LLM rationale) on a
given index folder: per-stage timings and p50 of a whole report over a few fixed ideas, against
the 20 s target, with the evidence recall of the candidate retrieval against an exhaustive scan
(every paper scored exactly in every space) side by side; with --rationale N, N generated
rationales and their citations before (raw LLM output) and after the check (what is saved).

    python -m discovery.bench.novelty --index DIR [--db FILE] [--reps 3] [--rationale 100] [--threads 2]

A site-built index folder holds no paper texts: `--db` (the site's SQLite file, read-only) gives
the reports their papers' titles and indexed sentences, as the site's reports have them, so the
learned scorer (discovery.novelty_scorer) runs and its stage is timed.

Timings on a shared machine are noisy: the script prints the load average next to them.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np

from discovery import ASPECTS, SPACES, settings
from discovery.index import read_current
from inference import settings as inference_settings

IDEAS = [
    {"text": "Large language models are expensive to serve on commodity hardware. We quantize the weights "
             "of every linear layer to 8-bit integers and keep outlier features in 16 bits. Memory halves "
             "while perplexity stays within one percent of the full-precision model."},
    {"problem": "Graph neural networks over-smooth node features as they get deeper.",
     "method": "We add a learned per-layer gate that mixes each node's input features back in.",
     "findings": "64-layer networks keep their accuracy on citation graphs."},
    {"problem": "Reinforcement learning agents need millions of interactions to learn robotic grasping.",
     "method": "We pretrain a world model on videos of humans and plan in its latent space.",
     "findings": "Ten times fewer real interactions reach the same success rate."},
    {"text": "Machine translation of low-resource languages lacks parallel data. We back-translate "
             "monolingual text with a multilingual model and filter it by round-trip agreement. "
             "BLEU improves by four points on six language pairs."},
    {"problem": "Image classifiers fail under distribution shift at test time.",
     "method": "We adapt batch-normalisation statistics on each unlabelled test batch.",
     "findings": ""},
]


def load_avg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


class SiteTexts:
    """Titles and indexed sentences of a site's papers, read from its SQLite file on demand."""

    def __init__(self, db: Path):
        self.con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def _rows(self, ids) -> list[tuple]:
        ids = [int(i) for i in ids]
        marks = ",".join("?" * len(ids))
        return self.con.execute(f"select id, title, segmentation from papers_paper where id in ({marks})", ids).fetchall()

    def titles(self, ids) -> dict[int, str]:
        return {pk: title for pk, title, _ in self._rows(ids)}

    def sentences_of(self, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        return {pk: [(s["text"], s.get("aspect", "other")) for s in json.loads(seg or "[]")]
                for pk, _, seg in self._rows(ids)}


def exhaustive_top1(index_set, q: dict[str, np.ndarray], ids: np.ndarray) -> dict[str, int]:
    """Baseline: the nearest paper per aspect by scoring every paper exactly."""
    return {a: int(ids[np.argmax(index_set.reconstruct(a, ids) @ q[a])]) for a in ASPECTS}


def one_report(store, texts, raw: dict, rep: int, with_llm: bool) -> tuple[dict[str, float], dict, object]:
    from discovery import novelty, rationale

    t0 = time.perf_counter()
    idea = novelty.split_idea(raw["text"]) if "text" in raw else novelty.Idea(**raw)
    t1 = time.perf_counter()
    result = novelty.assess(store.index_set, idea, store.calibration,
                            sentences_of=texts.sentences_of if texts else None)
    t2 = time.perf_counter()
    written = rationale.write(result, texts.titles(result.cited_ids()) if texts else {}, seed=rep,
                              sentences_of=texts.sentences_of if texts else None) if with_llm else None
    t3 = time.perf_counter()
    q = novelty.idea_vectors(idea)  # again, untimed, for the exhaustive baseline
    stages = {"splitting": (t1 - t0) * 1000, "retrieving": result.timings["retrieving"],
              "scoring": result.timings["scoring"], "judging": result.timings.get("judging", 0.0),
              "writing": (t3 - t2) * 1000}
    stages["total"] = (t3 - t0) * 1000
    return stages, q, (result, written)


def bench_reports(store, texts, reps: int, with_llm: bool) -> None:
    ids = store.index_set.ids
    rows, recall = [], []
    for rep in range(reps):
        for n, raw in enumerate(IDEAS):
            stages, q, (result, written) = one_report(store, texts, raw, rep, with_llm)
            rows.append(stages)
            base = exhaustive_top1(store.index_set, q, ids)
            recall.append(np.mean([result.evidence[a][0].id == base[a] for a in ASPECTS]))
            src = f" rationale={written.source}" if written else ""
            print(f"rep {rep} idea {n}: " + " ".join(f"{k}={v:.0f}ms" for k, v in stages.items())
                  + f" verdict={result.verdict}{src}", flush=True)
    warm = rows[1:] if len(rows) > 1 else rows  # the first report pays the model loads once per worker
    print(f"\n{'stage':<12}{'p50 ms':>10}{'max ms':>10}   (warm reports: {len(warm)}; cold first report "
          f"{rows[0]['total']:.0f} ms)")
    for stage in rows[0]:
        values = [r[stage] for r in warm]
        print(f"{stage:<12}{statistics.median(values):>10.0f}{max(values):>10.0f}")
    p50 = statistics.median(r["total"] for r in warm) / 1000
    print(f"\nreport p50: product {p50:.2f} s   target <= 20 s   ({'meets' if p50 <= 20 else 'MISSES'} it)")
    print(f"top-1 evidence per aspect, product retrieval vs exhaustive scan: {np.mean(recall):.3f} agreement")


def bench_rationales(store, texts, count: int) -> None:
    """Generate `count` rationales with the configured LLM (LLM_BACKEND, default int8); count the
    invalid citations and the saved sentences that fail a grounding check (target 0 of both)."""
    from discovery import grounding, novelty, rationale

    sentences_of = texts.sentences_of if texts else None
    results = []
    for raw in IDEAS:
        idea = novelty.split_idea(raw["text"]) if "text" in raw else novelty.Idea(**raw)
        results.append(novelty.assess(store.index_set, idea, store.calibration, sentences_of=sentences_of))
    raw_bad = saved_bad = llm = ungrounded = saved_sentences = dropped = 0
    started = time.perf_counter()
    for i in range(count):
        result = results[i % len(results)]
        numbers = rationale.evidence_numbers(result)
        titles = (texts or store).titles(result.cited_ids())
        written = rationale.write(result, titles, seed=i, sentences_of=sentences_of)
        raw_bad += sum(len(rationale.invalid_citations(text, numbers)) for text in written.raw)
        saved_bad += len(rationale.invalid_citations(written.text, numbers))
        dropped += len(written.dropped)
        if written.source == "llm":
            llm += 1
            checks = grounding.check(written.text, rationale.sources(result, titles, sentences_of),
                                     result.idea.text(), result.verdict)
            saved_sentences += len(checks)
            ungrounded += sum(not c.ok for c in checks)
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{count} reports, {time.perf_counter() - started:.0f} s", flush=True)
    print(f"\nrationales: {count} generated, {llm} shown as written by the LLM, {count - llm} extractive or summary")
    print(f"invalid citations: raw LLM output {raw_bad}   saved reports {saved_bad}   (target 0 saved)")
    print(f"grounding: {dropped} LLM sentences dropped; saved LLM sentences {saved_sentences}, of which failing a "
          f"check {ungrounded}   (target 0)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True, help="index folder (site or standalone)")
    parser.add_argument("--db", type=Path, default=None, help="the site's SQLite file: paper texts for the scorer")
    parser.add_argument("--reps", type=int, default=3, help="passes over the fixed ideas")
    parser.add_argument("--no-llm", action="store_true", help="skip the writing stage")
    parser.add_argument("--rationale", type=int, default=0, help="also generate N rationales and count citations")
    parser.add_argument("--threads", type=int, default=2, help="torch and FAISS threads")
    args = parser.parse_args(argv)
    settings.models_offline()
    import faiss
    import torch

    from discovery.novelty import calibration_path
    from discovery.standalone import Standalone

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    current = read_current(Path(args.index))
    had = bool(current) and calibration_path(args.index, current["version"]).exists()
    t0 = time.perf_counter()
    store = Standalone.open(args.index)
    print(f"index {args.index}: {len(store.index_set)} papers, version {store.index_set.version}, "
          f"spaces {[store.index_set.kind(s) for s in SPACES]}, open {time.perf_counter() - t0:.1f} s "
          f"({'calibration loaded' if had else 'calibration computed now'}); LLM_BACKEND="
          f"{inference_settings.backend()}; load average {load_avg()}")
    texts = SiteTexts(args.db) if args.db else (store if store.papers else None)
    print(f"paper texts: {'site database ' + str(args.db) if args.db else 'papers file' if texts else 'none (no learned scorer)'}")
    bench_reports(store, texts, args.reps, not args.no_llm)
    if args.rationale:
        bench_rationales(store, texts, args.rationale)
    print(f"load average at the end: {load_avg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
