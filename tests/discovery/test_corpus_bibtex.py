"""BibTeX: fields, macros, LaTeX in values, names, and recovery from broken entries."""
from discovery.corpus import CorpusConfig
from tests.discovery.test_corpus_helpers import FIXTURES, read, write


def test_it_reads_entries_with_macros_and_latex():
    records, errors = read(FIXTURES / "papers.bib")
    assert errors == []
    vaswani, erdos, lora = records
    assert vaswani.title == "Attention is All you Need"
    assert vaswani.abstract == "The dominant models use öne recurrent network — or not."
    assert vaswani.authors == ["Ashish Vaswani", "Noam Shazeer"]
    assert vaswani.venue == "Advances in Neural Information Processing Systems"
    assert (vaswani.year, vaswani.source_id) == (2017, "vaswani2017")
    assert erdos.title == "On a Problem of Erdős and Rényi"
    assert erdos.authors == ["Pál Erdős", "Alfréd Rényi"]
    assert (erdos.doi, erdos.year) == ("10.1000/er.1960", 1960)
    assert (lora.title, lora.arxiv_id) == ("LoRA: Low-Rank Adaptation of Large Language Models", "2106.09685")


def test_it_reports_an_entry_with_unbalanced_braces_and_reads_the_next(tmp_path):
    path = write(tmp_path, "broken.bib", """
@article{broken,
  title = {Never {closed},
  year = 2020,
}

@article{fine,
  title = {Read Anyway},
  abstract = {Yes.},
}
@article{last, title = {Open at the end}
""")
    records, errors = read(path)
    assert [r.title for r in records] == ["Read Anyway"]
    assert [(e.location, e.reason) for e in errors] == [
        ("entry 1 (line 2)", "unbalanced braces: entry not closed before the entry at line 7"),
        ("entry 3 (line 11)", "unbalanced braces: entry not closed at the end of the file")]


def test_it_reports_a_syntax_error_and_a_missing_title_by_entry_key(tmp_path):
    path = write(tmp_path, "bad.bib", "@article{k1, title {No equals}}\n@book{k2, year = {1999}}\n"
                                      "@misc{k3, title = {OK}}\n")
    records, errors = read(path)
    assert [r.title for r in records] == ["OK"]
    assert [(e.location, e.reason) for e in errors] == [
        ("entry 1 'k1' (line 1)", "expected '=' after field name 'title'"), ("entry 2 'k2' (line 2)", "missing title")]


def test_it_keeps_a_record_with_a_non_numeric_year(tmp_path):
    path = write(tmp_path, "y.bib", "@misc{k, title = {Forthcoming}, year = {forthcoming}}\n")
    assert [(r.title, r.year) for r in read(path)[0]] == [("Forthcoming", None)]


def test_it_skips_an_entry_over_the_size_limit(tmp_path):
    big = "@misc{big,\n  abstract = {" + "w " * 2000 + "},\n}\n"
    path = write(tmp_path, "big.bib", big + "@misc{s, title = {Small}}\n")
    records, errors = read(path, config=CorpusConfig(max_record_bytes=1000))
    assert [r.title for r in records] == ["Small"] and errors[0].reason.startswith("record too large")
