"""Step models: the int8 Llama's static KV cache and a transformers causal LM, each seen as
`prefill(ids)`, `step(token_id)` and, for speculative decoding, `verify(ids)` and `rewind(pos)`
(the protocol is in generate.py's docstring)."""
import torch


class Int8Steps:
    """Step-model view of the int8 Llama: positions into its static KV cache."""

    def __init__(self, model):
        from . import settings

        self.model, self.pos = model, 0
        self.max_seq = model.shape.max_seq
        self._caches: list = []  # Int8Batch's, kept from one batch to the next
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

    def batch(self, n: int) -> "Int8Batch":
        """n sequences decoded together after one shared prompt (Int8Batch). Their caches are
        kept for the next batch: 28 layers of a 1.5B model hold ~117 MB per sequence."""
        self._caches += [self.model.new_cache() for _ in range(n - len(self._caches))]
        return Int8Batch(self.model, self._caches[:n], self.max_block)


class Int8Batch:
    """Several sequences of the int8 Llama, one KV cache each, fed together: `prefill(ids)`
    writes a prompt shared by all of them once, `feed({seq: tokens})` appends each sequence's
    tokens in as few forwards as the block bound allows and returns each one's last logits.
    Each weight is read once per forward for all rows, so n sequences cost little more than one
    while decoding is memory-bound; every row is computed as its own single step would be."""

    def __init__(self, model, caches: list, max_block: int):
        self.model, self.caches, self.max_block = model, caches, max_block
        self.pos = [0] * len(caches)

    def prefill(self, ids: list[int]) -> torch.Tensor:
        logits = self.model.forward(torch.tensor(ids), 0, cache=self.caches[0])[-1]
        for c in self.caches[1:]:
            c.copy_prefix(self.caches[0], len(ids))
        self.pos = [len(ids)] * len(self.caches)
        return logits

    def feed(self, tokens: dict[int, list[int]]) -> dict[int, torch.Tensor]:
        rows = [(b, t) for b, ts in tokens.items() for t in ts]
        if not rows:
            return {}
        if max(self.pos[b] + len(ts) for b, ts in tokens.items()) > self.model.shape.max_seq:
            raise ValueError(f"a sequence would pass the {self.model.shape.max_seq}-token context")
        last: dict[int, torch.Tensor] = {}
        for at in range(0, len(rows), self.max_block):
            block, places = rows[at:at + self.max_block], []
            for b, _ in block:
                places.append((self.caches[b], self.pos[b]))
                self.pos[b] += 1
            logits = self.model.forward_rows(torch.tensor([t for _, t in block]), places)
            for (b, _), row in zip(block, logits):
                last[b] = row
        return last


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
