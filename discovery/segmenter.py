"""Abstract segmenter: label each sentence of an abstract as problem, method, findings or other.

Sequential sentence classification (Cohan et al., 2019, "Pretrained Language Models for
Sequential Sentence Classification", which introduced CSAbstruct) done cheaply: instead of
fine-tuning a transformer over the whole abstract, a small bidirectional GRU runs over the
sentences of one abstract (Jin & Szolovits, 2018, "Hierarchical Neural Networks for Sequential
Sentence Classification in Medical Scientific Abstracts"). Each sentence enters as
- the frozen all-MiniLM-L6-v2 vector the ingestion pipeline computes anyway (discovery.encoder);
- a max-pooled convolution over its word pieces, embedded with MiniLM's own (frozen) input
  embedding table: mean-pooled sentence vectors blur the cue phrases ("we propose", "results
  show", "in this paper") that mark a sentence's role, and this recovers them (+4 points of
  macro-F1 on CSAbstruct); the table is read from the encoder's files at load time, never
  committed;
- hashed word uni/bigrams, its position from the start and from the end, and its length.
The GRU supplies the context. The committed weights are an ensemble of five such nets trained
with different seeds, by self-training on CSAbstruct and unlabeled ml_papers abstracts
(discovery/train/segmenter.py); their probabilities are averaged. The
whole segmenter costs ~3 ms of CPU per abstract, about a quarter of the Int8 encoder's.

The net predicts the five CSAbstruct labels; background and objective are summed into problem.
A sentence that addresses a language model instead of describing research (prompt injection:
"Ignore previous instructions ...") is labelled other before the net runs (is_instruction).
"""
from __future__ import annotations

import functools
import json
import logging
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from discovery import encoder

log = logging.getLogger(__name__)
LABELS = ("problem", "method", "findings", "other")
SOURCE_LABELS = ("background", "objective", "method", "result", "other")  # CSAbstruct's
SOURCE_TO_LABEL = {"background": "problem", "objective": "problem", "method": "method",
                   "result": "findings", "other": "other"}
WEIGHTS = Path(__file__).resolve().parent / "weights" / "segmenter.safetensors"
N_SCALARS = 6  # see sentence_scalars
PAD = 0        # [PAD] in MiniLM's vocabulary


@dataclass
class SegmenterConfig:
    vector_dim: int = 384     # all-MiniLM-L6-v2 sentence vectors
    buckets: int = 8192       # hashed uni/bigram vocabulary; collisions are rare among cue words
    ngram_dim: int = 16       # learned n-gram bag; narrow: the word convolution carries most cues
    max_tokens: int = 48      # word pieces per sentence seen by the convolution; cues come early
    word_channels: int = 64   # convolution filters over word-piece embeddings; 128 overfits sooner
    max_position: int = 10    # CSAbstruct has <= 10 sentences per abstract; later ones share slot 9
    position_dim: int = 16    # width of each of the two position embeddings (from start, from end)
    hidden: int = 128         # GRU width per direction
    dropout: float = 0.3      # on the projected input and the GRU output; CSAbstruct is small


# ---------------------------------------------------------------------------- cheap features

_WORD = re.compile(r"[a-z]+|\d+(?:\.\d+)?|%")


def _words(sentence: str) -> list[str]:
    # numbers collapse to one token: "3.5" and "12" say the same thing (a result, usually)
    return ["<num>" if w[0].isdigit() else w for w in _WORD.findall(sentence.lower())]


def ngram_ids(sentence: str, buckets: int) -> list[int]:
    """Hashed unigrams and bigrams (crc32: stable across processes, unlike hash())."""
    words = ["<s>"] + _words(sentence)
    grams = words[1:] + [a + " " + b for a, b in zip(words, words[1:])]
    return [zlib.crc32(g.encode()) % buckets for g in grams] or [0]


def sentence_scalars(sentence: str, index: int, count: int) -> list[float]:
    n_words = len(sentence.split())
    return [index / max(count - 1, 1), float(count) / 10.0, np.log1p(n_words) / 4.0,
            float(any(c.isdigit() for c in sentence)), float("%" in sentence),
            float(sentence.rstrip().endswith(":"))]


@dataclass
class Features:
    """One abstract, ready for the net: float vectors plus the cheap features."""
    vectors: np.ndarray        # (n, vector_dim) float32
    ngrams: list[list[int]]    # per sentence, bucket ids
    tokens: list[list[int]]    # per sentence, MiniLM word-piece ids
    scalars: np.ndarray        # (n, N_SCALARS) float32


@functools.lru_cache(maxsize=4)
def _tokenizer(max_tokens: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(encoder.model_path()) / "tokenizer.json"))
    tok.enable_truncation(max_tokens)
    tok.no_padding()
    return tok


@functools.lru_cache(maxsize=1)
def word_table() -> torch.Tensor:
    """MiniLM's input word-piece embeddings (30522 x 384), read lazily from its safetensors."""
    from safetensors import safe_open

    with safe_open(str(Path(encoder.model_path()) / "model.safetensors"), framework="pt") as f:
        name = next(k for k in f.keys() if k.endswith("word_embeddings.weight"))
        return f.get_tensor(name).float()


def featurize(sentences: list[str], vectors: np.ndarray, cfg: SegmenterConfig) -> Features:
    n = len(sentences)
    return Features(vectors=np.asarray(vectors, dtype=np.float32),
                    ngrams=[ngram_ids(s, cfg.buckets) for s in sentences],
                    tokens=[e.ids for e in _tokenizer(cfg.max_tokens).encode_batch(sentences)],
                    scalars=np.array([sentence_scalars(s, i, n) for i, s in enumerate(sentences)],
                                     dtype=np.float32).reshape(n, N_SCALARS))


@dataclass
class Batch:
    vectors: torch.Tensor     # (B, T, D)
    ngrams: torch.Tensor      # flat bucket ids for EmbeddingBag
    offsets: torch.Tensor     # start of each sentence's ids in ngrams, sentences in (b, t) order
    tokens: torch.Tensor      # (B, T, L) word-piece ids, PAD-padded
    scalars: torch.Tensor     # (B, T, N_SCALARS)
    positions: torch.Tensor   # (B, T) index from the start
    rpositions: torch.Tensor  # (B, T) index from the end
    mask: torch.Tensor        # (B, T) True for real sentences
    lengths: torch.Tensor     # (B,) sentences per abstract


def collate(items: list[Features], max_position: int) -> Batch:
    """Pad abstracts to the longest one; padded slots get an empty n-gram bag (id 0)."""
    B, T = len(items), max(len(f.ngrams) for f in items)
    D = items[0].vectors.shape[1]
    vectors = np.zeros((B, T, D), np.float32)
    scalars = np.zeros((B, T, N_SCALARS), np.float32)
    mask = np.zeros((B, T), bool)
    tokens = np.full((B, T, max(len(t) for f in items for t in f.tokens)), PAD, np.int64)
    ids, offsets = [], []
    for b, f in enumerate(items):
        n = len(f.ngrams)
        vectors[b, :n], scalars[b, :n], mask[b, :n] = f.vectors, f.scalars, True
        for t, tok in enumerate(f.tokens):
            tokens[b, t, :len(tok)] = tok
        for t in range(T):
            offsets.append(len(ids))
            ids.extend(f.ngrams[t] if t < n else [0])
    lengths = mask.sum(1)
    pos = np.minimum(np.arange(T)[None, :].repeat(B, 0), max_position - 1)
    rpos = np.clip(lengths[:, None] - 1 - np.arange(T)[None, :], 0, max_position - 1)
    return Batch(torch.from_numpy(vectors), torch.tensor(ids), torch.tensor(offsets),
                 torch.from_numpy(tokens), torch.from_numpy(scalars), torch.from_numpy(pos),
                 torch.from_numpy(rpos), torch.from_numpy(mask), torch.from_numpy(lengths))


# ---------------------------------------------------------------------------- the net

class SegmenterNet(nn.Module):
    def __init__(self, cfg: SegmenterConfig, extra_dim: int = 0):
        """extra_dim: width of more per-sentence features given to forward() (an experiment's,
        discovery/train/segmenter_finetune.py; the product gives none)."""
        super().__init__()
        self.cfg = cfg
        # frozen and shared with the encoder's files: a buffer, left out of the saved weights
        self.register_buffer("words", word_table(), persistent=False)
        self.conv = nn.Conv1d(self.words.shape[1], cfg.word_channels, kernel_size=3, padding=1)
        self._taps: torch.Tensor | None = None  # see _conv_by_lookup
        self.ngrams = nn.EmbeddingBag(cfg.buckets, cfg.ngram_dim, mode="mean")
        self.pos = nn.Embedding(cfg.max_position, cfg.position_dim)
        self.rpos = nn.Embedding(cfg.max_position, cfg.position_dim)
        d_in = cfg.vector_dim + extra_dim + cfg.word_channels + cfg.ngram_dim + 2 * cfg.position_dim + N_SCALARS
        self.proj = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(d_in, cfg.hidden), nn.GELU())
        self.gru = nn.GRU(cfg.hidden, cfg.hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.Dropout(cfg.dropout),
                                  nn.Linear(3 * cfg.hidden, len(SOURCE_LABELS)))

    def forward(self, batch: Batch, extra: torch.Tensor | None = None) -> torch.Tensor:
        """Logits over SOURCE_LABELS, (B, T, 5); padded positions are garbage, mask them.
        extra: (B, T, extra_dim) features, placed after the sentence vectors."""
        B, T = batch.mask.shape
        bags = self.ngrams(batch.ngrams, batch.offsets).view(B, T, -1)
        vectors = [batch.vectors] + ([] if extra is None else [extra])
        x = torch.cat([*vectors, self.word_features(batch.tokens), bags,
                       self.pos(batch.positions), self.rpos(batch.rpositions), batch.scalars], dim=-1)
        h = self.proj(x)
        packed = nn.utils.rnn.pack_padded_sequence(h, batch.lengths, batch_first=True,
                                                   enforce_sorted=False)
        ctx, _ = self.gru(packed)
        ctx, _ = nn.utils.rnn.pad_packed_sequence(ctx, batch_first=True, total_length=T)
        # the sentence's own projection next to its context: the GRU need not carry it through
        return self.head(torch.cat([h, ctx], dim=-1))

    def word_features(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, L) word-piece ids -> (B, T, word_channels): conv, then max over real tokens."""
        B, T, L = tokens.shape
        flat = tokens.view(B * T, L)
        # only real sentences: padding slots (all PAD) are most of a batch of long and short
        # abstracts, and their features are a constant (-1, see below)
        real = (flat != PAD).any(1)
        words = flat[real]
        if self.training:
            h = self.conv(nn.functional.embedding(words, self.words).transpose(1, 2)).transpose(1, 2)
        else:
            h = self._conv_by_lookup(words)
        h = nn.functional.gelu(h).masked_fill((words == PAD)[:, :, None], float("-inf")).amax(1)
        out = h.new_full((B * T, h.shape[-1]), -1.0)  # an all-PAD row's max over nothing, clamped
        out[real] = h.clamp(min=-1.0)
        return out.view(B, T, -1)

    def _conv_by_lookup(self, flat: torch.Tensor) -> torch.Tensor:
        """The same convolution at inference, ~4x cheaper: the table is frozen, so each filter
        tap can be applied to the whole vocabulary once (vocab x 3 x channels: 23 MB per net)
        and the conv becomes three gathers and two shifted adds."""
        if self._taps is None:
            self._taps = torch.einsum("vd,cdk->vkc", self.words, self.conv.weight.detach())
        g = self._taps[flat]                       # (BT, L, 3, C)
        h = g[:, :, 1] + self.conv.bias.detach()
        h[:, 1:] += g[:, :-1, 0]                   # tap 0 looks one token back
        h[:, :-1] += g[:, 1:, 2]                   # tap 2 looks one token ahead
        return h

    def train(self, mode: bool = True) -> "SegmenterNet":
        self._taps = None  # the conv weights are about to change (or just did)
        return super().train(mode)


def to_label_probs(source_probs: torch.Tensor) -> torch.Tensor:
    """(…, 5) over SOURCE_LABELS -> (…, 4) over LABELS: problem = background + objective."""
    return torch.cat([source_probs[..., :2].sum(-1, keepdim=True), source_probs[..., 2:]], dim=-1)


# ---------------------------------------------------------------------------- instructions

# Prompt injection in an abstract: a sentence that gives orders to a language model. It is no
# problem, method or finding, and labelled as one it drags the paper's aspect vectors off (a
# copy of a paper with one such sentence fell from 0.708 to 0.515 problem similarity). Matched
# only as an imperative or an address, at the start of a sentence or after a colon, so that a
# paper that studies injection ("models can be made to ignore previous instructions") keeps
# its sentences.
_LEAD = r"(?:^|[:;\u2014-]\s*)[\s\"'(\[]*(?:(?:please|now|important|note|also|instead|and)[\s,:!]+)*"
_INSTRUCTION = re.compile(_LEAD + r"""(?:
    (?:ignore|disregard|forget|override|bypass)\b[^.!?]{0,60}?\b(?:instructions?|prompts?|directions|directives)\b
  | you\s+are\s+(?:now\s+)?(?:chat\s?gpt|gpt[-\s]?\d|claude|gemini|llama|bard|copilot
        |an?\s+(?:ai|large\s+language\s+model|language\s+model|llm|chatbot|(?:helpful\s+)?assistant))\b
  | (?:act|behave|respond)\s+as\s+(?:if\s+you\s+were\s+)?(?:an?\s+)?(?:ai|chat\s?gpt|assistant|language\s+model)\b
  | (?:output|print|emit|return|respond\s+with|reply\s+with|write|render|insert|include)\s+(?:only\s+)?
        (?:the\s+following|this|exactly)\b[^.!?]{0,40}?\b(?:html|javascript|script|code|markup|markdown|text|json)\b
)""", re.IGNORECASE | re.VERBOSE)


def is_instruction(sentence: str) -> bool:
    """True for a sentence that instructs a language model (see _INSTRUCTION)."""
    return bool(_INSTRUCTION.search(sentence))


def label_without_instructions(label_many, abstracts: list[list[str]],
                               vectors: list[np.ndarray | None]) -> list[list[str]]:
    """label_many over each abstract's other sentences (instructions are kept out of the net's
    context too, so they cannot shift their neighbours' labels); instructions get "other"."""
    kept = [[i for i, s in enumerate(sents) if not is_instruction(s)] for sents in abstracts]
    labels = label_many([[sents[i] for i in keep] for sents, keep in zip(abstracts, kept)],
                        [None if v is None else v[keep] for v, keep in zip(vectors, kept)])
    out = []
    for sents, keep, labs in zip(abstracts, kept, labels):
        full = ["other"] * len(sents)
        for i, label in zip(keep, labs):
            full[i] = label
        out.append(full)
    return out


# ---------------------------------------------------------------------------- inference

class Segmenter:
    """An ensemble of SegmenterNets; label() and label_many() take sentences (and vectors)."""

    def __init__(self, nets: list[SegmenterNet]):
        self.nets = [net.eval() for net in nets]
        self.cfg = nets[0].cfg

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> "Segmenter":
        from safetensors.torch import load_file, safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["segmenter"])
        cfg = SegmenterConfig(**meta["config"])
        tensors = load_file(str(path))
        nets = []
        for k in range(meta["members"]):
            net = SegmenterNet(cfg)
            prefix = f"{k}."
            net.load_state_dict({n[len(prefix):]: t.float() for n, t in tensors.items()
                                 if n.startswith(prefix)})
            nets.append(net)
        return cls(nets)

    def save(self, path: str | Path) -> None:
        """fp16 on disk (halves the file; the nets are insensitive to it), fp32 in memory."""
        from safetensors.torch import save_file

        tensors = {f"{k}.{n}": t.detach().half().contiguous()
                   for k, net in enumerate(self.nets) for n, t in net.state_dict().items()}
        # one metadata key: safetensors writes several in random order, and the file should be
        # byte-identical when training is rerun
        meta = {"segmenter": json.dumps({"config": asdict(self.cfg), "members": len(self.nets)},
                                        sort_keys=True)}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(path), metadata=meta)

    @torch.no_grad()
    def source_probabilities(self, items: list[Features]) -> torch.Tensor:
        """(B, T, 5) probabilities over SOURCE_LABELS, averaged over the ensemble (padded)."""
        batch = collate(items, self.cfg.max_position)
        return sum(torch.softmax(net(batch), -1) for net in self.nets) / len(self.nets)

    def probabilities(self, items: list[Features]) -> list[np.ndarray]:
        """Per abstract, (n, 4) probabilities over LABELS, averaged over the ensemble."""
        label_probs = to_label_probs(self.source_probabilities(items)).numpy()
        return [label_probs[b, :len(f.ngrams)] for b, f in enumerate(items)]

    def label(self, sentences: list[str], vectors: np.ndarray | None = None,
              title: str | None = None) -> list[str]:
        """Labels from LABELS, one per sentence. `title` is accepted for callers that have one;
        CSAbstruct has no titles, so the net does not use it."""
        return self.label_many([sentences], [vectors])[0]

    def label_many(self, abstracts: list[list[str]],
                   vectors: list[np.ndarray | None] | None = None,
                   batch_size: int = 256) -> list[list[str]]:
        """Batched label(); abstracts whose vectors are None are encoded in one encoder call."""
        vectors = list(vectors) if vectors is not None else [None] * len(abstracts)
        return label_without_instructions(functools.partial(self._label_many, batch_size=batch_size),
                                          abstracts, vectors)

    def _label_many(self, abstracts: list[list[str]], vectors: list[np.ndarray | None],
                    batch_size: int) -> list[list[str]]:
        vectors = _fill_missing_vectors(abstracts, vectors)
        out: list[list[str]] = [[] for _ in abstracts]
        todo = [i for i, sents in enumerate(abstracts) if sents]
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            items = [featurize(abstracts[i], vectors[i], self.cfg) for i in chunk]
            for i, p in zip(chunk, self.probabilities(items)):
                out[i] = [LABELS[j] for j in p.argmax(-1)]
        return out


def _fill_missing_vectors(abstracts: list[list[str]],
                          vectors: list[np.ndarray | None]) -> list[np.ndarray | None]:
    missing = [i for i, v in enumerate(vectors) if v is None and abstracts[i]]
    if not missing:
        return vectors
    flat = encoder.encode([s for i in missing for s in abstracts[i]])
    bounds = np.cumsum([0] + [len(abstracts[i]) for i in missing])
    for i, lo, hi in zip(missing, bounds[:-1], bounds[1:]):
        vectors[i] = flat[lo:hi]
    return vectors


def position_labels(n: int) -> list[str]:
    """Abstracts open with the problem and close with the findings."""
    return ["problem" if i < max(1, n // 3) else "findings" if n > 2 and i == n - 1 else "method" for i in range(n)]


class PositionLabeller:
    """Stand-in for the trained segmenter while its weights are absent (same label_many)."""

    def label_many(self, abstracts: list[list[str]], vectors=None) -> list[list[str]]:
        return label_without_instructions(lambda kept, _: [position_labels(len(sents)) for sents in kept],
                                          abstracts, [None] * len(abstracts))


@functools.lru_cache(maxsize=1)
def default_segmenter():
    """The process's one segmenter, for the site, the worker and the command line alike (two
    would label the same text differently): the trained ensemble, or position labels while its
    weights are not there yet."""
    try:
        return Segmenter.load()
    except FileNotFoundError:
        log.warning("no segmenter weights at %s: labelling sentences by position", WEIGHTS)
        return PositionLabeller()
