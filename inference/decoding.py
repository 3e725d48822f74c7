"""The decoding primitives that plain, speculative and constrained decoding share: the errors,
sampling (greedy, temperature, top-p), the per-token output bookkeeping (stop ids, stop strings,
budget, timeout, streaming) and plain decoding. No engine here, so speculative.py and
structured.py can use them without importing generate.py (which imports both)."""
import time
from dataclasses import dataclass
from typing import Callable

import torch


class GenerationError(RuntimeError):
    """The model could not produce what was asked (bad JSON after retries, prompt too long...)."""


class GenerationTimeout(GenerationError):
    """The generation ran past its timeout_s. `partial`: the text written before it, when the
    caller can use part of a reply (constrained decoding: the JSON up to the last whole value)."""

    def __init__(self, message: str = "", partial: str = ""):
        super().__init__(message)
        self.partial = partial


@dataclass
class Sampling:
    temperature: float = 0.0   # 0 means greedy (argmax)
    top_p: float = 1.0         # nucleus: sample from the smallest set holding this probability mass
    seed: int | None = None    # fixes the sampled sequence; None draws a fresh one


def token_probs(logits: torch.Tensor, s: Sampling) -> torch.Tensor:
    """The distribution a sampled token is drawn from (temperature, then the nucleus; unnormalised
    after the nucleus cut, which multinomial does not mind)."""
    probs = torch.softmax(logits.float() / s.temperature, -1)
    if s.top_p < 1.0:
        p, idx = probs.sort(descending=True)
        keep = p.cumsum(-1) - p < s.top_p  # always keeps the most likely token
        probs = torch.zeros_like(probs).scatter_(0, idx[keep], p[keep])
    return probs


def next_token(logits: torch.Tensor, s: Sampling, gen: torch.Generator | None, exclude: int | None = None) -> int:
    """exclude: a draft token just rejected (speculative sampling draws from p without it)."""
    if s.temperature <= 0:
        return int(logits.argmax())  # a rejected greedy draft is never the argmax: nothing to exclude
    probs = token_probs(logits, s)
    if exclude is not None and float(probs.sum() - probs[exclude]) > 0:
        probs[exclude] = 0.0
    return int(torch.multinomial(probs, 1, generator=gen))


class Output:
    """The tokens of one generation, one at a time: stop ids, stop strings, the token budget, the
    timeout and streaming, applied alike by plain and speculative decoding."""

    def __init__(self, name: str, stream: "TextStream", stop_ids: set[int], max_new_tokens: int,
                 timeout_s: float | None, emit: Callable[[str], None]):
        self.name, self.stream, self.stop_ids, self.max_new_tokens = name, stream, stop_ids, max_new_tokens
        self.timeout_s, self.emit = timeout_s, emit
        self.deadline = time.monotonic() + timeout_s if timeout_s else float("inf")
        self.n = 0  # tokens taken

    def push(self, token_id: int) -> bool:
        """Take one token; True when the generation is over (a stop, or the budget spent)."""
        if token_id in self.stop_ids:
            return True
        piece = self.stream.push(token_id)
        if piece:
            self.emit(piece)
        self.n += 1
        if self.stream.done:
            return True
        if time.monotonic() > self.deadline:
            raise GenerationTimeout(f"{self.name}: generation passed timeout_s={self.timeout_s} after {self.n} tokens")
        return self.n >= self.max_new_tokens

    def room(self) -> int:
        return self.max_new_tokens - self.n


def plain_decode(steps, ids: list[int], sampling: Sampling, gen: torch.Generator | None, out: Output) -> None:
    logits = steps.prefill(ids)
    while not out.push(tid := next_token(logits, sampling, gen)):
        logits = steps.step(tid)


class TextStream:
    """Turns token ids into text pieces, holding back what might still become a stop string
    or an incomplete UTF-8 character."""

    def __init__(self, tokenizer, stop: list[str]):
        self.tok, self.stop = tokenizer, [s for s in stop if s]
        self.ids: list[int] = []
        self.sent = 0      # characters already handed out
        self.done = False  # a stop string was seen
        self.text = ""     # what has been handed out so far

    def push(self, token_id: int) -> str:
        self.ids.append(token_id)
        text = self.tok.decode(self.ids, skip_special_tokens=True)
        for s in self.stop:
            cut = text.find(s, max(0, self.sent - len(s)))
            if cut >= 0:
                self.done, text = True, text[:cut]
                return self._emit(text, len(text))
        hold = max([k for s in self.stop for k in range(1, len(s)) if text.endswith(s[:k])], default=0)
        end = len(text) - hold
        if text.endswith("\ufffd"):  # a multi-byte character split across tokens
            end = min(end, len(text) - 1)
        return self._emit(text, end)

    def flush(self) -> str:
        text = self.tok.decode(self.ids, skip_special_tokens=True)
        return "" if self.done else self._emit(text, len(text))

    def _emit(self, text: str, end: int) -> str:
        piece = text[self.sent:end] if end > self.sent else ""
        self.sent = max(self.sent, end)
        self.text = text[:self.sent]
        return piece
