"""Plain text: a title line, then an abstract line; the demo corpus."""
from discovery.corpus import count_records, detect_format
from tests.conftest import SEED_PAPERS
from tests.discovery.test_corpus_helpers import FIXTURES, read, write


def test_it_pairs_title_and_abstract_lines_across_blank_lines():
    records, errors = read(FIXTURES / "seed_like.txt")
    assert errors == []
    assert [r.title for r in records] == [
        "LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale",
        "LoRA: Low-Rank Adaptation of Large Language Models", "A Third Title"]
    assert records[2].abstract == "Its abstract, with H2O & β-VAE."


def test_it_reports_a_title_without_an_abstract(tmp_path):
    path = write(tmp_path, "odd.txt", "Title One\nAbstract one.\nDangling Title\n")
    records, errors = read(path)
    assert [r.title for r in records] == ["Title One"]
    assert errors[0].location == "line 3" and "without an abstract" in errors[0].reason


def test_it_reads_the_whole_demo_corpus():
    records, errors = read(SEED_PAPERS)
    assert (detect_format(SEED_PAPERS), len(records), errors, count_records(SEED_PAPERS)) == ("text", 119, [], 119)
    assert records[0].title.startswith("LLM.int8()")
