"""Sentence splitter and abstract segmenter. The segmenter tests load the committed weights; they
feed deterministic stand-in vectors except the CSAbstruct test, which uses the real encoder."""
import json

import numpy as np
import pytest

from discovery.segmenter import LABELS, WEIGHTS, Segmenter, ngram_ids
from discovery.sentences import split_sentences
from discovery.settings import shared_data_dir

DATA = shared_data_dir()


# ---------------------------------------------------------------------------- splitter

def test_it_keeps_abbreviations_inside_sentences():
    text = ("We study graphs, e.g. social networks, i.e. people. Smith et al. showed it. "
            "Accuracy rises by 3.5% (see Fig. 2 and Eq. 4). Finally, we conclude.")
    assert split_sentences(text) == [
        "We study graphs, e.g. social networks, i.e. people.",
        "Smith et al. showed it.",
        "Accuracy rises by 3.5% (see Fig. 2 and Eq. 4).",
        "Finally, we conclude.",
    ]


def test_it_splits_sentences_glued_without_a_space():
    assert split_sentences("Deep nets work.We propose a method.It wins by 2.1 points!") == [
        "Deep nets work.", "We propose a method.", "It wins by 2.1 points!"]


def test_it_treats_single_newlines_as_spaces_and_blank_lines_as_breaks():
    text = "This sentence is\nwrapped over lines. Next one\n\nA paragraph without a period"
    assert split_sentences(text) == [
        "This sentence is wrapped over lines.", "Next one", "A paragraph without a period"]


def test_it_does_not_split_inside_latex_math_or_braces():
    text = r"We bound $x \leq 0.5. Y$ tightly \cite{smith.2019}. Then $\mathcal{O}(n)$ follows."
    assert split_sentences(text) == [
        r"We bound $x \leq 0.5. Y$ tightly \cite{smith.2019}.", r"Then $\mathcal{O}(n)$ follows."]


def test_it_keeps_initials_acronyms_and_dotted_names_together():
    text = "The U.S. Army funded J. Smith. We use Node.js here. Is it good? Yes."
    assert split_sentences(text) == [
        "The U.S. Army funded J. Smith.", "We use Node.js here.", "Is it good?", "Yes."]


def test_it_glues_list_markers_to_the_item_they_number():
    assert split_sentences("We make two contributions. 1. A dataset. 2. A model.") == [
        "We make two contributions.", "1. A dataset.", "2. A model."]


def test_it_returns_nothing_for_blank_text():
    assert split_sentences("") == []
    assert split_sentences("  \n\n ") == []


# ---------------------------------------------------------------------------- segmenter

needs_weights = pytest.mark.skipif(not WEIGHTS.exists(), reason=f"no trained weights at {WEIGHTS}")


@pytest.fixture(scope="module")
def seg():
    return Segmenter.load()


def fake_vectors(sentences):
    """Deterministic unit vectors in place of the encoder's (shape and norm are what matter)."""
    rng = np.random.default_rng(len(sentences))
    v = rng.standard_normal((len(sentences), 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_it_hashes_ngrams_stably_and_collapses_numbers():
    import zlib

    # crc32, not hash(): a salted hash would scramble the trained n-gram table across runs
    assert ngram_ids("We propose", 8192)[:2] == [zlib.crc32(b"we") % 8192,
                                                 zlib.crc32(b"propose") % 8192]
    assert ngram_ids("Gains of 3.5% here.", 8192) == ngram_ids("Gains of 12% here.", 8192)
    assert ngram_ids("Gains of 3.5% here.", 8192) != ngram_ids("Losses of 3.5% here.", 8192)


@needs_weights
def test_it_labels_every_sentence_with_a_known_label(seg):
    sentences = ["Machine translation of rare words is hard.",
                 "We propose a character-level decoder trained with attention.",
                 "It improves BLEU by 2 points on WMT14."]
    labels = seg.label(sentences, vectors=fake_vectors(sentences))
    assert len(labels) == 3 and set(labels) <= set(LABELS)


@needs_weights
def test_it_returns_no_labels_for_an_empty_abstract(seg):
    assert seg.label([]) == []
    assert seg.label_many([[], ["One sentence."]], [None, fake_vectors(["One sentence."])])[0] == []


@needs_weights
def test_it_labels_a_batch_like_one_abstract_at_a_time(seg):
    abstracts = [["A problem exists.", "We solve it with a model.", "It works well."],
                 ["Results show a 5% gain."]]
    vectors = [fake_vectors(a) for a in abstracts]
    assert seg.label_many(abstracts, vectors) == [seg.label(a, v) for a, v in zip(abstracts, vectors)]


@needs_weights
@pytest.mark.skipif(not (DATA / "csabstruct" / "test.jsonl").exists(),
                    reason="CSAbstruct test split not found under SHARED_DATA_DIR (../shared/data)")
def test_it_reaches_a_sane_f1_on_a_slice_of_csabstruct(seg):
    from discovery.train.segmenter import aspect_f1
    from discovery.segmenter import SOURCE_TO_LABEL

    with open(DATA / "csabstruct" / "test.jsonl") as f:
        rows = [json.loads(line) for line in f][:30]
    pred = seg.label_many([r["sentences"] for r in rows])  # real encoder, ~180 sentences
    gold = [[SOURCE_TO_LABEL[x] for x in r["labels"]] for r in rows]
    scores = aspect_f1([x for g in gold for x in g], [x for p in pred for x in p])
    assert scores["macro"] > 0.7, scores


# ---------------------------------------------------------------------------- self-training

def _features(n_abstracts):
    from discovery.segmenter import SegmenterConfig, featurize

    abstracts = [["A problem exists.", "We solve it with a model.", "It works well."][:2 + i % 2]
                 for i in range(n_abstracts)]
    return [featurize(a, fake_vectors(a), SegmenterConfig()) for a in abstracts]


def test_a_soft_label_equal_to_the_gold_one_gives_the_gold_loss():
    """batch_loss: a one-hot teacher over a sentence, at the gold sentence's weight, is the
    gold cross-entropy; so the two kinds of label share one scale."""
    import torch
    from discovery.segmenter import SOURCE_LABELS, SegmenterConfig, SegmenterNet, collate
    from discovery.train.segmenter import TrainConfig, batch_loss

    torch.manual_seed(0)
    net = SegmenterNet(SegmenterConfig()).eval()
    items = _features(2)
    batch = collate(items, 10)
    labels = [["background", "method"], ["objective", "method", "result"]]
    rows = [{"labels": lab, "confs": [1.0] * len(lab)} for lab in labels]
    onehot = [torch.nn.functional.one_hot(torch.tensor([SOURCE_LABELS.index(x) for x in lab]), 5).float()
              for lab in labels]
    tcfg = TrainConfig(pseudo_weight=1.0)
    logits = net(batch)
    gold = batch_loss(logits, list(enumerate(rows)), [], tcfg)
    soft = batch_loss(logits, [], list(enumerate(onehot)), tcfg)
    mixed = batch_loss(logits, [(0, rows[0])], [(1, onehot[1])], tcfg)
    assert torch.allclose(gold, soft) and torch.allclose(gold, mixed)
    # a smaller pseudo weight moves the mixed loss towards the gold abstract's own
    lighter = batch_loss(logits, [(0, rows[0])], [(1, onehot[1])], TrainConfig(pseudo_weight=0.3))
    alone = batch_loss(logits, [(0, rows[0])], [], tcfg)
    assert abs(lighter - alone) < abs(mixed - alone)


def test_an_epoch_visits_every_gold_and_unlabeled_abstract_once():
    import torch
    from discovery.train.segmenter import epoch_order

    order = epoch_order(5, 7, torch.Generator().manual_seed(0))
    assert sorted(order) == list(range(12)) and order != list(range(12))
    assert sorted(epoch_order(5, 0, torch.Generator().manual_seed(0))) == list(range(5))


@pytest.mark.skipif(not (DATA / "ml_papers.jsonl.gz").exists(),
                    reason="ml_papers.jsonl.gz not found under SHARED_DATA_DIR (../shared/data)")
def test_unlabeled_abstracts_are_a_fixed_sample_of_the_corpus():
    from discovery.train.segmenter import unlabeled_abstracts

    first, again = unlabeled_abstracts(20), unlabeled_abstracts(20)
    assert first == again and len(first) == 20
    assert all(3 <= len(a) <= 14 for a in first)
    assert unlabeled_abstracts(20, seed=7) != first
