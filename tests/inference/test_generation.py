"""Generation with the real default model (SmolLM2-135M through the int8 engine), kept short."""
import time

import jsonschema_rs
import pytest

from inference import GenerationError, GenerationTimeout

ASK = [{"role": "user", "content": "Name the largest planet in the solar system."}]


def test_it_answers_greedily_and_streams_the_same_text(int8_engine):
    pieces = []
    text = int8_engine.chat(ASK, max_new_tokens=12, on_token=pieces.append)
    assert "largest planet" in text  # fp32 starts the same way: "The largest planet in the solar system is"
    assert "".join(pieces) == text
    assert int8_engine.chat(ASK, max_new_tokens=12) == text


def test_it_stops_at_stop_strings_and_the_token_budget(int8_engine):
    full = int8_engine.chat(ASK, max_new_tokens=12)
    word = full.split()[2]
    cut = int8_engine.chat(ASK, max_new_tokens=12, stop=[word])
    assert cut == full[:full.index(word)]
    assert len(int8_engine.tok(int8_engine.chat(ASK, max_new_tokens=4)).input_ids) <= 5


def test_it_samples_reproducibly_with_a_seed(int8_engine):
    kw = dict(max_new_tokens=10, temperature=1.0, top_p=0.95)
    a = int8_engine.chat(ASK, seed=3, **kw)
    assert a == int8_engine.chat(ASK, seed=3, **kw)
    assert len({int8_engine.chat(ASK, seed=s, **kw) for s in range(4)}) > 1


def test_it_raises_a_timeout(int8_engine):
    with pytest.raises(GenerationTimeout, match="timeout_s"):
        int8_engine.chat(ASK, max_new_tokens=50, timeout_s=1e-6)


def test_it_returns_schema_valid_json_or_a_clear_error(int8_engine):
    schema = {"type": "object", "required": ["city", "country"],
              "properties": {"city": {"type": "string"}, "country": {"type": "string"}}}
    try:
        obj = int8_engine.chat_json(ASK, schema=schema, max_new_tokens=32, retries=1)
    except GenerationError as exc:
        assert "attempts" in str(exc)
    else:
        assert jsonschema_rs.validator_for(schema).is_valid(obj)


def test_it_loads_from_the_disk_cache_in_seconds(int8_engine):
    from inference import models
    from inference.loading import load_int8

    t = time.perf_counter()
    model, _ = load_int8(models.model_path())
    assert time.perf_counter() - t < 10
    assert model.nbytes() < 0.3 * 538e6  # fp32 SmolLM2-135M is 538 MB
