"""Generation over any step model: chat template, greedy or nucleus sampling (Holtzman et al.,
2020, top-p), stop strings, streaming, a token budget and a wall-clock timeout.

A step model has `max_seq`, `prefill(ids) -> logits [V]` (starts a fresh sequence) and
`step(token_id) -> logits [V]`; the int8 engine and the transformers baselines both provide one.
For speculative decoding (speculative.py) it also has `pos` (tokens in its cache), `verify(ids)
-> logits [len(ids), V]` (feeds a block at pos, one row of logits per token) and `rewind(pos)`;
a step model without them is decoded plainly.
"""
import threading
from typing import Callable

import torch

from .decoding import (GenerationError, GenerationTimeout, Output, Sampling, TextStream, next_token,  # noqa: F401
                       plain_decode, token_probs)
from .steps import HFSteps, Int8Steps  # noqa: F401 (re-exported: the engine's step models)
from .structured import chat_json


AUTO = "auto"  # Engine(speculation=AUTO): from the settings


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
