"""Generation over any step model: chat template, greedy or nucleus sampling (Holtzman et al.,
2020, top-p), stop strings, streaming, a token budget and a wall-clock timeout.

A step model has `max_seq`, `prefill(ids) -> logits [V]` (starts a fresh sequence) and
`step(token_id) -> logits [V]`; the int8 engine and the transformers baselines both provide one.
For speculative decoding (speculative.py) it also has `pos` (tokens in its cache), `verify(ids)
-> logits [len(ids), V]` (feeds a block at pos, one row of logits per token) and `rewind(pos)`;
a step model without them is decoded plainly.
"""
import threading
import time
from dataclasses import dataclass
from typing import Callable

import torch

from .structured import chat_json


AUTO = "auto"  # Engine(speculation=AUTO): from the settings


class GenerationError(RuntimeError):
    """The model could not produce what was asked (bad JSON after retries, prompt too long...)."""


class GenerationTimeout(GenerationError):
    """The generation ran past its timeout_s."""


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


class Engine:
    """The API the workers call: chat() and chat_json(). One generation at a time per process:
    the KV cache is shared state."""

    def __init__(self, steps, tokenizer, name: str, speculation=AUTO):
        """speculation: a speculative.Speculation, None for plain decoding, or AUTO: chosen from
        LLM_SPECULATE and LLM_DRAFT_MODEL at the first generation (a draft model loads then)."""
        self.steps, self.tok, self.name = steps, tokenizer, name
        self.lock = threading.Lock()
        self.stop_ids = {i for i in (tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>"))
                         if isinstance(i, int) and i >= 0}
        self.speculation = speculation
        self.last_stats: dict = {}  # the latest generation's speculation figures (speculative.Stats)

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        if self.tok.chat_template:
            out = self.tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            return list(out["input_ids"] if hasattr(out, "keys") else out)
        text = "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"
        return self.tok(text).input_ids

    def chat(self, messages: list[dict], max_new_tokens: int = 256, temperature: float = 0.0, top_p: float = 1.0,
             seed: int | None = None, stop: list[str] | None = None, timeout_s: float | None = 60,
             on_token: Callable[[str], None] | None = None, assistant_prefix: str = "") -> str:
        """The assistant's reply; assistant_prefix is put in its mouth (and returned with the reply)."""
        ids = self.prompt_ids(messages) + (self.tok(assistant_prefix, add_special_tokens=False).input_ids
                                           if assistant_prefix else [])
        return assistant_prefix + self.complete(ids, max_new_tokens, Sampling(temperature, top_p, seed),
                                                stop or [], timeout_s, on_token)

    def complete(self, ids: list[int], max_new_tokens: int, sampling: Sampling, stop: list[str],
                 timeout_s: float | None, on_token: Callable[[str], None] | None = None) -> str:
        if len(ids) + max_new_tokens > self.steps.max_seq:
            max_new_tokens = self.steps.max_seq - len(ids)
            if max_new_tokens <= 0:
                raise GenerationError(f"prompt of {len(ids)} tokens leaves no room in the "
                                      f"{self.steps.max_seq}-token context")
        gen = torch.Generator().manual_seed(sampling.seed) if sampling.seed is not None else None
        stream = TextStream(self.tok, stop)
        emit = on_token or (lambda piece: None)
        out = Output(self.name, stream, self.stop_ids, max_new_tokens, timeout_s, emit)
        with self.lock:
            spec = self.speculation_resolved()
            if spec is None:
                self.last_stats = {}
                plain_decode(self.steps, ids, sampling, gen, out)
            else:
                self.last_stats = spec.decode(self.steps, ids, sampling, gen, out).as_dict()
        tail = stream.flush()
        if tail:
            emit(tail)
        return stream.text

    def speculation_resolved(self):
        if self.speculation is AUTO:
            from . import speculative

            self.speculation = speculative.from_settings(self.steps, self.tok)
        return self.speculation

    def chat_json(self, messages: list[dict], schema: dict, max_new_tokens: int = 256, retries: int = 2,
                  **sampling) -> dict:
        return chat_json(self.chat, messages, schema, max_new_tokens, retries, GenerationError, **sampling)


class Int8Steps:
    """Step-model view of the int8 Llama: positions into its static KV cache."""

    def __init__(self, model):
        from . import settings

        self.model, self.pos = model, 0
        self.max_seq = model.shape.max_seq
        # Activations above the threshold go through fp32, per row and per weight row: at 2.0 a
        # 1.5B Qwen row has ~60 of them and they cost more than the int8 matmul of the row.
        model.threshold = settings.int8_threshold() or model.threshold

    # A verified block stays under the kernel's GEMM threshold (M >= 16), whose rounding differs
    # from the one-row path: below it every row's logits are bitwise a single step's.
    max_block = 15

    def prefill(self, ids: list[int]) -> torch.Tensor:
        self.pos = len(ids)
        return self.model.forward(torch.tensor(ids), 0)[-1]

    def step(self, token_id: int) -> torch.Tensor:
        logits = self.model.forward(torch.tensor([token_id]), self.pos)[-1]
        self.pos += 1
        return logits

    def verify(self, ids: list[int]) -> torch.Tensor:
        if len(ids) > self.max_block:
            raise ValueError(f"a verified block holds at most {self.max_block} tokens, not {len(ids)}")
        logits = self.model.forward(torch.tensor(ids), self.pos, all_logits=True, rowwise=True)
        self.pos += len(ids)
        return logits

    def rewind(self, pos: int) -> None:
        """Forget the cache past pos: later writes overwrite those rows, attention never reads them."""
        if not 0 < pos <= self.pos:
            raise ValueError(f"cannot rewind to {pos} from {self.pos}")
        self.pos = pos


class HFSteps:
    """Step-model view of a transformers causal LM with its own dynamic KV cache."""

    max_block = 64  # no exactness bound here: a batched fp32 matmul rounds like a one-row one only nearly

    def __init__(self, model, max_seq: int = 2048):
        self.model, self.past, self.pos = model, None, 0
        self.max_seq = min(max_seq, model.config.max_position_embeddings)

    @torch.inference_mode()
    def prefill(self, ids: list[int]) -> torch.Tensor:
        out = self.model(torch.tensor([ids]), use_cache=True)
        self.past, self.pos = out.past_key_values, len(ids)
        return out.logits[0, -1]

    @torch.inference_mode()
    def step(self, token_id: int) -> torch.Tensor:
        return self.verify([token_id])[-1]

    @torch.inference_mode()
    def verify(self, ids: list[int]) -> torch.Tensor:
        out = self.model(torch.tensor([ids]), past_key_values=self.past, use_cache=True)
        self.past = out.past_key_values
        self.pos += len(ids)
        return out.logits[0]

    def rewind(self, pos: int) -> None:
        if not 0 < pos <= self.pos:
            raise ValueError(f"cannot rewind to {pos} from {self.pos}")
        if pos < self.pos:
            self.past.crop(pos - self.pos)  # transformers 5: a negative count of tokens to drop
        self.pos = pos
