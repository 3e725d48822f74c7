"""Benchmark of idea generation: diversity of Verbalized Sampling against plain sampling, and the
time of one full idea run (inspirations, 5 ideas, novelty, regenerations).

    python -m discovery.bench.ideas --index DIR [--problems 3] [--n 5]

Diversity: for each problem of a fixed set, the same inspirations and the same model (LLM_BACKEND,
default the Int8 SmolLM2-135M) give n ideas by Verbalized Sampling (one request for n ideas with
probabilities) and n by plain sampling (n requests for one idea), at the same temperature; the
figure is the mean pairwise cosine distance (1 - cos, all-MiniLM-L6-v2) between the ideas' methods,
averaged over problems. Ideas the model failed to write or that failed the coherence filter
(template fill-ins) are counted and left out of the distance; "passed" is the share of the ideas
asked of the model that passed structure and coherence. Timing: discovery.ideas.generate for the first problem, n ideas, end to end.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from discovery import settings

PROBLEMS = [
    "Large language models state false facts with confidence when answering open-domain questions.",
    "Image classifiers trained on one hospital's scans lose accuracy on scans from other hospitals.",
    "Reinforcement learning agents need millions of interactions before they learn a useful policy.",
    "Graph neural networks lose the identity of nodes when many layers are stacked.",
    "Speech recognition is poor for languages with only a few hours of transcribed audio.",
]


def mean_pairwise_distance(texts: list[str]) -> float:
    from discovery import encoder

    if len(texts) < 2:
        return float("nan")
    v = encoder.encode(texts)
    sims = v @ v.T
    upper = sims[np.triu_indices(len(texts), k=1)]
    return float(np.mean(1.0 - upper))


def diversity(store, engine, problems: list[str], n: int, seed: int) -> dict[str, dict]:
    from discovery import ideas
    from discovery.inspiration import InspirationConfig, inspire

    out = {m: {"distance": [], "llm": 0, "template": 0, "seconds": 0.0, "written": 0} for m in ideas.MODES}
    for i, problem in enumerate(problems):
        found = inspire(store.index_set, problem, sentences_of=store.sentences_of, cfg=InspirationConfig(k=6))
        titles = store.titles([f.id for f in found])
        for f in found:
            f.title = titles.get(f.id, "")
        for mode in ideas.MODES:
            cfg = ideas.IdeaConfig(mode=mode, seed=seed + i)
            t = time.perf_counter()
            writer = ideas.Writer(engine, problem, "", found, cfg)
            got = ideas.sample_ideas(engine, problem, "", found, n, cfg, writer)
            out[mode]["seconds"] += time.perf_counter() - t
            out[mode]["written"] += writer.written
            written = [g.method for g in got if g.source == "llm"]
            out[mode]["llm"] += len(written)
            out[mode]["template"] += len(got) - len(written)
            out[mode]["distance"].append(mean_pairwise_distance(written))
    return out


def timed_run(store, engine, problem: str, n: int) -> tuple[float, list]:
    from discovery import ideas

    t = time.perf_counter()
    result = ideas.generate(store, problem, n=n, engine=engine)
    return time.perf_counter() - t, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", required=True, help="index folder (python -m discovery index build)")
    ap.add_argument("--problems", type=int, default=3, help=f"problems of the fixed set (at most {len(PROBLEMS)})")
    ap.add_argument("--n", type=int, default=5, help="ideas per problem and mode")
    ap.add_argument("--seed", type=int, default=0)
    # one thread: on a shared machine a descheduled OpenMP worker stalls every op
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    args = ap.parse_args(argv)
    settings.models_offline()
    import torch

    torch.set_num_threads(args.threads)
    from discovery.standalone import Standalone
    from inference import load_engine

    store = Standalone.open(args.index)
    t = time.perf_counter()
    engine = load_engine()
    print(f"index {args.index}: {len(store.index_set)} papers; engine {engine.name} loaded in "
          f"{time.perf_counter() - t:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    problems = PROBLEMS[:args.problems]
    seconds, result = timed_run(store, engine, problems[0], args.n)
    grounded = sum(bool(i.inspirations) for i in result.ideas)
    scored = sum("overall" in i.scores for i in result.ideas)
    print(f"\nidea run, 1 problem, {args.n} ideas: {seconds:.1f} s (target 90 s); {grounded}/{len(result.ideas)} "
          f"with inspirations, {scored}/{len(result.ideas)} with novelty scores, "
          f"{sum(i.rounds for i in result.ideas)} regenerations; sources {result.sources()}, LLM ideas dropped "
          f"{result.dropped} of {result.written}; stages ms {result.timings}")
    div = diversity(store, engine, problems, args.n, args.seed)
    print(f"\ndiversity over {len(problems)} problems x {args.n} ideas (mean pairwise cosine distance of methods)")
    print("(passed: LLM ideas that passed structure and coherence, of those the model was asked for)")
    print(f"{'mode':<12}{'distance':>10}{'passed':>10}{'filled':>8}{'LLM s':>8}")
    for mode, row in div.items():
        dist = np.nanmean(row["distance"]) if not all(np.isnan(row["distance"])) else float("nan")
        passed = f"{row['llm']}/{row['written']}"
        print(f"{mode:<12}{dist:>10.3f}{passed:>10}{row['template']:>8}{row['seconds']:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
