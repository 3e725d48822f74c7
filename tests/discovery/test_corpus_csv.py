"""CSV with a header: column aliases, delimiters, multi-line fields, missing columns, bad rows."""
import pytest

from discovery.corpus import CorpusConfig, FormatError, count_records, read_records
from tests.discovery.test_corpus_helpers import FIXTURES, read, write


def test_it_reads_a_scopus_style_export():
    records, errors = read(FIXTURES / "papers.csv")
    first, second = records
    assert first.title == "Attention Is All You Need"
    assert first.abstract == (
        'The dominant sequence transduction models are based on "complex" recurrent networks. They span lines.')
    assert first.authors == ["Ashish Vaswani", "Noam Shazeer"]
    assert (first.year, first.venue, first.doi) == (2017, "NeurIPS", "10.5555/3295222.3295349")
    assert first.url == "https://example.org/aiayn"
    assert (second.authors, second.year) == (["Kaiming He"], 2016)
    assert [(e.location, e.reason) for e in errors] == [("row 3 (line 6)", "missing title")]


def test_it_reads_tab_separated_files():
    records, _ = read(FIXTURES / "papers.tsv")
    assert [(r.title, r.abstract, r.year) for r in records] == [("Tab Separated Paper", "Tabs work.", 2001)]


def test_it_names_the_missing_columns(tmp_path):
    path = write(tmp_path, "wrong.csv", "name,summary_text,date\nA,B,2020\n")
    with pytest.raises(FormatError, match=r"no title or abstract column \(found: name, summary_text, date\)"):
        list(read_records(path))
    only_title = write(tmp_path, "t.csv", "Title,Year\nA,2020\n")
    with pytest.raises(FormatError, match="no abstract column"):
        list(read_records(only_title, "csv"))


def test_it_reports_an_oversized_row_and_reads_on(tmp_path):
    path = write(tmp_path, "big.csv", "title,abstract\nBig," + "x" * 5000 + "\nSmall,ok\n")
    records, errors = read(path, config=CorpusConfig(max_record_bytes=1000))
    assert [r.title for r in records] == ["Small"]
    assert errors[0].location == "row 1 (line 2)" and errors[0].reason.startswith("record too large")


def test_it_reports_a_field_over_csvs_own_limit_and_reads_on(tmp_path):
    path = write(tmp_path, "field.csv", 'title,abstract\nA,"' + "y" * 200_000 + '"\nB,fine\n')
    records, errors = read(path)
    assert [r.title for r in records] == ["B"]
    assert errors[0].location == "row 1 (line 2)" and "invalid CSV: field larger than field limit" in errors[0].reason


def test_an_unterminated_quote_is_reported_and_the_rows_after_it_kept(tmp_path):
    # Issue 15 item 21: the quote swallowed the next rows into one bogus title, 0 failures reported.
    path = write(tmp_path, "quote.csv", 'title,abstract\nGood one,First.\n"Broken title,its abstract\n'
                                        "Good two,Second.\nGood three,Third.\n")
    records, errors = read(path)
    assert [(r.title, r.abstract) for r in records] == [
        ("Good one", "First."), ("Good two", "Second."), ("Good three", "Third.")]
    assert [e.location for e in errors] == ["row 2 (line 3)"] and "unterminated quote" in errors[0].reason


def test_a_quote_closed_by_a_later_row_does_not_merge_the_rows(tmp_path):
    path = write(tmp_path, "merge.csv", 'title,abstract\n"Broken title,its abstract\n"Good two",Second.\n'
                                        "Good three,Third.\n")
    records, errors = read(path)
    assert [r.title for r in records] == ["Good two", "Good three"]
    assert [e.location for e in errors] == ["row 1 (line 2)"] and "unterminated quote" in errors[0].reason


def test_an_oversized_multi_line_field_is_one_error_and_the_rows_around_it_are_kept(tmp_path):
    # The field's lines used to become a junk 'BBBB...' paper and mangle the last good row.
    huge = "\n".join(["B" * 99] * 2_000)
    path = write(tmp_path, "huge.csv", f'title,abstract\nGood one,First.\nHuge,"{huge}"\nGood two,Second.\n')
    records, errors = read(path, config=CorpusConfig(max_record_bytes=50_000))
    assert [(r.title, r.abstract) for r in records] == [("Good one", "First."), ("Good two", "Second.")]
    assert [e.location for e in errors] == ["row 2 (line 3)"] and "too large" in errors[0].reason
    assert "lines 3-2,002" in errors[0].reason


def test_a_legitimate_multi_line_field_is_still_read(tmp_path):
    path = write(tmp_path, "ok.csv", 'title,abstract,year\nOne,"Line one,\nline two ""quoted"",\nthree",2020\n'
                                     'Two,"a, b",2021\n')
    records, errors = read(path)
    assert errors == [] and [(r.title, r.abstract, r.year) for r in records] == [
        ("One", 'Line one, line two "quoted", three', 2020), ("Two", "a, b", 2021)]
    assert count_records(path) == 2
