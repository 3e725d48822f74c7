"""RIS: tags, wrapped values, records without ER, truncated files."""
from discovery.corpus import CorpusConfig
from tests.discovery.test_corpus_helpers import FIXTURES, read, write


def test_it_reads_records_with_wrapped_values_and_a_missing_er():
    records, errors = read(FIXTURES / "papers.ris")
    rag, no_er = records
    assert rag.title == "Retrieval Augmented Generation"
    assert rag.abstract == "Models hallucinate. We retrieve passages from an index."
    assert rag.authors == ["Patrick Lewis", "Ethan Perez"]
    assert (rag.year, rag.venue, rag.doi, rag.arxiv_id) == (2020, "NeurIPS", "10.5555/rag.2020", "2005.11401")
    assert (no_er.title, no_er.year, no_er.abstract) == ("A Record Without an ER Line", 2019, "The next TY closes me.")
    assert [(e.location, e.reason) for e in errors] == [("record 3 (line 17)", "missing title")]


def test_it_reports_a_record_cut_off_at_the_end_of_the_file(tmp_path):
    path = write(tmp_path, "cut.ris", "TY  - JOUR\nTI  - Whole\nER  - \nTY  - JOUR\nTI  - Cut\nAB  - half an abs")
    records, errors = read(path)
    assert [r.title for r in records] == ["Whole"]
    assert errors[0].location == "record 2 (line 4)" and "truncated" in errors[0].reason


def test_it_reports_an_oversized_record_once_and_reads_the_next(tmp_path):
    path = write(tmp_path, "big.ris", "TY  - JOUR\nTI  - Big\nAB  - " + "w " * 2000 + "\nTY  - JOUR\nTI  - Next\nER  - \n")
    records, errors = read(path, config=CorpusConfig(max_record_bytes=1000))
    assert [r.title for r in records] == ["Next"]
    assert [(e.location, e.reason[:17]) for e in errors] == [("record 1 (line 1)", "record too large:")]
