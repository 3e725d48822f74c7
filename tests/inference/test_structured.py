"""JSON helpers and the stub engine: no model needed."""
import pytest

import jsonschema_rs
from inference import GenerationError, GenerationTimeout
from inference.structured import chat_json, extract_json, minimal_instance
from inference.stub import StubEngine

SCHEMA = {"type": "object", "required": ["title", "year", "tags", "novel"],
          "properties": {"title": {"type": "string", "minLength": 3}, "year": {"type": "integer", "minimum": 1900},
                         "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                         "novel": {"type": "boolean"}, "kind": {"enum": ["method", "finding"]}}}


def test_it_extracts_json_from_prose_and_fences():
    assert extract_json('Sure! ```json\n{"a": 1}\n``` hope it helps') == {"a": 1}


def test_it_repairs_trailing_commas_and_truncation():
    assert extract_json('{"a": [1, 2,], "b": "x",}') == {"a": [1, 2], "b": "x"}
    assert extract_json('{"a": {"b": "unfinished') == {"a": {"b": "unfinished"}}


def test_it_builds_schema_valid_minimal_instances():
    obj = minimal_instance(SCHEMA, "seed")
    assert jsonschema_rs.validator_for(SCHEMA).is_valid(obj)
    assert obj != minimal_instance(SCHEMA, "other seed")


def test_it_retries_with_the_problem_then_fails_clearly():
    calls = []

    def chat(convo, **kw):
        calls.append(convo)
        return "no json here"

    with pytest.raises(GenerationError, match="3 attempts.*not JSON"):
        chat_json(chat, [{"role": "user", "content": "x"}], {"type": "object"}, 32, 2, GenerationError)
    assert len(calls) == 3


def test_it_fills_values_key_by_key_on_retry():
    replies = iter(['{"title": 5}', '{"title": "Attention', '{"title": "Attention", "year": 2017'])

    def chat(convo, assistant_prefix="", **kw):
        return next(replies)

    schema = {"type": "object", "required": ["title", "year"],
              "properties": {"title": {"type": "string"}, "year": {"type": "integer"}}}
    obj = chat_json(chat, [{"role": "user", "content": "x"}], schema, 32, 1, GenerationError)
    assert obj == {"title": "Attention", "year": 2017}


def test_it_makes_the_stub_deterministic_and_schema_valid():
    stub = StubEngine()
    msgs = [{"role": "user", "content": "idea about graphs"}]
    pieces = []
    text = stub.chat(msgs, on_token=pieces.append)
    assert text == stub.chat(msgs) == "".join(pieces)
    assert text != stub.chat([{"role": "user", "content": "another"}])
    obj = stub.chat_json(msgs, schema=SCHEMA)
    assert jsonschema_rs.validator_for(SCHEMA).is_valid(obj) and obj == stub.chat_json(msgs, schema=SCHEMA)


def test_it_raises_timeouts_as_generation_errors_in_the_stub():
    with pytest.raises(GenerationError):
        StubEngine().chat([{"role": "user", "content": "x"}], timeout_s=0)
    assert issubclass(GenerationTimeout, GenerationError)


def test_it_selects_the_stub_from_the_environment(monkeypatch):
    from inference import load_engine

    monkeypatch.setenv("LLM_BACKEND", "stub")
    assert load_engine().name == "stub"
