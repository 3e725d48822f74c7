"""Issue 18, item 1, as measured: the segmenter with MiniLM's last layer fine-tuned for sentence
labelling, beside the committed segmenter on frozen vectors. Not the product: on CSAbstruct
neither variant beat the frozen-vector ensemble's members (docs/benchmarks.md, "Segmenter").

    python -m discovery.train.segmenter_finetune [--context] [--epochs 6] [--seed 0]

The design keeps ingestion at one encoder pass per text: layers 1-5 stay frozen and shared, and
a trainable copy of layer 6 (initialised from it) runs as a branch beside the frozen layer 6
that gives the sentence vectors, so a segmenter built this way would add one layer of six to
the pass, not a second encoder. Its mean-pooled output joins the committed net's inputs (the
frozen sentence vector, word convolution, n-grams, positions) ahead of the same GRU.

- default: each sentence encoded alone, as ingestion encodes sentences;
- `--context`: the whole abstract in one pass, each sentence pooled over its own tokens, so the
  fine-tuned layer attends across sentences (Cohan et al. 2019 put whole abstracts through
  BERT the same way).

Layer-5 states are computed once with the fp32 model and cached under var/cache/segmenter/. The
branch trains at 1e-4, the net at 1e-3 (AdamW), batches of 32 abstracts; the epoch with the best
dev macro-F1 is kept and scored on test. Seeds fix the run; the figures are per single net, to
set beside one member of the committed ensemble (`--baseline` trains one, same seed).
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import time

import numpy as np
import torch
from torch import nn

from discovery import encoder
from discovery.segmenter import (LABELS, SOURCE_TO_LABEL, Segmenter, SegmenterConfig,
                                 SegmenterNet, collate, to_label_probs)
from discovery.train import segmenter as base

FROZEN_LAYERS = 5  # the branch starts after these; MiniLM has 6
SCALE = 19.6 ** 0.5  # unit vectors -> per-dimension magnitude near the frozen inputs'


def _texts_and_spans(rows: list[dict], context: bool):
    if not context:
        return [s for r in rows for s in r["sentences"]], None
    texts, spans = [], []
    for r in rows:
        starts = np.cumsum([0] + [len(s) + 1 for s in r["sentences"]])[:-1]
        texts.append(" ".join(r["sentences"]))
        spans.append([(a, a + len(s)) for a, s in zip(starts, r["sentences"])])
    return texts, spans


def layer_states(split: str, rows: list[dict], context: bool) -> list:
    """Per abstract: isolated, a list of (tokens, 384) per sentence; in context, (states, the
    sentence index of each token, -1 for [CLS], [SEP] and characters outside any sentence)."""
    texts, spans = _texts_and_spans(rows, context)
    digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    path = base.CACHE / f"{split}-layer{FROZEN_LAYERS}-ctx{int(context)}-{digest}.npz"
    if not path.exists():
        states, sids = _encode_layer(texts, spans, max_length=256 if context else 64)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, flat=np.concatenate(states), off=np.cumsum([0] + [len(s) for s in states]),
                 sid=np.concatenate(sids) if context else np.zeros(0, np.int16))
    z = np.load(path)
    per = [z["flat"][a:b] for a, b in zip(z["off"][:-1], z["off"][1:])]
    if context:
        return [(s, z["sid"][a:b]) for s, a, b in zip(per, z["off"][:-1], z["off"][1:])]
    bounds = np.cumsum([0] + [len(r["sentences"]) for r in rows])
    return [per[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]


def _encode_layer(texts: list[str], spans, max_length: int):
    from transformers import AutoModel

    print(f"encoding {len(texts)} texts to layer {FROZEN_LAYERS} (cached afterwards) ...", flush=True)
    model = AutoModel.from_pretrained(encoder.model_path()).eval()
    encs = encoder._rust_tokenizer(max_length).encode_batch(texts)
    ids = [e.ids for e in encs]
    states = [None] * len(texts)
    with torch.inference_mode():
        for batch in encoder.length_sorted_batches([len(x) for x in ids], 64, 4096):
            width = max(len(ids[i]) for i in batch)
            input_ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros_like(input_ids)
            for row, i in enumerate(batch):
                input_ids[row, :len(ids[i])] = torch.tensor(ids[i])
                mask[row, :len(ids[i])] = 1
            hidden = model(input_ids=input_ids, attention_mask=mask,
                           output_hidden_states=True).hidden_states[FROZEN_LAYERS]
            for row, i in enumerate(batch):
                states[i] = hidden[row, :len(ids[i])].numpy().astype(np.float16)
    sids = [] if spans is None else [_sentence_of_token(e, s) for e, s in zip(encs, spans)]
    return states, sids


def _sentence_of_token(enc, spans) -> np.ndarray:
    out = np.full(len(enc.ids), -1, np.int16)
    for j, (x, y) in enumerate(enc.offsets[1:-1], start=1):
        out[j] = next((k for k, (a, b) in enumerate(spans) if y > x and x >= a and y <= b), -1)
    return out


class BranchSegmenter(nn.Module):
    """A trainable copy of MiniLM's last layer over frozen layer-5 states, pooled per sentence,
    as one more input of the committed SegmenterNet."""

    def __init__(self, cfg: SegmenterConfig, context: bool):
        super().__init__()
        from transformers import AutoModel

        self.context = context
        self.layer = copy.deepcopy(AutoModel.from_pretrained(encoder.model_path()).encoder.layer[FROZEN_LAYERS])
        self.net = SegmenterNet(cfg, extra_dim=cfg.vector_dim)

    def _layer(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.layer(x, attention_mask=(~mask[:, None, None, :]).float() * torch.finfo(torch.float32).min)
        return out[0] if isinstance(out, tuple) else out

    def branch_vectors(self, units: list, B: int, T: int) -> torch.Tensor:
        """(B, T, 384): the fine-tuned layer's output, mean-pooled per sentence, unit length."""
        seqs = [u[0] for u in units] if self.context else [s for u in units for s in u]
        x, mask = _padded(seqs)
        h = self._layer(x, mask)
        if self.context:
            sid = torch.full(mask.shape, -1, dtype=torch.long)
            for b, (_, s) in enumerate(units):
                sid[b, :len(s)] = torch.from_numpy(s.astype(np.int64))
            member = nn.functional.one_hot(sid + 1, T + 1)[..., 1:].float()  # (B, L, T)
            out = torch.einsum("blt,bld->btd", member, h) / member.sum(1)[..., None].clamp(min=1)
        else:
            pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            out = torch.zeros(B, T, h.shape[-1])
            starts = np.cumsum([0] + [len(u) for u in units])
            for b, u in enumerate(units):
                out[b, :len(u)] = pooled[starts[b]:starts[b] + len(u)]
        return nn.functional.normalize(out, dim=-1) * SCALE

    def forward(self, batch, units: list) -> torch.Tensor:
        B, T = batch.mask.shape
        return self.net(batch, extra=self.branch_vectors(units, B, T))


def _padded(seqs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    x = torch.zeros(len(seqs), width, seqs[0].shape[1])
    mask = torch.zeros(len(seqs), width, dtype=torch.bool)
    for i, s in enumerate(seqs):
        x[i, :len(s)] = torch.from_numpy(s.astype(np.float32))
        mask[i, :len(s)] = True
    return x, mask


@torch.no_grad()
def evaluate(model: BranchSegmenter, data, cfg: SegmenterConfig) -> dict[str, float]:
    model.eval()
    rows, items, units = data
    pred = []
    for start in range(0, len(items), 64):
        chunk = items[start:start + 64]
        probs = to_label_probs(torch.softmax(model(collate(chunk, cfg.max_position), units[start:start + 64]), -1))
        pred += [LABELS[j] for b, f in enumerate(chunk) for j in probs[b, :len(f.ngrams)].argmax(-1)]
    return base.aspect_f1([SOURCE_TO_LABEL[x] for r in rows for x in r["labels"]], pred)


def train(data: dict, cfg: SegmenterConfig, context: bool, epochs: int, seed: int) -> dict[str, float]:
    torch.manual_seed(seed)
    model = BranchSegmenter(cfg, context)
    opt = torch.optim.AdamW([{"params": model.layer.parameters(), "lr": 1e-4},
                             {"params": model.net.parameters(), "lr": 1e-3}], weight_decay=1e-2)
    order = torch.Generator().manual_seed(seed)
    rows, items, units = data["train"]
    best, best_dev, t0 = None, -1.0, time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(items), generator=order).tolist()
        for start in range(0, len(perm), 32):
            idx = perm[start:start + 32]
            batch = collate([items[i] for i in idx], cfg.max_position)
            loss = base.batch_loss(model(batch, [units[i] for i in idx]),
                                   [(b, rows[i]) for b, i in enumerate(idx)], [], base.TrainConfig())
            opt.zero_grad()
            loss.backward()
            opt.step()
        dev = evaluate(model, data["dev"], cfg)["macro"]
        print(f"epoch {epoch}: dev macro-F1 {dev:.4f} ({time.time() - t0:.0f} s)", flush=True)
        if dev > best_dev:
            best, best_dev = copy.deepcopy(model.state_dict()), dev
    model.load_state_dict(best)
    return {"dev": best_dev} | evaluate(model, data["test"], cfg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--context", action="store_true", help="whole abstracts in one pass")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--baseline", action="store_true", help="also train one committed-design net, same seed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = SegmenterConfig()
    data = {}
    for split in ("train", "dev", "test"):
        rows, items = base.prepare(split, cfg, "fast")  # the vectors ingestion feeds the net
        data[split] = (rows, items, layer_states(split, rows, args.context))
    if args.baseline:
        tcfg = base.TrainConfig(epochs=8)
        net, dev = base.train_member(args.seed, *[data[s][:2] for s in ("train", "dev")], cfg, tcfg)
        base.report(f"one frozen-vector net (dev {dev:.4f}), test", base.evaluate(Segmenter([net]), *data["test"][:2]))
    scores = train(data, cfg, args.context, args.epochs, args.seed)
    base.report(f"fine-tuned layer 6, {'in context' if args.context else 'sentences alone'} "
                f"(dev {scores.pop('dev'):.4f}), test", scores)


if __name__ == "__main__":
    main()
