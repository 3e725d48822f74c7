"""Format detection from content, compression, overrides, file-level errors and counting."""
import bz2
import gzip
import shutil

import pytest

from discovery.corpus import FORMATS, FormatError, count_records, detect_format, read_records
from tests.discovery.test_corpus_helpers import FIXTURES, read, write

EXPECTED = {
    "papers.jsonl": "jsonl", "papers.json": "json", "papers.csv": "csv", "papers.tsv": "csv", "papers.bib": "bibtex",
    "papers.ris": "ris", "arxiv_snapshot.jsonl": "arxiv", "openalex_page.json": "openalex",
    "openalex_works.jsonl": "openalex", "seed_like.txt": "text",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_detects_each_format_from_content_whatever_the_name(name, tmp_path):
    anonymous = tmp_path / "upload.tmp"
    shutil.copy(FIXTURES / name, anonymous)
    assert detect_format(anonymous) == EXPECTED[name]
    assert set(EXPECTED.values()) == set(FORMATS)


@pytest.mark.parametrize("opener", [gzip.open, bz2.open])
def test_it_reads_compressed_files_by_magic_bytes(opener, tmp_path):
    packed = tmp_path / "papers.data"
    with open(FIXTURES / "papers.bib", "rb") as src, opener(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert detect_format(packed) == "bibtex"
    assert [r.title for r in read(packed)[0]] == [r.title for r in read(FIXTURES / "papers.bib")[0]]
    assert count_records(packed) == 3


@pytest.mark.parametrize("papers", [20, 2000])  # the cut inside, or after, the detection sample
def test_it_ends_a_truncated_gzip_stream_with_an_error_not_an_exception(papers, tmp_path):
    lines = "".join(f'{{"title": "Paper {i}", "abstract": "{"a" * 50}"}}\n' for i in range(papers)).encode()
    whole = gzip.compress(lines)
    path = write(tmp_path, "cut.jsonl.gz", whole[: len(whole) // 2])
    items = list(read_records(path))
    assert 0 < len(items) < papers
    assert items[-1].reason.startswith("cannot read the rest of the file")


@pytest.mark.parametrize("content, problem", [
    (b"", "it is empty"),
    (bytes(range(256)) * 8, "it is binary"),
    (b"%PDF-1.7\n...", "it is a PDF"),
    (b"<?xml version='1.0'?>\n<papers/>", "XML or HTML"),
    (b"one single line and nothing else", "a single line"),
    (b"\xff\xfet\x00i\x00", "UTF-16"),
])
def test_it_names_the_problem_when_it_cannot_tell_the_format(content, problem, tmp_path):
    path = write(tmp_path, "mystery.dat", content)
    with pytest.raises(FormatError, match=problem) as raised:
        detect_format(path)
    assert "mystery.dat" in str(raised.value)


def test_it_raises_at_the_call_for_a_missing_file_and_an_unknown_format(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_records(tmp_path / "absent.jsonl")
    with pytest.raises(FormatError, match="unknown format 'docx'"):
        read_records(FIXTURES / "papers.jsonl", "docx")


def test_an_explicit_format_overrides_detection(tmp_path):
    path = write(tmp_path, "t.txt", "Title, with a comma\nAbstract, also with one\n")
    assert [r.title for r in read(path, "text")[0]] == ["Title, with a comma"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_counts_what_it_will_yield(name):
    assert count_records(FIXTURES / name) == len(list(read_records(FIXTURES / name)))
