"""Train and evaluate the abstract segmenter (discovery/segmenter.py) on CSAbstruct.

    python -m discovery.train.segmenter              # teacher, then self-trained students
    python -m discovery.train.segmenter --eval-only  # score the committed weights on test, also
                                                     # through the site's pipeline (own splitter)
    python -m discovery.train.segmenter --bench      # ms per abstract, beside the encoder's

Training runs in two stages (self-training, as in "noisy student" distillation):
1. a teacher ensemble is trained on CSAbstruct train alone, each member's epoch picked on dev;
2. the teacher labels `--unlabeled` abstracts of ml_papers (the 49k corpus: computer-science
   abstracts like CSAbstruct's, with no labels) with its averaged probabilities, and a student
   ensemble is trained on train's gold labels plus those soft labels, weighted by
   `pseudo_weight`; again each member's epoch is picked on dev. `--rounds` times: each round's
   students label the same abstracts for the next round; the last round is committed.
CSAbstruct has 1,668 training abstracts; the cue phrases and orderings of the wider corpus are
what the students gain (docs/methods/segmenter.md).

Sentence vectors come from discovery.encoder and are cached under var/cache/segmenter/, so only
the first run pays for encoding (about 15 minutes on 2 cores, most of it the 41k unlabeled
sentences). Training is deterministic: fixed seeds, torch deterministic algorithms and one thread
per member; rerunning writes a byte-identical weights file and prints the same scores, whatever
--workers is.

The score is the product's: F1 of problem, method and findings over all sentences (a sentence
with gold `other` labelled as an aspect is a false positive), averaged over the three.
"""
from __future__ import annotations

import argparse
import copy
import gzip
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
CACHE = PROJECT_ROOT / "var" / "cache" / "segmenter"  # encoder vectors, teacher and early rounds


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
    unlabeled: int = 6000      # ml_papers abstracts the teacher labels for the students; 0: no stage 2
    pseudo_weight: float = 0.3  # loss weight of a soft-labelled sentence (gold: confidence ** 2);
                               # on dev 0.3 beat 1.0 and hard labels above 0.9 confidence
    student_epochs: int = 10   # the students see ~4x as many abstracts and peak later
    rounds: int = 2            # of self-training; dev macro-F1 of the ensembles: teacher 0.7309,
                               # round 1 0.7303, round 2 0.7378 (docs/benchmarks.md)


def load_split(split: str) -> list[dict]:
    path = shared_data_dir() / "csabstruct" / f"{split}.jsonl"
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cached_vectors(split: str, rows: list[dict], mode: str) -> list[np.ndarray]:
    """Encoder vectors per abstract, cached by encoder mode and a digest of the sentences."""
    sentences = [s for r in rows for s in r["sentences"]]
    digest = hashlib.sha1("\n".join(sentences).encode()).hexdigest()[:12]
    path = CACHE / f"{split}-{mode}-{digest}.npy"
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


def unlabeled_abstracts(n: int, seed: int = 1234) -> list[list[str]]:
    """n abstracts of ml_papers, split into sentences, in a fixed random order; those of 3-14
    sentences only (CSAbstruct's range: shorter ones are fragments, longer ones lists)."""
    from discovery.sentences import split_sentences

    with gzip.open(shared_data_dir() / "ml_papers.jsonl.gz", "rt") as f:
        abstracts = [json.loads(line).get("abstract") or "" for line in f if line.strip()]
    out = []
    for i in np.random.default_rng(seed).permutation(len(abstracts)):
        sentences = split_sentences(abstracts[i])
        if 3 <= len(sentences) <= 14:
            out.append(sentences)
            if len(out) == n:
                break
    return out


def prepare_unlabeled(n: int, cfg: SegmenterConfig, mode: str = "fp32") -> list[Features]:
    rows = [{"sentences": s} for s in unlabeled_abstracts(n)]
    vectors = cached_vectors(f"ml_papers-{n}", rows, mode)
    return [featurize(r["sentences"], v, cfg) for r, v in zip(rows, vectors)]


def soft_labels(teacher: Segmenter, items: list[Features], batch_size: int = 256) -> list[torch.Tensor]:
    """Per abstract, (n, 5) probabilities over SOURCE_LABELS averaged over the teacher's nets."""
    out = []
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        probs = teacher.source_probabilities(chunk)
        out += [probs[b, :len(f.ngrams)] for b, f in enumerate(chunk)]
    return out


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


def evaluate_pipeline(seg: Segmenter, rows: list[dict]) -> dict[str, float]:
    """The site's pipeline (what `python -m discovery segment` answers): each abstract joined,
    split by the product's own splitter and encoded by the default encoder. Each gold sentence
    takes the label of the product sentence that covers most of its characters, so a split that
    differs from CSAbstruct's costs what it mislabels."""
    from discovery import aspects

    segs = aspects.segment([("", " ".join(r["sentences"])) for r in rows], segmenter=seg)
    gold, pred = [], []
    for r, sg in zip(rows, segs):
        spans = _spans(" ".join(r["sentences"]), sg.sentences)
        start = 0
        for sentence, label in zip(r["sentences"], r["labels"]):
            lo, hi = start, start + len(sentence)
            start = hi + 1
            best = max(range(len(spans)), key=lambda k: min(hi, spans[k][1]) - max(lo, spans[k][0]))
            gold.append(SOURCE_TO_LABEL[label])
            pred.append(sg.labels[best])
    return aspect_f1(gold, pred)


def _spans(text: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Character span of each split sentence in text (the splitter keeps sentences in order)."""
    spans, cursor = [], 0
    for sentence in sentences:
        at = text.find(sentence[:30], cursor)
        at = cursor if at < 0 else at
        spans.append((at, at + len(sentence)))
        cursor = at + 1
    return spans


# ---------------------------------------------------------------------------- training

def gold_tensors(rows: list[dict], T: int, conf_power: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Label ids (B, T) and loss weights (B, T); padding gets weight 0."""
    y = torch.zeros((len(rows), T), dtype=torch.long)
    w = torch.zeros((len(rows), T))
    for b, r in enumerate(rows):
        y[b, :len(r["labels"])] = torch.tensor([SOURCE_LABELS.index(x) for x in r["labels"]])
        w[b, :len(r["confs"])] = torch.tensor(r["confs"], dtype=torch.float) ** conf_power
    return y, w


def soft_tensors(probs: list[torch.Tensor], T: int, weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher probabilities (B, T, 5) and loss weights (B, T); padding gets weight 0."""
    q = torch.zeros((len(probs), T, len(SOURCE_LABELS)))
    w = torch.zeros((len(probs), T))
    for b, p in enumerate(probs):
        q[b, :len(p)], w[b, :len(p)] = p, weight
    return q, w


def batch_loss(logits: torch.Tensor, gold: list[tuple[int, dict]],
               soft: list[tuple[int, torch.Tensor]], tcfg: TrainConfig) -> torch.Tensor:
    """Weighted cross-entropy of a batch's (B, T, 5) logits over its gold-labelled abstracts
    (position in the batch, CSAbstruct row) and soft-labelled ones (position, teacher
    probabilities), with one normaliser, so that a sentence weighs what its weight says."""
    T = logits.shape[1]
    logp = torch.log_softmax(logits, -1)
    total, weight = logp.new_zeros(()), logp.new_zeros(())
    if gold:
        y, w = gold_tensors([row for _, row in gold], T, tcfg.conf_power)
        losses = nn.functional.nll_loss(logp[[b for b, _ in gold]].flatten(0, 1), y.flatten(),
                                        reduction="none")
        total, weight = total + (losses * w.flatten()).sum(), weight + w.sum()
    if soft:
        q, w = soft_tensors([p for _, p in soft], T, tcfg.pseudo_weight)
        cross = -(q * logp[[b for b, _ in soft]]).sum(-1)
        total, weight = total + (cross * w).sum(), weight + w.sum()
    return total / weight


def train_member(seed: int, train: tuple[list[dict], list[Features]],
                 dev: tuple[list[dict], list[Features]], cfg: SegmenterConfig,
                 tcfg: TrainConfig, pseudo: tuple[list[Features], list[torch.Tensor]] | None = None,
                 ) -> tuple[SegmenterNet, float]:
    """One ensemble member; returns the weights of its best dev epoch and that dev macro-F1.
    With `pseudo` (unlabeled abstracts and their soft labels), a student: every epoch shuffles
    the gold and the pseudo-labelled abstracts together."""
    torch.manual_seed(seed)
    net = SegmenterNet(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    order = torch.Generator().manual_seed(seed)
    rows, items = train
    u_items, u_probs = pseudo or ([], [])
    best, best_f1 = None, -1.0
    for epoch in range(tcfg.student_epochs if pseudo else tcfg.epochs):
        net.train()
        perm = epoch_order(len(items), len(u_items), order)
        for start in range(0, len(perm), tcfg.batch_size):
            idx = perm[start:start + tcfg.batch_size]
            batch = collate([items[i] if i < len(items) else u_items[i - len(items)] for i in idx],
                            cfg.max_position)
            gold = [(b, rows[i]) for b, i in enumerate(idx) if i < len(items)]
            soft = [(b, u_probs[i - len(items)]) for b, i in enumerate(idx) if i >= len(items)]
            loss = batch_loss(net(batch), gold, soft, tcfg)
            opt.zero_grad()
            loss.backward()
            opt.step()
        f1 = evaluate(Segmenter([net]), *dev)["macro"]
        net.train()
        if f1 > best_f1:
            best, best_f1 = copy.deepcopy(net.state_dict()), f1
    net.load_state_dict(best)
    return net.eval(), best_f1


def epoch_order(n_gold: int, n_unlabeled: int, generator: torch.Generator) -> list[int]:
    """Indices into gold + unlabeled (unlabeled ones offset by n_gold), shuffled."""
    if not n_unlabeled:
        return torch.randperm(n_gold, generator=generator).tolist()
    pool = list(range(n_gold)) + [n_gold + i for i in torch.randperm(n_unlabeled, generator=generator).tolist()]
    return [pool[j] for j in torch.randperm(len(pool), generator=generator).tolist()]


def _train_in_worker(seed: int, train, dev, cfg: SegmenterConfig,
                     tcfg: TrainConfig, pseudo) -> tuple[dict, float, float]:
    torch.set_num_threads(tcfg.threads)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    net, f1 = train_member(seed, train, dev, cfg, tcfg, pseudo)
    return net.state_dict(), f1, time.time() - t0


def train_ensemble(train, dev, cfg: SegmenterConfig, tcfg: TrainConfig, pseudo=None) -> Segmenter:
    """Members are independent (own seed, own process), so parallelism cannot change them."""
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=tcfg.workers, mp_context=ctx) as pool:
        futures = [pool.submit(_train_in_worker, seed, train, dev, cfg, tcfg, pseudo)
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


def train_stages(out: Path, teacher_path: Path | None, cfg: SegmenterConfig, tcfg: TrainConfig) -> None:
    """Stage 1, the teacher (unless given), then stage 2, the students, written to `out`."""
    train, dev = prepare("train", cfg, tcfg.encoder_mode), prepare("dev", cfg, tcfg.encoder_mode)
    if teacher_path is None:
        teacher_path = out if not tcfg.unlabeled else CACHE / "teacher.safetensors"
        train_ensemble(train, dev, cfg, tcfg).save(teacher_path)
    # the students learn from the saved teacher (fp16 weights), as a given --teacher would be
    teacher = Segmenter.load(teacher_path)
    report("dev (teacher)", evaluate(teacher, *dev))
    if not tcfg.unlabeled:
        return
    items = prepare_unlabeled(tcfg.unlabeled, cfg, tcfg.encoder_mode)
    for round_ in range(1, tcfg.rounds + 1):
        path = out if round_ == tcfg.rounds else CACHE / f"round{round_}.safetensors"
        train_ensemble(train, dev, cfg, tcfg, (items, soft_labels(teacher, items))).save(path)
        teacher = Segmenter.load(path)  # each round's students teach the next round
        report(f"dev (round {round_})", evaluate(teacher, *dev))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--eval-only", action="store_true", help="score the weights at --out on test")
    ap.add_argument("--bench", action="store_true",
                    help="time the committed segmenter on test beside the encoder (2 threads)")
    ap.add_argument("--out", type=Path, default=WEIGHTS, help="weights file to write / read")
    ap.add_argument("--members", type=int, default=TrainConfig.members)
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--workers", type=int, default=TrainConfig.workers)
    ap.add_argument("--unlabeled", type=int, default=TrainConfig.unlabeled,
                    help="ml_papers abstracts for self-training; 0 stops after the teacher")
    ap.add_argument("--teacher", type=Path,
                    help="an existing teacher ensemble (stage 1 output) instead of training one")
    ap.add_argument("--rounds", type=int, default=TrainConfig.rounds, help="of self-training")
    args = ap.parse_args()
    tcfg = TrainConfig(members=args.members, epochs=args.epochs, workers=args.workers,
                       unlabeled=args.unlabeled, rounds=args.rounds)
    torch.set_num_threads(tcfg.threads)
    torch.use_deterministic_algorithms(True)
    cfg = SegmenterConfig()
    test = prepare("test", cfg, tcfg.encoder_mode)
    if args.bench:
        return bench(args.out, *test, threads=2)
    if not args.eval_only:
        train_stages(args.out, args.teacher, cfg, tcfg)
    seg = Segmenter.load(args.out)
    report("test", evaluate(seg, *test))
    # what ingestion feeds it: the encoder's default Int8 vectors (cosine ~0.99 to fp32)
    report("test (fast vectors)", evaluate(seg, *prepare("test", cfg, mode="fast")))
    report("test (site pipeline)", evaluate_pipeline(seg, test[0]))


if __name__ == "__main__":
    main()
