"""Speculative decoding (Leviathan et al., 2023; Chen et al., 2023): a cheap drafter proposes k
tokens, the model scores all of them in one forward over the block (a batch-1 decode step is
memory-bound, so k + 1 rows cost little more than one), and keeps the longest prefix it agrees
with plus one token of its own. Rollback is free: the static KV cache just moves its position
back, and the rows past it are overwritten later.

Drafters:
  lookup  prompt-lookup drafting (Saxena, 2023): the longest recent n-gram that ends the text is
          looked up earlier in prompt + output, and what followed it there is proposed. No model;
          it pays when the output copies the prompt (rationales quote titles and phrases).
  draft   a small model of the same tokenizer (Qwen2.5-Coder-0.5B for the 1.5B) proposes greedily.
  auto    lookup; with LLM_DRAFT_MODEL set, both: lookup where the text repeats itself, the
          draft model elsewhere.

Greedy output is token for token the plain greedy output: the int8 engine verifies rows exactly
as single steps compute them (Int8Steps.verify). Sampling keeps the model's distribution with
the speculative-sampling rule for a deterministic drafter (its q is one-hot on the draft token
t): accept t with probability p(t); on a rejection draw from p with t removed, renormalised.
Then P(t) = p(t) and P(x != t) = (1 - p(t)) p(x) / (1 - p(t)) = p(x).

The draft length adapts (Hugging Face's assisted-generation schedule): +2 after a fully accepted
block, -1 after a rejection, within [1, max_draft].
"""
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from . import settings
from .decoding import Output, Sampling, next_token, plain_decode, token_probs

log = logging.getLogger(__name__)
# Registered models with a smaller one of the same tokenizer (LLM_SPECULATE=draft's default drafter).
DRAFT_FOR = {"qwen2.5-coder-1.5b": "qwen2.5-coder-0.5b"}


class SpeculationError(RuntimeError):
    """A drafter that cannot work with this model (another vocabulary...)."""


@dataclass
class Stats:
    tokens: int = 0       # tokens taken by the output
    drafted: int = 0      # draft tokens sent to verification
    accepted: int = 0     # of those, kept
    blocks: int = 0       # verification forwards (a draft was there)
    steps: int = 0        # plain one-token forwards (no draft this time)
    drafter: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["acceptance"] = self.accepted / self.drafted if self.drafted else 0.0
        d["mean_accepted"] = self.accepted / self.blocks if self.blocks else 0.0  # per verified block
        d["tokens_per_forward"] = self.tokens / max(1, self.blocks + self.steps + 1)  # +1: the prefill
        return d


class LookupDrafter:
    """n-grams of the text so far, indexed as it grows: each maps to where its most recent
    occurrence was followed by something (the text is append-only within one generation)."""

    name = "lookup"

    def __init__(self, max_ngram: int = 3, min_ngram: int = 1):
        self.max_ngram, self.min_ngram = max_ngram, min_ngram
        self.index: dict[tuple[int, ...], int] = {}
        self.indexed = 0  # n-grams ending before this position are in the index

    def start(self, ids: list[int]) -> None:
        self.index, self.indexed = {}, 0

    def propose(self, ctx: list[int], k: int) -> list[int]:
        # The suffix itself stays out of the index until a token follows it (else it finds itself).
        for end in range(self.indexed, len(ctx) - 1):
            for n in range(self.min_ngram, min(self.max_ngram, end + 1) + 1):
                self.index[tuple(ctx[end - n + 1:end + 1])] = end + 1
        self.indexed = max(self.indexed, len(ctx) - 1)
        for n in range(min(self.max_ngram, len(ctx)), self.min_ngram - 1, -1):
            at = self.index.get(tuple(ctx[-n:]))
            if at is not None:
                return ctx[at:at + k]
        return []


class ModelDrafter:
    """Greedy proposals of a small step model; its cache follows the text lazily (only the tokens
    it has not seen, or that differ from its own rejected drafts, are fed)."""

    name = "draft"

    def __init__(self, steps):
        self.steps = steps
        self.cached: list[int] = []  # the tokens in the drafter's cache, in order
        self.synced = 0              # a prefix of cached known to agree with the text

    def start(self, ids: list[int]) -> None:
        self.cached, self.synced = [], 0

    def propose(self, ctx: list[int], k: int) -> list[int]:
        if len(ctx) + k > self.steps.max_seq:
            return []
        logits = self._sync(ctx)
        out = []
        for i in range(k):
            out.append(int(logits.argmax()))
            if i + 1 < k:
                logits = self.steps.step(out[-1])
                self.cached.append(out[-1])
        return out

    def _sync(self, ctx: list[int]) -> torch.Tensor:
        """Logits after ctx: the drafter's cache rewound to where it agrees with ctx, the rest fed."""
        n, top = self.synced, min(len(self.cached), len(ctx) - 1)  # keep one token to feed: its logits
        while n < top and self.cached[n] == ctx[n]:
            n += 1
        if n == 0:
            logits = self.steps.prefill(ctx)
        else:
            self.steps.rewind(n)
            logits = self.feed(ctx[n:])
        self.cached, self.synced = list(ctx), len(ctx)
        return logits

    def feed(self, ids: list[int]) -> torch.Tensor:
        logits = None
        block = self.steps.max_block
        for i in range(0, len(ids), block):
            logits = self.steps.verify(ids[i:i + block])
        return logits[-1]


class ChainDrafter:
    """The first drafter with a proposal: lookup (free) before a draft model. Lookup asks for a
    2-gram match here, as a 1-gram one guesses worse than the draft model does."""

    name = "auto"

    def __init__(self, drafters):
        self.drafters = drafters

    def start(self, ids: list[int]) -> None:
        for d in self.drafters:
            d.start(ids)

    def propose(self, ctx: list[int], k: int) -> list[int]:
        for d in self.drafters:
            out = d.propose(ctx, k)
            if out:
                return out
        return []


def accepts(logits: torch.Tensor, token: int, sampling: Sampling, gen: torch.Generator | None) -> bool:
    """Whether the model keeps a draft token: greedy, if it is the argmax; sampling, with the
    model's probability of it (the rejection case is next_token's exclude)."""
    if sampling.temperature <= 0:
        return int(logits.argmax()) == token
    probs = token_probs(logits, sampling)
    p = float(probs[token] / probs.sum())
    return float(torch.rand((), generator=gen)) < p


class Speculation:
    """A drafter and its draft-length schedule; decode() replaces plain decoding in Engine."""

    def __init__(self, drafter, max_draft: int = 8, start_draft: int = 4):
        self.drafter, self.max_draft, self.start_draft = drafter, max_draft, start_draft

    def decode(self, steps, ids: list[int], sampling: Sampling, gen: torch.Generator | None, out: Output) -> Stats:
        stats = Stats(drafter=self.drafter.name)
        if not hasattr(steps, "verify"):  # a step model without block verification
            plain_decode(steps, ids, sampling, gen, out)
            stats.tokens = out.n
            return stats
        logits, ctx, k, exclude = steps.prefill(ids), list(ids), self.start_draft, None
        self.drafter.start(ids)
        try:
            while True:
                tid = next_token(logits, sampling, gen, exclude)
                if out.push(tid):
                    return stats
                ctx.append(tid)
                limit = min(k, out.room(), steps.max_block - 1, steps.max_seq - steps.pos - 1)
                draft = self.drafter.propose(ctx, limit) if limit > 0 else []
                if not draft:
                    logits, exclude = steps.step(tid), None
                    stats.steps += 1
                    continue
                logits, exclude, done = self._verify(steps, tid, draft, ctx, sampling, gen, out, stats)
                if done:
                    return stats
                k = self._next_k(k, exclude is None)
        finally:
            stats.tokens = out.n

    def _verify(self, steps, tid, draft, ctx, sampling, gen, out, stats):
        """One block [tid, *draft] through the model; the accepted drafts go to the output and ctx.
        Returns (logits for the next token, the rejected draft token or None, generation over)."""
        base = steps.pos
        rows = steps.verify([tid] + draft)
        stats.blocks += 1
        stats.drafted += len(draft)
        a, rejected = 0, None
        for j, d in enumerate(draft):
            if not accepts(rows[j], d, sampling, gen):
                rejected = d
                break
            a += 1
            stats.accepted += 1
            if out.push(d):
                return None, None, True
            ctx.append(d)
        steps.rewind(base + 1 + a)  # tid and the accepted drafts stay in the cache
        return rows[a], rejected, False

    def _next_k(self, k: int, all_accepted: bool) -> int:
        return min(self.max_draft, k + 2) if all_accepted else max(1, k - 1)


def load_draft_steps(target_steps, target_tok, path):
    """Int8 step model of a draft model; refused unless its vocabulary is the target's."""
    from .steps import Int8Steps
    from .loading import load_int8

    model, tok = load_int8(path)
    vocab_check(target_steps, target_tok, model.shape.vocab, tok)
    return Int8Steps(model)


def vocab_size(steps) -> int:
    m = steps.model
    return m.shape.vocab if hasattr(m, "shape") else m.config.vocab_size


def vocab_check(target_steps, target_tok, draft_vocab: int, draft_tok) -> None:
    want = vocab_size(target_steps)
    if draft_vocab != want:
        raise SpeculationError(f"the draft model's vocabulary has {draft_vocab} rows, the model's {want}: "
                               "speculative decoding needs the same tokenizer")
    if draft_tok.get_vocab() != target_tok.get_vocab():
        raise SpeculationError("the draft model's tokenizer maps tokens to other ids than the model's")


def draft_model_path():
    """LLM_DRAFT_MODEL (a name, folder or .gguf), else the registered drafter of LLM_MODEL when
    installed; None when there is neither."""
    from . import models

    raw = settings.draft_model()
    if raw:
        if raw in models.REGISTRY:
            return models.model_resolve(raw)
        path = Path(raw).expanduser()
        if not path.exists():
            raise SpeculationError(f"LLM_DRAFT_MODEL={path} does not exist (a model name, folder or .gguf file)")
        return path
    name = DRAFT_FOR.get(settings.model_name() or "")
    return models.model_file(models.model_spec(name)) if name else None


def from_settings(steps, tokenizer) -> "Speculation | None":
    """LLM_SPECULATE: off | lookup | draft | auto (default; lookup, plus the draft model when
    LLM_DRAFT_MODEL names one)."""
    mode = settings.speculate()
    if mode == "off" or not hasattr(steps, "verify"):
        return None
    return build(mode, steps, tokenizer, settings.draft_tokens())


def build(mode: str, steps, tokenizer, max_draft: int = 8) -> "Speculation":
    if mode == "lookup":
        return Speculation(LookupDrafter(), max_draft)
    # auto takes a draft model only when one is named: measured, the 0.5B slows the 1.5B down
    path = draft_model_path() if mode == "draft" or settings.draft_model() else None
    if path is None:
        if mode == "draft":
            raise SpeculationError("LLM_SPECULATE=draft needs LLM_DRAFT_MODEL (a model name, folder or .gguf)")
        return Speculation(LookupDrafter(), max_draft)
    drafter = ModelDrafter(load_draft_steps(steps, tokenizer, path))
    log.info("speculative decoding: %s drafts", path.name)
    if mode == "draft":
        return Speculation(drafter, max_draft)
    return Speculation(ChainDrafter([LookupDrafter(min_ngram=2), drafter]), max_draft)
