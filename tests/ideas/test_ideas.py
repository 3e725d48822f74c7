"""Idea generation on a real small index with LLM stand-ins: grounding, novelty, regeneration."""
from discovery import ideas
from discovery.ideas import IdeaConfig, parse_ideas
from inference import load_engine

from tests.conftest import aspect_text
from tests.fakes import ScriptedEngine

PROBLEM = "Large language models are too big to run on a single consumer GPU."
VS_REPLY = """Here are ideas.
Idea 1 [2] (0.45): Method: Quantize the weights to 4 bits with learned rounding. Expected: Half the memory.
Idea 2 [9] (30%): Method: Distil the model into a smaller student with the same tokenizer. Expected: 3x faster.
Idea 3 [1][3] (0.1): Method: Offload rarely used experts to the CPU and stream them. Expected: fits in 8 GB.
Idea 4: ok."""


def test_it_parses_verbalized_ideas_with_probabilities_and_valid_citations_only():
    parsed = parse_ideas(VS_REPLY, n_inspirations=3)
    assert [p["probability"] for p in parsed] == [0.45, 0.3, 0.1]
    assert [p["inspirations"] for p in parsed] == [[1], [], [0, 2]]
    assert parsed[0]["method"] == "Quantize the weights to 4 bits with learned rounding"
    assert parsed[2]["findings"] == "fits in 8 GB"


def test_it_parses_the_numbered_list_the_model_often_writes_instead():
    reply = ("The most popular ideas were:\n\n1. Implementing concept comparison in two stages (probability: 1.0)\n"
             "2) Normalizing images with different features [3] (probability: 0.7)\n3. Too short (0.1)")
    parsed = parse_ideas(reply, n_inspirations=3)
    assert [p["method"] for p in parsed] == ["Implementing concept comparison in two stages",
                                             "Normalizing images with different features [3]"]
    assert [p["probability"] for p in parsed] == [1.0, 0.7]
    assert parsed[1]["inspirations"] == [2]


def test_it_gives_every_idea_inspirations_and_novelty_scores(store):
    result = ideas.generate(store, PROBLEM, n=3, engine=load_engine("stub"))
    inspiring = {f.id for f in result.inspirations}
    assert len(result.ideas) == 3
    for idea in result.ideas:
        assert idea.inspirations and set(idea.inspirations) <= inspiring
        assert 0.0 <= idea.scores["overall"] <= 1.0 and idea.verdict
        assert idea.nearest["id"] in store.papers
    overall = [i.scores["overall"] for i in result.ideas if i.nearest["similarity"] <= IdeaConfig.too_close]
    assert overall == sorted(overall, reverse=True)


def test_it_grounds_model_ideas_in_the_inspirations_they_cite(store):
    result = ideas.generate(store, PROBLEM, n=3, engine=ScriptedEngine([VS_REPLY]))
    by_method = {i.method: i for i in result.ideas}
    ids = [f.id for f in result.inspirations]
    assert by_method["Quantize the weights to 4 bits with learned rounding"].inspirations == [ids[1]]
    assert by_method["Quantize the weights to 4 bits with learned rounding"].probability == 0.45
    assert len(by_method["Distil the model into a smaller student with the same tokenizer"].inspirations) == 1


def test_it_fills_ideas_the_model_failed_to_write_from_inspirations(store):
    result = ideas.generate(store, PROBLEM, n=2, engine=ScriptedEngine(["..."]))
    assert [i.source for i in result.ideas] == ["template", "template"]
    assert all(i.inspirations and "overall" in i.scores for i in result.ideas)


def test_it_regenerates_an_idea_that_copies_a_corpus_paper(store):
    iid, row = next((i, r) for i, r in sorted(store.papers.items())
                    if aspect_text(r, "problem") and len(aspect_text(r, "method").split()) > 15)
    copy = f"Idea 1 [1] (0.5): Method: {aspect_text(row, 'method')} Expected: {aspect_text(row, 'findings')}"
    fresh = ("Idea 1 [2] (0.2): Method: Grow tomatoes under red light in a greenhouse and count the fruit. "
             "Expected: more fruit.")
    engine = ScriptedEngine([copy, fresh])
    result = ideas.generate(store, aspect_text(row, "problem"), n=1, engine=engine, cfg=IdeaConfig(n=1))
    idea = result.ideas[0]
    assert idea.rounds == 1
    assert idea.too_close[0]["id"] == iid and idea.too_close[0]["similarity"] > IdeaConfig.too_close
    assert row["title"] in engine.prompts[1]
    assert idea.method.startswith("Grow tomatoes")
    assert idea.nearest["similarity"] <= IdeaConfig.too_close
