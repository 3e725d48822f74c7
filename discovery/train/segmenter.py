"""Train and evaluate the abstract segmenter (discovery/segmenter.py) on CSAbstruct.

    python -m discovery.train.segmenter              # train on train, select on dev, report test
    python -m discovery.train.segmenter --eval-only  # score the committed weights on test
    python -m discovery.train.segmenter --bench      # ms per abstract, beside the encoder's

Sentence vectors come from discovery.encoder and are cached under var/cache/segmenter/, so only
the first run pays for encoding (a few minutes on 2 cores). Training is deterministic: fixed
seeds, torch deterministic algorithms and one thread per member; rerunning writes a
byte-identical weights file and prints the same scores, whatever --workers is.

The score is the product's: F1 of problem, method and findings over all sentences (a sentence
with gold `other` labelled as an aspect is a false positive), averaged over the three.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from discovery.segmenter import (LABELS, SOURCE_LABELS, SOURCE_TO_LABEL, WEIGHTS, Features,
                                 Segmenter, SegmenterConfig, SegmenterNet, collate, featurize)
from discovery.settings import PROJECT_ROOT, shared_data_dir

ASPECTS = LABELS[:3]


@dataclass
class TrainConfig:
    members: int = 5           # ensemble size: seeds 0..members-1; ~0.9 MB of fp16 weights each
    epochs: int = 8            # each member keeps its best epoch on dev; it overfits by ~10
    batch_size: int = 32       # abstracts per step
    lr: float = 1e-3           # AdamW; 2e-3 overfits within 5 epochs
    conf_power: float = 2.0    # loss weight = annotator confidence ** this; half of train is
                               # labelled with confidence <= 0.6, so trust agreed labels more
    weight_decay: float = 1e-2  # AdamW's default; dropout does most of the regularising
    encoder_mode: str = "fp32"  # train on the reference vectors; test is also scored on "fast"
    threads: int = 1           # per member, fixed: float reductions depend on it
    workers: int = 2           # members trained in parallel processes (2 cores); no effect on results


def load_split(split: str) -> list[dict]:
    path = shared_data_dir() / "csabstruct" / f"{split}.jsonl"
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cached_vectors(split: str, rows: list[dict], mode: str) -> list[np.ndarray]:
    """Encoder vectors per abstract, cached by encoder mode and a digest of the sentences."""
    sentences = [s for r in rows for s in r["sentences"]]
    digest = hashlib.sha1("\n".join(sentences).encode()).hexdigest()[:12]
    path = PROJECT_ROOT / "var" / "cache" / "segmenter" / f"{split}-{mode}-{digest}.npy"
    if path.exists():
        flat = np.load(path)
    else:
        from discovery import encoder

        print(f"encoding {len(sentences)} {split} sentences, {mode} (cached afterwards) ...",
              flush=True)
        flat = encoder.encode(sentences, mode=mode)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(".tmp.npy"), flat)
        os.replace(path.with_suffix(".tmp.npy"), path)
    bounds = np.cumsum([0] + [len(r["sentences"]) for r in rows])
    return [flat[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]


def prepare(split: str, cfg: SegmenterConfig,
            mode: str = "fp32") -> tuple[list[dict], list[Features]]:
    rows = load_split(split)
    vectors = cached_vectors(split, rows, mode)
    return rows, [featurize(r["sentences"], v, cfg) for r, v in zip(rows, vectors)]


# ---------------------------------------------------------------------------- scoring

def aspect_f1(gold: list[str], pred: list[str]) -> dict[str, float]:
    """Per-aspect F1 over all sentences, and their mean under "macro"."""
    g, p = np.array(gold), np.array(pred)
    scores = {}
    for a in ASPECTS:
        tp = float(((g == a) & (p == a)).sum())
        denom = float((g == a).sum() + (p == a).sum())
        scores[a] = 2 * tp / denom if denom else 1.0
    scores["macro"] = float(np.mean([scores[a] for a in ASPECTS]))
    return scores


def evaluate(seg: Segmenter, rows: list[dict], items: list[Features]) -> dict[str, float]:
    pred = [LABELS[j] for probs in seg.probabilities(items) for j in probs.argmax(-1)]
    gold = [SOURCE_TO_LABEL[label] for r in rows for label in r["labels"]]
    return aspect_f1(gold, pred)


# ---------------------------------------------------------------------------- training

def gold_tensors(rows: list[dict], T: int, conf_power: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Label ids (B, T) and loss weights (B, T); padding gets weight 0."""
    y = torch.zeros((len(rows), T), dtype=torch.long)
    w = torch.zeros((len(rows), T))
    for b, r in enumerate(rows):
        y[b, :len(r["labels"])] = torch.tensor([SOURCE_LABELS.index(x) for x in r["labels"]])
        w[b, :len(r["confs"])] = torch.tensor(r["confs"], dtype=torch.float) ** conf_power
    return y, w


def train_member(seed: int, train: tuple[list[dict], list[Features]],
                 dev: tuple[list[dict], list[Features]], cfg: SegmenterConfig,
                 tcfg: TrainConfig) -> tuple[SegmenterNet, float]:
    """One ensemble member; returns the weights of its best dev epoch and that dev macro-F1."""
    torch.manual_seed(seed)
    net = SegmenterNet(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    order = torch.Generator().manual_seed(seed)
    rows, items = train
    best, best_f1 = None, -1.0
    for epoch in range(tcfg.epochs):
        net.train()
        perm = torch.randperm(len(items), generator=order).tolist()
        for start in range(0, len(perm), tcfg.batch_size):
            idx = perm[start:start + tcfg.batch_size]
            batch = collate([items[i] for i in idx], cfg.max_position)
            y, w = gold_tensors([rows[i] for i in idx], batch.mask.shape[1], tcfg.conf_power)
            losses = nn.functional.cross_entropy(net(batch).flatten(0, 1), y.flatten(),
                                                 reduction="none")
            loss = (losses * w.flatten()).sum() / w.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        f1 = evaluate(Segmenter([net]), *dev)["macro"]
        net.train()
        if f1 > best_f1:
            best, best_f1 = copy.deepcopy(net.state_dict()), f1
    net.load_state_dict(best)
    return net.eval(), best_f1


def _train_in_worker(seed: int, train, dev, cfg: SegmenterConfig,
                     tcfg: TrainConfig) -> tuple[dict, float, float]:
    torch.set_num_threads(tcfg.threads)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    net, f1 = train_member(seed, train, dev, cfg, tcfg)
    return net.state_dict(), f1, time.time() - t0


def train_ensemble(train, dev, cfg: SegmenterConfig, tcfg: TrainConfig) -> Segmenter:
    """Members are independent (own seed, own process), so parallelism cannot change them."""
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=tcfg.workers, mp_context=ctx) as pool:
        futures = [pool.submit(_train_in_worker, seed, train, dev, cfg, tcfg)
                   for seed in range(tcfg.members)]
        nets = []
        for seed, future in enumerate(futures):
            state, f1, seconds = future.result()
            print(f"member {seed}: dev macro-F1 {f1:.4f} ({seconds:.0f} s)", flush=True)
            net = SegmenterNet(cfg)
            net.load_state_dict(state)
            nets.append(net)
    return Segmenter(nets)


def report(name: str, scores: dict[str, float]) -> None:
    print(f"{name:<22}" + "  ".join(f"{k} {scores[k]:.4f}" for k in (*ASPECTS, "macro")),
          flush=True)


def _timed(fn, n: int) -> str:
    """Wall ms and CPU ms (all threads) per item: CPU time is the steadier figure on a busy box."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return f"{1000 * wall / n:.2f} ms/abstract wall ({n / wall:.0f}/s), {1000 * cpu / n:.2f} ms CPU"


def bench(path: Path, rows: list[dict], items: list[Features], threads: int) -> None:
    """Segmenter cost per abstract (vectors given, as in ingestion) beside the encoder's."""
    from discovery import encoder

    torch.set_num_threads(threads)
    seg, abstracts = Segmenter.load(path), [r["sentences"] for r in rows]
    vectors = [f.vectors for f in items]
    seg.label_many(abstracts[:8], vectors[:8])  # warm-up: word table, tokenizer, lookup taps
    encoder.encode(abstracts[0])  # warm-up: model load
    n = len(abstracts)
    print(f"{n} CSAbstruct test abstracts, {threads} torch threads")
    print("segmenter:          " + _timed(lambda: seg.label_many(abstracts, vectors), n))
    print("encoder (baseline): " + _timed(lambda: encoder.encode([s for a in abstracts for s in a]), n))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--eval-only", action="store_true", help="score the weights at --out on test")
    ap.add_argument("--bench", action="store_true",
                    help="time the committed segmenter on test beside the encoder (2 threads)")
    ap.add_argument("--out", type=Path, default=WEIGHTS, help="weights file to write / read")
    ap.add_argument("--members", type=int, default=TrainConfig.members)
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--workers", type=int, default=TrainConfig.workers)
    args = ap.parse_args()
    tcfg = TrainConfig(members=args.members, epochs=args.epochs, workers=args.workers)
    torch.set_num_threads(tcfg.threads)
    torch.use_deterministic_algorithms(True)
    cfg = SegmenterConfig()
    test = prepare("test", cfg, tcfg.encoder_mode)
    if args.bench:
        return bench(args.out, *test, threads=2)
    if not args.eval_only:
        train, dev = prepare("train", cfg, tcfg.encoder_mode), prepare("dev", cfg, tcfg.encoder_mode)
        train_ensemble(train, dev, cfg, tcfg).save(args.out)
        report("dev (ensemble)", evaluate(Segmenter.load(args.out), *dev))
    seg = Segmenter.load(args.out)
    report("test", evaluate(seg, *test))
    # what ingestion feeds it: the encoder's default Int8 vectors (cosine ~0.99 to fp32)
    report("test (fast vectors)", evaluate(seg, *prepare("test", cfg, mode="fast")))


if __name__ == "__main__":
    main()
