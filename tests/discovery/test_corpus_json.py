"""JSON Lines and JSON documents (generic dialect): good input, every malformed case, streaming."""
import json
import logging

import pytest

from discovery.corpus import CorpusConfig, FormatError, count_records, jsonfmt, read_records, source
from tests.discovery.test_corpus_helpers import FIXTURES, read, write


def test_it_reads_jsonl_with_normalised_fields():
    records, errors = read(FIXTURES / "papers.jsonl")
    assert errors == []
    first, second, _ = records
    assert first.title == "Sparse Attention with α-entmax"
    assert first.abstract == "We study sparse attention & its limits. Our method works on Möbius strips."
    assert first.authors == ["Ada Lovelace", "Alan Turing"]
    assert (first.year, first.venue, first.doi, first.source_id) == (2021, "ACL", "10.1000/abc.123", "p1")
    assert second.authors == ["Grace Hopper", "Edsger Dijkstra"]
    assert (second.year, second.arxiv_id) == (2019, "2106.09685")


def test_it_keeps_a_record_whose_year_is_not_a_number_and_drops_the_year_and_a_script_url():
    records, _ = read(FIXTURES / "papers.jsonl")
    assert (records[2].title, records[2].year, records[2].url) == ("A Paper Without a Proper Year", None, "")


def test_it_reports_each_bad_line_and_reads_the_rest(tmp_path):
    path = write(tmp_path, "bad.jsonl", """\
{"title": "Good One", "abstract": "a"}
{"title": "", "abstract": "no title"}
{"abstract": "title key absent"}
{"title": "Cut", "abstract": "a" "b"}
["not", "an", "object"]
{"title": {"nested": 1}, "abstract": "x"}
{"title": "Good Two", "abstract": "b"}
{"title": "Truncated last line", "abstr""")
    records, errors = read(path)
    assert [r.title for r in records] == ["Good One", "Good Two"]
    assert [(e.location, e.reason.split(":")[0]) for e in errors] == [
        ("line 2", "missing title"), ("line 3", "missing title"), ("line 4", "invalid JSON"),
        ("line 5", "expected a JSON object, found list"), ("line 6", "title is not text (got a JSON dict)"),
        ("line 8", "invalid JSON")]
    assert "Expecting ',' delimiter at column" in errors[2].reason
    assert count_records(path) == len(records) + len(errors)  # the progress bar ends at 100%


def test_it_decodes_latin1_bytes_in_a_utf8_file_without_losing_the_record(tmp_path, caplog, monkeypatch):
    # Another test's library may have run logging.config.dictConfig, which disables existing loggers.
    monkeypatch.setattr(logging.getLogger("discovery.corpus.source"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="discovery.corpus.source")
    path = write(tmp_path, "mixed.jsonl", '{"title": "Caf\u00e9 One", "abstract": "utf-8"}\n'.encode()
                 + '{"title": "M\u00fcller Two", "abstract": "latin-1"}\n'.encode("latin-1"))
    records, errors = read(path)
    assert [r.title for r in records] == ["Café One", "Müller Two"] and errors == []
    assert "line 2 is not valid UTF-8" in caplog.text


def test_it_rejects_an_abstract_over_the_limit_with_the_reason(tmp_path):
    path = write(tmp_path, "long.jsonl", json.dumps({"title": "Long", "abstract": "word " * 30_000}) + "\n"
                 + json.dumps({"title": "Short", "abstract": "fine"}) + "\n")
    records, errors = read(path)
    assert [r.title for r in records] == ["Short"]
    assert errors[0].reason == "abstract too long: 150,000 characters (limit 100,000)"
    assert read(path, config=CorpusConfig(max_abstract_chars=200_000))[1] == []


def test_it_skips_a_10_mb_record_unread_and_goes_on(tmp_path):
    path = write(tmp_path, "huge.jsonl", '{"title": "Huge", "abstract": "' + "x" * 10_000_000 + '"}\n'
                 + '{"title": "After", "abstract": "still read"}\n')
    records, errors = read(path)
    assert [r.title for r in records] == ["After"]
    assert errors[0].location == "line 1" and errors[0].reason.startswith("record too large")


def test_it_streams_a_json_array_across_any_chunk_boundary(tmp_path, monkeypatch):
    papers = [{"title": f'Paper {i} with "quotes", ] and {{ in it', "abstract": "é" * (i % 7), "year": 2000 + i % 20}
              for i in range(60)]
    path = write(tmp_path, "many.json", json.dumps(papers, indent=1))
    monkeypatch.setattr(jsonfmt, "iter_chunks", lambda p, **kw: source.iter_chunks(p, size=7, **kw))
    records, errors = read(path)
    assert errors == [] and [r.title for r in records] == [p["title"] for p in papers]
    assert [r.year for r in records] == [p["year"] for p in papers]


def test_it_reads_a_pretty_printed_array_fixture():
    records, errors = read(FIXTURES / "papers.json")
    assert errors == []
    assert [r.title for r in records] == [
        "First Paper in an Array", 'Second Paper, with a "quoted" word and a ] bracket', "Third Paper"]
    assert records[0].authors == ["A. Author", "B. Author"]


def test_it_reports_a_malformed_array_item_and_a_truncated_end(tmp_path, monkeypatch):
    path = write(tmp_path, "broken.json", '[{"title": "A", "abstract": "x"},\n'
                 '{"title": "B" "abstract": "missing comma"},\n{"title": "C", "abstract": "y"},\n{"title": "D", "abs')
    monkeypatch.setattr(jsonfmt, "iter_chunks", lambda p, **kw: source.iter_chunks(p, size=5, **kw))
    records, errors = read(path)
    assert [r.title for r in records] == ["A", "C"]
    assert [e.location for e in errors] == ["record 2 (line 2)", "record 4 (line 4)"]
    assert "Expecting ',' delimiter" in errors[0].reason and "truncated" in errors[1].reason


def test_it_skips_an_array_item_over_the_record_limit(tmp_path, monkeypatch):
    papers = [{"title": "Big", "abstract": "z" * 5000}, {"title": "Small", "abstract": "ok"}]
    path = write(tmp_path, "big.json", json.dumps(papers))
    monkeypatch.setattr(jsonfmt, "iter_chunks", lambda p, **kw: source.iter_chunks(p, size=64, **kw))
    records, errors = read(path, config=CorpusConfig(max_record_bytes=1000))
    assert [r.title for r in records] == ["Small"]
    assert errors[0].reason.startswith("record too large")


def test_it_reads_records_from_a_list_inside_an_object_and_a_single_record_object(tmp_path):
    path = write(tmp_path, "page.json", '{"meta": {"n": 1}, "data": [{"title": "Inside", "abstract": "a"}]}')
    assert [r.title for r in read(path)[0]] == ["Inside"]
    single = write(tmp_path, "one.json", '{\n  "title": "Alone",\n  "abstract": "b"\n}')
    assert [r.title for r in read(single)[0]] == ["Alone"]


def test_it_raises_a_format_error_for_an_object_without_records(tmp_path):
    path = write(tmp_path, "config.json", '{\n  "name": "not a corpus",\n  "version": 2\n}')
    with pytest.raises(FormatError, match="without a list of records"):
        list(read_records(path))


def test_a_reread_yields_the_same_sequence():
    first = list(read_records(FIXTURES / "papers.jsonl"))
    assert list(read_records(FIXTURES / "papers.jsonl")) == first


def test_it_rejects_a_title_without_letters_or_digits(tmp_path):
    path = write(tmp_path, "punct.jsonl", '{"title": "<b>?!</b> ...", "abstract": "x"}\n')
    assert [e.reason for e in read(path)[1]] == ["missing title: it has no letters or digits"]


def test_it_reports_json_that_python_refuses_beyond_syntax(tmp_path):
    path = write(tmp_path, "odd.jsonl", '{"title": "A", "year": ' + "1" * 5000 + "}\n" + "[" * 100_000 + "\n"
                 + '{"title": "B", "abstract": "fine"}\n')
    records, errors = read(path)
    assert [r.title for r in records] == ["B"]
    assert [e.location for e in errors] == ["line 1", "line 2"]
    assert all(e.reason.startswith("invalid JSON: ") for e in errors)
