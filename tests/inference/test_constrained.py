"""Constrained JSON decoding (inference.structured.json_object) over a step model that wants to
break the JSON: every reply parses, keeps the schema's keys in order and its maxLength."""
import threading

import jsonschema_rs
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from inference import GenerationError, GenerationTimeout
from inference.structured import Unsupported, compile_schema, json_object, token_table
from inference.stub import StubEngine

SCHEMA = {"type": "object", "required": ["title", "method", "expected_findings"],
          "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 30},
                         "method": {"type": "string", "minLength": 3, "maxLength": 80},
                         "expected_findings": {"type": "string", "minLength": 1, "maxLength": 40}}}
TRAINING = ['{"title": "Sparse attention", "method": "We prune heads.", "x": "a\\\\b"}\n',
            'He said "hello", then "bye". The end."} \\n \\" "}, ""'] * 50


@pytest.fixture(scope="module")
def tok():
    """A small byte-level BPE whose merges hold quotes with their neighbours ('",', '."', '"}')."""
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator(TRAINING, trainers.BpeTrainer(vocab_size=400, special_tokens=["<|im_end|>"],
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>")


class HostileSteps:
    """Logits favouring whatever breaks JSON (quotes, backslashes, newlines, end of text), with
    seeded noise so each prompt takes another path; records what it was fed."""
    max_seq = 4096

    def __init__(self, tok, seed: int):
        texts = tok.batch_decode([[i] for i in range(len(tok))])
        self.bias = torch.tensor([5.0 * any(c in t for c in '"\\\n}') for t in texts])
        self.bias[tok.eos_token_id] = 8.0
        self.gen, self.fed = torch.Generator().manual_seed(seed), []

    def prefill(self, ids):
        self.fed = list(ids)
        return self._logits()

    def step(self, tid):
        self.fed.append(tid)
        return self._logits()

    def _logits(self):
        return self.bias + 3 * torch.randn(len(self.bias), generator=self.gen)


class FakeEngine:
    name = "fake"

    def __init__(self, tok, steps):
        self.tok, self.steps, self.lock = tok, steps, threading.Lock()
        self.stop_ids = {tok.eos_token_id}

    def prompt_ids(self, messages):
        return self.tok(messages[-1]["content"]).input_ids


ASK = [{"role": "user", "content": "an idea please"}]


@pytest.mark.parametrize("seed", range(12))
def test_it_only_writes_schema_valid_json_in_key_order(tok, seed):
    steps = HostileSteps(tok, seed)
    obj = json_object(FakeEngine(tok, steps), ASK, SCHEMA, max_new_tokens=120, temperature=1.0, seed=seed)
    assert jsonschema_rs.validator_for(SCHEMA).is_valid(obj)
    assert list(obj) == ["title", "method", "expected_findings"]
    fed = tok.decode(steps.fed)
    assert fed.startswith("an idea please{\"title\": \"")  # the prompt, then the forced first key
    assert '"method": "' in fed and '"expected_findings": "' in fed


def test_it_stops_a_value_at_its_max_length(tok):
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}}
    for seed in range(5):
        obj = json_object(FakeEngine(tok, HostileSteps(tok, seed)), ASK, schema, max_new_tokens=50, seed=seed)
        assert 1 <= len(obj["a"]) <= 5


def test_it_fixes_the_number_of_items_of_an_array(tok):
    schema = {"type": "object", "properties": {"ideas": {"type": "array", "minItems": 3, "maxItems": 3,
                                                         "items": SCHEMA}}}
    obj = json_object(FakeEngine(tok, HostileSteps(tok, 0)), ASK, schema, max_new_tokens=400, seed=0)
    assert len(obj["ideas"]) == 3 and jsonschema_rs.validator_for(schema).is_valid(obj)


def test_it_fails_clearly_when_the_budget_cannot_hold_the_fields(tok):
    with pytest.raises(GenerationError, match="schema"):
        json_object(FakeEngine(tok, HostileSteps(tok, 0)), ASK, SCHEMA, max_new_tokens=3, seed=0)


def test_it_raises_a_timeout(tok):
    with pytest.raises(GenerationTimeout):
        json_object(FakeEngine(tok, HostileSteps(tok, 0)), ASK, SCHEMA, max_new_tokens=120, timeout_s=1e-9)


def test_it_marks_only_quote_free_tokens_as_string_text_and_finds_closers(tok):
    table = token_table(tok, len(tok) + 7)  # a model's head is often padded past the vocabulary
    assert table is token_table(tok, len(tok) + 7)
    texts = table.texts
    assert not any(table.clean[i] and any(c in t for c in '"\\\n') for i, t in enumerate(texts))
    assert not table.clean[tok.eos_token_id] and not table.clean[len(tok):].any()
    closers = table.closers('", "method": "', None)
    assert tok.convert_tokens_to_ids('"') in closers
    assert all('", "method": "'.startswith(after) for _, after in closers.values())
    assert any(before for before, _ in closers.values())  # '."' style tokens end a sentence and the string


def test_it_leaves_unsupported_schemas_and_step_less_engines_to_chat_json():
    with pytest.raises(Unsupported):
        compile_schema({"type": "object", "properties": {"n": {"type": "integer"}}})
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert json_object(StubEngine(), ASK, schema) == StubEngine().chat_json(ASK, schema=schema)
    assert jsonschema_rs.validator_for(SCHEMA).is_valid(json_object(StubEngine(), ASK, SCHEMA))


def test_it_writes_json_with_the_real_model_and_masks_in_a_fraction_of_a_step(int8_engine):
    import time

    ask = [{"role": "user", "content": "Propose a research idea about graph neural networks."}]
    obj = json_object(int8_engine, ask, SCHEMA, max_new_tokens=80)
    assert jsonschema_rs.validator_for(SCHEMA).is_valid(obj) and list(obj) == list(SCHEMA["properties"])
    logits = int8_engine.steps.prefill(int8_engine.prompt_ids(ask))
    table = token_table(int8_engine.tok, logits.shape[-1])
    close_ids = torch.tensor(sorted(table.closers('", "method": "', None)))
    t = time.perf_counter()
    for _ in range(50):
        allowed = table.clean & (table.length <= 40)
        allowed[close_ids] = True
        int(logits.masked_fill(~allowed, float("-inf")).argmax())
    mask_s = (time.perf_counter() - t) / 50
    t = time.perf_counter()
    int8_engine.steps.step(int(logits.argmax()))
    assert mask_s < 0.5 * (time.perf_counter() - t)  # the mask costs a fraction of one step of the 135M model
    assert table.clean.sum() > 0.9 * len(int8_engine.tok)  # only quote, backslash and control tokens are out


def test_a_timeout_keeps_the_whole_items_written_before_it(tok, monkeypatch):
    """A batch cut by its budget hands back the ideas it finished, exactly as decoded."""
    import itertools
    import types

    from inference import structured

    schema = {"type": "object", "properties": {"ideas": {"type": "array", "minItems": 3, "maxItems": 3,
                                                         "items": SCHEMA}}}
    def engine():  # a fresh one each time: the hostile model's choices depend on what it saw
        return FakeEngine(tok, HostileSteps(tok, 0))

    full = json_object(engine(), ASK, schema, max_new_tokens=400, seed=0, timeout_s=None)
    calls = itertools.count()
    # one "second" per look, in this module only: patching time.monotonic itself would reach the
    # Celery and Redis clients that later tests' workers share
    monkeypatch.setattr(structured, "time", types.SimpleNamespace(monotonic=lambda: float(next(calls))))
    json_object(engine(), ASK, schema, max_new_tokens=400, seed=0, timeout_s=10 ** 6)
    looks = next(calls)
    with pytest.raises(GenerationTimeout) as cut:
        json_object(engine(), ASK, schema, max_new_tokens=400, seed=0, timeout_s=looks * 2 // 3)
    kept = structured.whole_items(cut.value.partial, "ideas")
    assert 1 <= len(kept) < 3 and kept == full["ideas"][:len(kept)]
    assert structured.whole_items('{"ideas": [{"title": "cut', "ideas") == []
