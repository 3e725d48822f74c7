"""Train and evaluate the abstract segmenter (discovery/segmenter.py) on CSAbstruct.

    python -m discovery.train_segmenter              # train on train, select on dev, report test
    python -m discovery.train_segmenter --eval-only  # score the committed weights on test

Sentence vectors come from discovery.encoder and are cached under var/cache/segmenter/, so only
the first run pays for encoding (a few minutes on 2 cores). Training is deterministic: fixed
seeds, torch deterministic algorithms and a fixed thread count; rerunning writes the same
weights and prints the same scores.

The score is the product's: F1 of problem, method and findings over all sentences (a sentence
with gold `other` labelled as an aspect is a false positive), averaged over the three.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from discovery.segmenter import (LABELS, SOURCE_LABELS, SOURCE_TO_LABEL, WEIGHTS, Features,
                                 Segmenter, SegmenterConfig, SegmenterNet, collate, featurize)

ROOT = Path(__file__).resolve().parents[1]
ASPECTS = LABELS[:3]


@dataclass
class TrainConfig:
    members: int = 5           # ensemble size: seeds 0..members-1; each member is ~0.3M params
    epochs: int = 40           # each member keeps its best epoch on dev
    batch_size: int = 32       # abstracts per step
    lr: float = 2e-3           # AdamW
    weight_decay: float = 1e-2
    threads: int = 1           # fixed: float reductions depend on it; more threads only spin on 2 busy cores


def data_dir() -> Path:
    return Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))


def load_split(split: str) -> list[dict]:
    path = data_dir() / "csabstruct" / f"{split}.jsonl"
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cached_vectors(split: str, rows: list[dict]) -> list[np.ndarray]:
    """Encoder vectors per abstract, cached by a digest of the sentences."""
    sentences = [s for r in rows for s in r["sentences"]]
    digest = hashlib.sha1("\n".join(sentences).encode()).hexdigest()[:12]
    path = ROOT / "var" / "cache" / "segmenter" / f"{split}-{digest}.npy"
    if path.exists():
        flat = np.load(path)
    else:
        from discovery import encoder

        print(f"encoding {len(sentences)} {split} sentences (cached afterwards) ...", flush=True)
        flat = encoder.encode(sentences)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(".tmp.npy"), flat)
        os.replace(path.with_suffix(".tmp.npy"), path)
    bounds = np.cumsum([0] + [len(r["sentences"]) for r in rows])
    return [flat[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]


def prepare(split: str, cfg: SegmenterConfig) -> tuple[list[dict], list[Features]]:
    rows = load_split(split)
    vectors = cached_vectors(split, rows)
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

def gold_tensor(rows: list[dict], T: int) -> torch.Tensor:
    y = torch.full((len(rows), T), -100, dtype=torch.long)  # -100: ignored by cross_entropy
    for b, r in enumerate(rows):
        y[b, :len(r["labels"])] = torch.tensor([SOURCE_LABELS.index(x) for x in r["labels"]])
    return y


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
            y = gold_tensor([rows[i] for i in idx], batch.mask.shape[1])
            loss = nn.functional.cross_entropy(net(batch).flatten(0, 1), y.flatten())
            opt.zero_grad()
            loss.backward()
            opt.step()
        f1 = evaluate(Segmenter([net]), *dev)["macro"]
        net.train()
        if f1 > best_f1:
            best, best_f1 = copy.deepcopy(net.state_dict()), f1
    net.load_state_dict(best)
    return net.eval(), best_f1


def report(name: str, scores: dict[str, float]) -> None:
    print(f"{name:<22}" + "  ".join(f"{k} {scores[k]:.4f}" for k in (*ASPECTS, "macro")),
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--eval-only", action="store_true", help="score the weights at --out on test")
    ap.add_argument("--out", type=Path, default=WEIGHTS, help="weights file to write / read")
    ap.add_argument("--members", type=int, default=TrainConfig.members)
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    args = ap.parse_args()
    tcfg = TrainConfig(members=args.members, epochs=args.epochs)
    torch.set_num_threads(tcfg.threads)
    torch.use_deterministic_algorithms(True)
    cfg = SegmenterConfig()
    test = prepare("test", cfg)
    if not args.eval_only:
        train, dev = prepare("train", cfg), prepare("dev", cfg)
        nets = []
        for seed in range(tcfg.members):
            t0 = time.time()
            net, f1 = train_member(seed, train, dev, cfg, tcfg)
            print(f"member {seed}: dev macro-F1 {f1:.4f} ({time.time() - t0:.0f} s)", flush=True)
            nets.append(net)
        Segmenter(nets).save(args.out)
        report("dev (ensemble)", evaluate(Segmenter.load(args.out), *dev))
    report("test", evaluate(Segmenter.load(args.out), *test))


if __name__ == "__main__":
    main()
