"""Sequences decoded together (Int8Batch, structured.json_objects): every row computed as its own
single step computes it, so replies decoded together are token for token the replies each seed
writes alone, in fewer forwards; a timeout or an engine without a batch loses nothing else."""
import pytest
import torch

from inference import loading
from inference.generate import Engine, Int8Steps
from inference.structured import decodes_together, json_object, json_objects
from inference.stub import StubEngine

from .test_architectures import tiny_model

ASK = [{"role": "user", "content": "Write ideas."}]


def schema(first: str) -> dict:
    item = {"type": "object", "required": ["inspiration", "title", "method"],
            "properties": {"inspiration": {"type": "string", "const": first},
                           "title": {"type": "string", "minLength": 2, "maxLength": 12},
                           "method": {"type": "string", "minLength": 4, "maxLength": 30}}}
    return {"type": "object", "required": ["ideas"],
            "properties": {"ideas": {"type": "array", "minItems": 1, "maxItems": 1, "items": item}}}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loading, "cache_dir", lambda: folder / "cache")
        tiny_model("qwen2", folder / "qwen2")  # q|k|v biases: every per-layer path of the forward
        return loading.load_int8(folder / "qwen2")


def test_each_row_of_a_batch_is_its_sequences_own_step(model):
    net, tok = model
    prompt = tok("Sparse attention for long documents.").input_ids
    more = {0: tok("ab").input_ids, 1: tok("c").input_ids, 2: tok("defgh").input_ids}
    steps = Int8Steps(net)
    want = {}
    for b, ids in more.items():  # one sequence at a time, a token per step
        steps.prefill(prompt)
        want[b] = [steps.step(t) for t in ids + ids[::-1] * 3]
    batch = steps.batch(3)
    batch.prefill(prompt)
    got = batch.feed(more)  # 8 rows in one forward
    for b, ids in more.items():
        assert torch.equal(got[b], want[b][len(ids) - 1])
    got = batch.feed({b: ids[::-1] * 3 for b, ids in more.items()})  # 24 rows: two forwards
    for b, ids in more.items():
        assert torch.equal(got[b], want[b][-1])
    assert batch.pos == [len(prompt) + 4 * len(ids) for ids in more.values()]


def test_replies_decoded_together_are_the_replies_each_seed_writes_alone(model):
    net, tok = model
    engine = Engine(Int8Steps(net), tok, "tiny", speculation=None)
    schemas, seeds = [schema(str(k)) for k in (1, 2, 3)], [5, 6, 7]
    forwards = []
    forward_rows = net.forward_rows
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(net, "forward_rows", lambda *a, **kw: forwards.append(1) or forward_rows(*a, **kw))
        together = json_objects(engine, ASK, schemas, max_new_tokens=30, temperature=1.0, seeds=seeds)
    alone = [json_object(engine, ASK, s, max_new_tokens=30, temperature=1.0, seed=seed)
             for s, seed in zip(schemas, seeds)]
    assert together == alone
    assert [r["ideas"][0]["inspiration"] for r in together] == ["1", "2", "3"]
    # a token of every reply per forward: about as many forwards as the longest reply has tokens
    longest = max(len(tok(str(r)).input_ids) for r in alone)
    assert decodes_together(engine) and 0 < len(forwards) <= longest


def test_a_timeout_leaves_unfinished_replies_empty_and_raises_nothing(model):
    net, tok = model
    engine = Engine(Int8Steps(net), tok, "tiny", speculation=None)
    assert json_objects(engine, ASK, [schema("1"), schema("2")], max_new_tokens=30, seeds=[0, 1],
                        timeout_s=1e-9) == [None, None]


def test_a_prompt_that_fills_the_context_fails_each_reply_and_raises_nothing(model):
    net, tok = model
    engine = Engine(Int8Steps(net), tok, "tiny", speculation=None)
    long = [{"role": "user", "content": "x" * net.shape.max_seq}]
    assert json_objects(engine, long, [schema("1"), schema("2")], seeds=[0, 1]) == [None, None]


def test_an_engine_without_a_batch_writes_the_replies_one_after_another():
    stub = StubEngine()
    replies = json_objects(stub, ASK, [schema("1"), schema("2")])
    assert not decodes_together(stub)
    assert replies == [stub.chat_json(ASK, schema=s) for s in (schema("1"), schema("2"))]
    assert [r["ideas"][0]["inspiration"] for r in replies] == ["1", "2"]
    assert json_objects(stub, ASK, [schema("1")], timeout_s=1e-9) == [None]
