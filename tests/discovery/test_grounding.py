"""The grounding checks of LLM sentences, with the real encoder on the demo corpus's papers."""
import pytest

from discovery import grounding
from discovery.train import grounding as calibration


@pytest.fixture(scope="module")
def papers():
    return calibration.seed_papers()


@pytest.fixture(scope="module")
def sources(papers):
    int8 = "LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale"
    wanda = "A Simple and Effective Pruning Approach for Large Language Models"
    return {1: grounding.Source(int8, papers[int8]), 2: grounding.Source(wanda, papers[wanda])}


def reasons(text, sources, verdict="close_to_existing", idea=""):
    return [c.reasons for c in grounding.check(text, sources, idea, verdict)]


def test_a_paraphrase_of_the_cited_paper_passes(sources):
    assert reasons("[1] isolates outlier feature dimensions into a 16-bit matrix multiplication while the "
                   "other values are multiplied in 8 bits.", sources) == [[]]
    assert reasons("Wanda [2] prunes the weights with the smallest magnitude times input activation, on a "
                   "per-output basis.", sources) == [[]]


def test_a_true_sentence_under_the_wrong_number_fails(sources):
    [why] = reasons("[2] isolates outlier feature dimensions into a 16-bit matrix multiplication.", sources)
    assert why and "not supported by [2]" in why[0]


def test_invented_numbers_and_names_fail(sources):
    [why] = reasons("[1] trains a 4-bit model on 2 trillion tokens with the Helios optimizer.", sources)
    assert any("4-bit" in r and "helios" in r for r in why)
    assert grounding.unknown_specifics("[1] runs 175B models in 8-bit.", sources[1].text()) == []


def test_a_negated_claim_fails(sources):
    [why] = reasons("[1] shows that Int8 inference causes performance degradation for large models.", sources)
    assert any("negates" in r for r in why)


def test_a_quoted_title_must_be_the_cited_papers(sources):
    real = 'As "A Simple and Effective Pruning Approach" [2] shows, pruning needs no retraining or weight update.'
    fake = 'As "Pruning Transformers with Quantum Annealing" [2] shows, pruning needs no retraining or weight update.'
    assert not any("quotes" in r for r in reasons(real, sources)[0])
    assert any("quotes a title" in r for r in reasons(fake, sources)[0])


@pytest.mark.parametrize("sentence, verdict, fails", [
    ("The idea is novel.", "close_to_existing", True),
    ("The idea is not novel: it is close to existing work.", "close_to_existing", False),
    ("The problem has already been studied, but the method is new.", "new_method", False),
    ("The method has been proposed before.", "new_method", True),
    ("The proposed method is new.", "new_combination", True),
    ("[1] introduces a new mixed-precision decomposition scheme.", "new_problem", False),  # about the paper
    ("This idea is original.", "paraphrase_of", True),
])
def test_sentences_about_the_idea_must_agree_with_the_verdict(sentence, verdict, fails):
    assert bool(grounding.contradicts_verdict(sentence, verdict)) is fails


def test_every_verdict_has_its_expectations():
    from discovery.novelty import VERDICTS

    assert set(grounding.NEW_ASPECTS) == set(VERDICTS)


def test_an_uncited_sentence_needs_the_idea_or_the_evidence(sources):
    idea = "We want to run large language models on laptops with 8-bit weights."
    assert reasons("Large language models should run on laptops with 8-bit weights.", sources, idea=idea) == [[]]
    [why] = reasons("Coral reefs recover faster when fishing is banned.", sources, idea=idea)
    assert why and "neither the idea nor the evidence" in why[0]


def test_the_shipped_thresholds_come_from_the_calibration_command():
    raw = grounding.WEIGHTS.read_text()
    limits = grounding.Thresholds.load()
    assert "python -m discovery.train.grounding --save" in raw
    assert 0.3 <= limits.cited <= 0.9 and 0.3 <= limits.uncited <= 0.9


def test_a_sentence_that_only_names_a_paper_fails(sources):
    [why] = reasons("LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale [1].", sources)
    assert "names a paper and says nothing about it" in why
    assert reasons("LLM.int8() multiplies the outlier dimensions in 16 bits and the rest in 8 bits [1].",
                   sources) == [[]]


def test_a_claim_about_a_paper_in_the_ideas_words_fails(sources):
    """The 1.5B model's way of inventing: the idea's topic put into the cited paper's sentence."""
    idea = "Use diffusion models to generate synthetic training images for rare classes."
    [why] = reasons("[1] isolates outlier feature dimensions of diffusion models into a 16-bit matrix "
                    "multiplication.", sources, idea=idea)
    assert any("the idea's words: diffusion" in r for r in why)
    # the same words are fine where the sentence speaks of the idea, or where the paper has them
    assert not any("idea's words" in r for r in reasons(
        "Unlike the idea, which uses diffusion models, [1] isolates outlier feature dimensions.", sources, idea=idea)[0])
    assert grounding.borrowed_terms("[1] multiplies matrices in 8 bits.", "Multiply matrices faster.",
                                    sources[1].text()) == []
