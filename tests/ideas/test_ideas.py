"""Idea generation on a real small index with LLM stand-ins: structure, the coherence filter,
grounding, novelty, regeneration."""
import re

import jsonschema_rs

from discovery import ideas
from discovery.ideas import IdeaConfig, batch_schema, idea_schema
from inference import load_engine

from tests.conftest import aspect_text
from tests.fakes import ScriptedEngine

PROBLEM = "Large language models are too big to run on a single consumer GPU."
RESTATED = "Large language models need more memory than one consumer GPU has."
FILLER = {"title": "Ideas", "problem": "I'm happy to showcase any ideas you have in mind.",
          "method": "I'm happy to help with your research, just ask me anything.",
          "expected_findings": "Let me know if you need more ideas."}
INVENTED = {"title": "HyperNova-X", "problem": RESTATED,
            "method": "The HyperNova-X framework (Dri-1) achieves quantum synergy through holistic paradigm alignment.",
            "expected_findings": "HyperNova-X will revolutionize the field."}


class JsonEngine:
    """Answers chat_json() with objects built by `reply(listing, schema)` from the methods the
    prompt lists ("[k] ..." or the one paper's method); records prompts and schemas."""
    name = "json"

    def __init__(self, reply):
        self.reply, self.prompts, self.schemas = reply, [], []

    def chat_json(self, messages, schema, **kw) -> dict:
        text = messages[-1]["content"]
        self.prompts.append(text)
        self.schemas.append(schema)
        listing = re.findall(r"^\[\d+\] (.*)$", text, re.M) or re.findall(r'^Method of the paper "[^"]*": (.*)$', text, re.M)
        obj = self.reply(listing, schema)
        assert jsonschema_rs.validator_for(schema).is_valid(obj), obj  # what constrained decoding guarantees
        return obj


def on_topic(method: str, k: int) -> dict:
    return {"inspiration": str(k), "title": f"Idea from method {k}", "problem": RESTATED,
            "method": f"Apply this to running large language models on one GPU: {method}"[:260],
            "expected_findings": "The model fits in the memory of one consumer GPU.", "probability": "0.4"}


def batch(items):
    def reply(listing, schema):
        n = schema["properties"]["ideas"]["minItems"]
        return {"ideas": [items[i % len(items)](listing) for i in range(n)]}
    return reply


def test_it_asks_for_every_field_of_an_idea_and_requires_them():
    for schema in (idea_schema(), batch_schema(3)["properties"]["ideas"]["items"]):
        assert {"title", "problem", "method", "expected_findings"} <= set(schema["required"])
        assert all(schema["properties"][k]["minLength"] >= 3 for k in ("title", "problem", "method"))
    assert batch_schema(3)["properties"]["ideas"]["minItems"] == batch_schema(3)["properties"]["ideas"]["maxItems"] == 3


def test_it_keeps_coherent_ideas_and_drops_filler_and_invented_methods_before_ranking(store):
    engine = JsonEngine(batch([lambda m: on_topic(m[1], 2), lambda m: dict(FILLER, inspiration="1", probability="0.9"),
                               lambda m: dict(INVENTED, inspiration="3", probability="0.9")]))
    result = ideas.generate(store, PROBLEM, n=3, engine=engine, cfg=IdeaConfig(n=3, attempts=0, max_rounds=0))
    llm = [i for i in result.ideas if i.source == "llm"]
    assert len(llm) == 1 and llm[0].method.startswith("Apply this") and llm[0].title == "Idea from method 2"
    assert llm[0].inspirations == [result.inspirations[1].id] and llm[0].probability == 0.4
    assert llm[0].findings and llm[0].coherence["method"] >= IdeaConfig().coherence.method_min
    assert result.dropped == {"filler": 1, "off_method": 1} and result.written == 3
    assert result.sources() == {"llm": 1, "template": 2}
    assert all("HyperNova" not in i.method and "happy" not in i.method for i in result.ideas)


def test_it_drops_a_repeated_idea_and_holds_an_uncited_one_to_its_closest_method(store):
    engine = JsonEngine(batch([lambda m: dict(on_topic(m[0], 1), inspiration="99")]))
    result = ideas.generate(store, PROBLEM, n=3, engine=engine, cfg=IdeaConfig(n=3, attempts=0, max_rounds=0))
    assert result.dropped == {"duplicate": 2} and result.sources() == {"llm": 1, "template": 2}
    kept = next(i for i in result.ideas if i.source == "llm")
    assert kept.inspirations == [result.inspirations[0].id]


def test_it_gives_every_idea_inspirations_and_novelty_scores(store):
    result = ideas.generate(store, PROBLEM, n=3, engine=load_engine("stub"))
    inspiring = {f.id for f in result.inspirations}
    assert len(result.ideas) == 3
    for idea in result.ideas:
        assert idea.inspirations and set(idea.inspirations) <= inspiring
        assert 0.0 <= idea.scores["overall"] <= 1.0 and idea.verdict
        assert idea.nearest["id"] in store.papers and idea.coherence
    overall = [i.scores["overall"] for i in result.ideas if i.nearest["similarity"] <= IdeaConfig.too_close]
    assert overall == sorted(overall, reverse=True)
    assert result.dropped.get("off_problem", 0) >= 1  # the stub's strings ("stub-1a2b...") are about nothing


def test_it_asks_one_inspiration_at_a_time_in_plain_mode(store):
    engine = JsonEngine(lambda listing, schema: on_topic(listing[0], 1))
    result = ideas.generate(store, PROBLEM, n=2, engine=engine, cfg=IdeaConfig(n=2, mode="plain", max_rounds=0))
    assert [i.source for i in result.ideas] == ["llm", "llm"]
    assert sorted(i.inspirations[0] for i in result.ideas) == sorted(f.id for f in result.inspirations[:2])
    assert all(s == idea_schema() for s in engine.schemas) and result.ideas[0].probability is None


def test_it_fills_ideas_the_model_failed_to_write_from_inspirations(store):
    result = ideas.generate(store, PROBLEM, n=2, engine=ScriptedEngine(["..."]))  # no JSON at all
    assert [i.source for i in result.ideas] == ["template", "template"]
    assert all(i.inspirations and "overall" in i.scores for i in result.ideas)
    assert len({i.inspirations[0] for i in result.ideas}) == 2
    assert result.dropped == {"no_reply": result.written} and result.written >= 2


def test_it_regenerates_an_idea_that_copies_a_corpus_paper(store):
    iid, row = next((i, r) for i, r in sorted(store.papers.items())
                    if aspect_text(r, "problem") and len(aspect_text(r, "method").split()) > 15)
    copy = {"inspiration": "1", "title": "Copy", "problem": aspect_text(row, "problem")[:200],
            "method": aspect_text(row, "method")[:260], "expected_findings": aspect_text(row, "findings")[:200]
            or "The same results.", "probability": "0.5"}
    replies = []

    def reply(listing, schema):
        replies.append(schema)
        if len(replies) == 1:
            return {"ideas": [copy]}
        fresh = next(m for m in listing if m[:40] not in copy["method"])
        k = listing.index(fresh) + 1
        return {"inspiration": str(k), "title": "Another method", "problem": copy["problem"],
                "method": f"Instead, {fresh}"[:260], "expected_findings": "A different result."}

    engine = JsonEngine(reply)
    result = ideas.generate(store, aspect_text(row, "problem"), n=1, engine=engine, cfg=IdeaConfig(n=1))
    idea = result.ideas[0]
    assert idea.rounds >= 1
    assert idea.too_close[0]["id"] == iid and idea.too_close[0]["similarity"] > IdeaConfig.too_close
    assert row["title"] in engine.prompts[1]
    assert idea.method.startswith("Instead,") and idea.source == "llm"


def test_it_fills_from_templates_once_the_run_has_spent_its_llm_budget(store):
    engine = JsonEngine(batch([lambda m: on_topic(m[1], 2)]))
    result = ideas.generate(store, PROBLEM, n=2, engine=engine, cfg=IdeaConfig(n=2, budget_s=0.0, max_rounds=0))
    assert engine.prompts == [] and result.sources() == {"template": 2} and result.written == 0


def test_it_keeps_the_ideas_a_batch_finished_before_its_budget_ran_out(store):
    """A slow model (the 1.5B on 2 cores) finishes part of a five-idea batch in the budget."""
    import json

    from inference import GenerationTimeout

    class Slow(JsonEngine):
        def chat_json(self, messages, schema, **kw):
            listing = re.findall(r"^\[\d+\] (.*)$", messages[-1]["content"], re.M)
            done = json.dumps({"ideas": [on_topic(listing[1], 2)]})[:-2]
            raise GenerationTimeout("budget spent", partial=done + ', {"inspiration": "3", "title": "Half')

    result = ideas.generate(store, PROBLEM, n=3, engine=Slow(None), cfg=IdeaConfig(n=3, attempts=0, max_rounds=0))
    assert result.sources() == {"llm": 1, "template": 2}
    assert result.dropped == {"no_reply": 2} and result.written == 3


def test_it_decodes_a_verbalized_request_as_replies_each_held_to_its_own_inspiration(store, monkeypatch):
    """On an engine that decodes sequences together each reply starts on another method, and a
    reply the batch could not finish counts as no reply."""
    from inference import structured

    calls = []

    def json_objects(engine, messages, schemas, **kw):
        calls.append((messages[-1]["content"], schemas, kw["seeds"]))
        listing = re.findall(r"^\[\d+\] (.*)$", messages[-1]["content"], re.M)
        numbers = [int(s["properties"]["ideas"]["items"]["properties"]["inspiration"]["const"]) for s in schemas]
        replies = [{"ideas": [on_topic(listing[k - 1], k)]} for k in numbers]
        return [None] + replies[1:] if len(calls) == 1 else replies  # the first batch could not finish its first

    class Batching(JsonEngine):
        steps = type("Steps", (), {"batch": None})()

    monkeypatch.setattr(structured, "json_objects", json_objects)
    result = ideas.generate(store, PROBLEM, n=3, engine=Batching(None), cfg=IdeaConfig(n=3, attempts=1, max_rounds=0))
    (prompt, schemas, seeds), (_, retry, _) = calls
    assert "Write 3 different ideas" in prompt and len(set(seeds)) == 3
    firsts = [s["properties"]["ideas"]["items"]["properties"]["inspiration"]["const"] for s in schemas + retry]
    assert firsts == ["1", "2", "3", "1"]  # the retry asks for the method no kept idea uses yet
    assert result.sources() == {"llm": 3} and result.dropped == {"no_reply": 1} and result.written == 4
    assert sorted(i.inspirations[0] for i in result.ideas) == sorted(f.id for f in result.inspirations[:3])
