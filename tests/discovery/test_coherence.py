"""The coherence filter of generated ideas against the labelled set it was calibrated on, with
the real encoder: every good idea passes, every bad one fails for its own reason."""
import json
from pathlib import Path

import pytest

from discovery.coherence import Coherence, CoherenceConfig, echo_share, is_filler

DATA = json.loads((Path(__file__).parent / "data" / "idea_coherence.json").read_text())
EXPECTED = {"filler": "filler", "echo": "echo", "self-echo": "echo", "off-topic problem": "off_problem", "vague": "off_problem",
            "method unrelated to inspiration": "off_method", "invented name": "off_method"}


def judged():
    for group in DATA["groups"]:
        judge = Coherence(group["problem"], [group["inspiration"]])
        for idea in group["ideas"]:
            yield idea, judge.judge(idea["problem"], idea["method"], idea["findings"], [0])


def test_it_keeps_every_good_idea_and_rejects_every_bad_one_for_its_reason():
    outcomes = [(idea["label"], idea["kind"], verdict.reason) for idea, verdict in judged()]
    assert sum(label == "good" for label, _, _ in outcomes) == 20 and len(outcomes) == 49
    assert [o for o in outcomes if o[0] == "good" and o[2] is not None] == []
    wrong = [o for o in outcomes if o[0] == "bad" and o[2] != EXPECTED[o[1]]]
    # a method from another field or an invented name may fail on its reworded problem first
    assert [o for o in wrong if not (EXPECTED[o[1]] == "off_method" and o[2] == "off_problem")] == []
    assert len(wrong) <= 2


def test_it_rejects_every_method_from_another_field_or_invented_on_the_method_alone():
    rows = [v for i, v in judged() if i["label"] == "bad" and EXPECTED[i["kind"]] == "off_method"]
    assert len(rows) == 10 and all(v.method_sim < CoherenceConfig().method_min for v in rows)


def test_its_thresholds_sit_inside_the_gap_of_the_labelled_set():
    """The margins the config's comments cite: a threshold at the edge of the gap would not be
    a calibration."""
    rows = list(judged())
    good = [v for i, v in rows if i["label"] == "good"]
    off_problem = [v for i, v in rows if i["kind"] in ("off-topic problem", "filler", "vague")]
    off_method = [v for i, v in rows if i["kind"] in ("method unrelated to inspiration", "invented name")]
    cfg = CoherenceConfig()
    assert max(v.problem_sim for v in off_problem) + 0.05 < cfg.problem_min < min(v.problem_sim for v in good) - 0.05
    assert max(v.method_sim for v in off_method) + 0.03 < cfg.method_min < min(v.method_sim for v in good) - 0.03


@pytest.mark.parametrize("text", ["I'm happy to showcase any ideas you have in mind.",
                                  "Sure! Here are some ideas.", "Let me know if this helps your research."])
def test_it_spots_chat_filler(text):
    assert is_filler(text)


def test_it_leaves_research_text_and_roman_numerals_alone():
    assert not is_filler("We study type i errors of sequential tests under dependence.")
    assert not is_filler("Retrieve passages and condition the generator on them.")


def test_it_measures_how_much_a_method_only_repeats_the_problem():
    problem = "Graph neural networks lose the identity of nodes when many layers are stacked."
    assert echo_share(problem, problem) == 1.0
    assert echo_share("Add residual connections to the graph neural network layers.", problem) < 0.8


def test_it_rejects_a_reworded_copy_of_a_kept_idea_as_a_duplicate():
    group = DATA["groups"][0]
    judge = Coherence(group["problem"], [group["inspiration"]])
    good = group["ideas"][0]
    first = judge.judge(good["problem"], good["method"], good["findings"], [0])
    judge.keep(first)
    again = judge.judge(good["problem"], good["method"] + " ", good["findings"], [])
    assert first.reason is None and again.reason == "duplicate"
