"""How far the LLM's words can be trusted, per model: the quality benchmark of issue 14.

    python -m discovery.bench.llm_quality --index var/bench49k/index --db var/bench49k/db.sqlite3 \
        [--models smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b] [--reports 30] [--problems 5]

For each model (LLM_MODEL; the ones not installed are skipped, with the command that installs
them), over the fixed set of discovery.bench.quality_set (30 ideas, 5 problems) on the given index:

- rationales: the share of the LLM's own texts whose every sentence passes the grounding checks
  (discovery.grounding) as written, the share shown as the LLM's after failing sentences are
  dropped (the rest are extractive), the sentences dropped, and p50 / p95 report time
  (retrieval, scoring and writing, as the worker runs them);
- ideas: one idea run of 5 ideas per problem: the share of the LLM's ideas that pass structure
  and coherence, and p50 / p95 idea-run time;
- the engine's decode and prefill tok/s on a rationale prompt, with and without speculative
  decoding (LLM_SPECULATE, when the engine has it).

Every figure is printed beside the load average of its run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from discovery import settings
from discovery.bench.quality_set import IDEAS, PROBLEMS

DEFAULT_MODELS = "smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b"


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


class Corpus:
    """The index with the site database's texts: the shape discovery.ideas and novelty read."""

    def __init__(self, store, texts):
        self.store, self.texts = store, texts
        self.index_set, self.calibration = store.index_set, store.calibration

    def titles(self, ids):
        return self.texts.titles(ids)

    def sentences_of(self, ids):
        return self.texts.sentences_of(ids)

    def __getattr__(self, name):  # anything else the store answers (external ids, ...)
        return getattr(self.store, name)


def idea_of(raw: dict):
    from discovery import novelty

    return novelty.split_idea(raw["text"]) if "text" in raw else novelty.Idea(**raw)


def bench_rationales(corpus, engine, count: int) -> dict:
    from discovery import grounding, novelty, rationale

    raw_ok = raw_n = shown = dropped = 0
    seconds, sources = [], {}
    for i in range(count):
        t = time.perf_counter()
        result = novelty.assess(corpus.index_set, idea_of(IDEAS[i % len(IDEAS)]), corpus.calibration,
                                sentences_of=corpus.sentences_of)
        titles = corpus.titles(result.cited_ids())
        written = rationale.write(result, titles, engine=engine, seed=i, sentences_of=corpus.sentences_of)
        seconds.append(time.perf_counter() - t)
        srcs = rationale.sources(result, titles, corpus.sentences_of)
        for text in written.raw:  # each LLM text as written (citations cleaned), before any sentence is dropped
            cleaned, _ = rationale.check_citations(rationale.drop_listing(text).strip(), rationale.evidence_numbers(result))
            checks = grounding.check(cleaned, srcs, result.idea.text(), result.verdict)
            raw_n += 1
            raw_ok += bool(checks) and all(c.ok for c in checks)
        shown += written.source == "llm"
        dropped += len(written.dropped)
        sources[written.source] = sources.get(written.source, 0) + 1
        print(f"  report {i + 1}/{count}: {seconds[-1]:.1f} s, {written.source}, {len(written.dropped)} dropped",
              flush=True)
    return {"raw_pass": raw_ok / max(raw_n, 1), "raw_texts": raw_n, "shown_llm": shown / max(count, 1),
            "dropped": dropped, "sources": sources, "p50": pct(seconds, 50), "p95": pct(seconds, 95)}


def bench_ideas(corpus, engine, problems: list[str], n: int) -> dict:
    from discovery import ideas

    seconds, passed, asked, reasons = [], 0, 0, {}
    for problem in problems:
        t = time.perf_counter()
        result = ideas.generate(corpus, problem, n=n, engine=engine)
        seconds.append(time.perf_counter() - t)
        kept = sum(i.source == "llm" for i in result.ideas)
        dropped = sum(result.dropped.values())
        asked += result.written or kept + dropped  # every idea the model was asked for
        passed += kept
        for why, k in result.dropped.items():
            reasons[why] = reasons.get(why, 0) + k
        stages = ", ".join(f"{k} {v / 1000:.1f} s" for k, v in result.timings.items())
        print(f"  idea run: {seconds[-1]:.1f} s ({stages}), {kept}/{len(result.ideas)} from the LLM; "
              f"regenerated {sum(i.rounds for i in result.ideas)}; dropped {result.dropped}", flush=True)
    return {"pass": passed / max(asked, 1), "written": asked, "llm_ideas": passed, "dropped": reasons,
            "p50": pct(seconds, 50), "p95": pct(seconds, 95)}


def bench_speed(engine, corpus) -> dict:
    """Decode and prefill tok/s on a real rationale prompt, plain and (if available) speculative."""
    from discovery import novelty, rationale

    result = novelty.assess(corpus.index_set, idea_of(IDEAS[20]), corpus.calibration, sentences_of=corpus.sentences_of)
    messages = rationale.prompt(result, corpus.titles(result.cited_ids()), rationale.RationaleConfig())
    ids = engine.prompt_ids(messages)
    out = {}
    t = time.perf_counter()
    engine.steps.prefill(ids)
    out["prefill"] = len(ids) / (time.perf_counter() - t)
    from inference import generate

    chosen = engine.speculation
    for mode in ("off", "lookup", "draft"):
        os.environ["LLM_SPECULATE"] = mode
        engine.speculation = generate.AUTO  # chosen again from LLM_SPECULATE at the next generation
        try:
            t = time.perf_counter()
            text = engine.chat(messages, max_new_tokens=96, temperature=0.0, timeout_s=None)
            out[f"decode_{mode}"] = len(engine.tok(text, add_special_tokens=False).input_ids) / (time.perf_counter() - t)
        except Exception as exc:  # a drafter that is not available for this model
            out[f"decode_{mode}"] = f"n/a ({type(exc).__name__})"
    os.environ.pop("LLM_SPECULATE", None)
    engine.speculation = chosen
    return out


def run_model(name: str, corpus, args) -> dict | None:
    from inference import load_engine, models

    spec = models.REGISTRY.get(name)
    if spec is None:
        print(f"{name}: unknown model (python -m inference models list)")
        return None
    if models.model_file(spec) is None:
        print(f"{name}: not installed (python -m inference models install {name}); skipped")
        return None
    os.environ["LLM_MODEL"] = name
    t = time.perf_counter()
    engine = load_engine("int8")
    print(f"\n== {name}: loaded in {time.perf_counter() - t:.1f} s; load {load()}", flush=True)
    row = {"model": name, "load_before": load()}
    row["rationales"] = bench_rationales(corpus, engine, args.reports)
    row["ideas"] = bench_ideas(corpus, engine, PROBLEMS[:args.problems], args.n)
    row["speed"] = bench_speed(engine, corpus) if not args.no_speed else {}
    row["load_after"] = load()
    return row


def fmt(v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def print_table(rows: list[dict]) -> None:
    print(f"\n{'model':<22}{'rationales pass':>16}{'shown LLM':>10}{'dropped':>8}{'report p50/p95 s':>18}"
          f"{'ideas pass':>11}{'idea run p50/p95 s':>20}   load")
    for r in rows:
        ra, ide = r["rationales"], r["ideas"]
        print(f"{r['model']:<22}{ra['raw_pass']:>16.2f}{ra['shown_llm']:>10.2f}{ra['dropped']:>8}"
              f"{ra['p50']:>9.1f}/{ra['p95']:<8.1f}{ide['pass']:>11.2f}{ide['p50']:>11.1f}/{ide['p95']:<8.1f}"
              f"   {r['load_before']} -> {r['load_after']}")
    print("\nwhy LLM ideas were dropped: " + "; ".join(f"{r['model']} {r['ideas']['dropped']}" for r in rows))
    print("\nengine speed on a rationale prompt, tok/s")
    for r in rows:
        print(f"{r['model']:<22}" + "  ".join(f"{k} {fmt(v)}" for k, v in r["speed"].items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", required=True, help="the site's index folder (DATA_DIR/index)")
    ap.add_argument("--db", type=Path, required=True, help="the site's SQLite file (paper titles and sentences)")
    ap.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated LLM_MODEL names")
    ap.add_argument("--reports", type=int, default=len(IDEAS), help=f"rationales per model (the set has {len(IDEAS)})")
    ap.add_argument("--problems", type=int, default=len(PROBLEMS), help="idea runs per model")
    ap.add_argument("--n", type=int, default=5, help="ideas per run")
    ap.add_argument("--no-speed", action="store_true", help="skip the tok/s measurement")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    args = ap.parse_args(argv)
    settings.models_offline()
    import torch

    from discovery.bench.novelty import SiteTexts
    from discovery.standalone import Standalone

    torch.set_num_threads(args.threads)
    corpus = Corpus(Standalone.open(args.index), SiteTexts(args.db))
    print(f"index {args.index}: {len(corpus.index_set)} papers; {os.cpu_count()} CPUs; load {load()}")
    rows = [r for name in args.models.split(",") if (r := run_model(name.strip(), corpus, args))]
    if rows:
        print_table(rows)
    print(f"\nmedian report over models: {statistics.median(r['rationales']['p50'] for r in rows):.1f} s" if rows else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
