"""Issue 15's hostile import files (discovery.corpus.hostile), each read as the import service
reads it (detect, count, read): no exception but FormatError, the good records kept, an error
naming the line or record, in bounded time, and for the big ones in bounded memory. Plus the
bounds themselves (blank lines, decompressed size) at small settings."""
import gzip

import pytest

from discovery.corpus import CorpusConfig, count_records, hostile
from tests.discovery.test_corpus_helpers import read, write

SECONDS = 10  # per case; each takes well under 2 s alone, the machine is shared
MEMORY_MB = 100  # peak Python heap while reading a big case; a 150 MB CSV field took 432 MB before


def test_there_are_at_least_thirty_hostile_files():
    assert len(hostile.CASES) >= 30 and len({c.name for c in hostile.CASES}) == len(hostile.CASES)


@pytest.mark.parametrize("case", hostile.CASES, ids=[c.name for c in hostile.CASES])
def test_a_hostile_file_is_read_safely(case, tmp_path):
    out = hostile.run_case(case, tmp_path, traced=case.big)
    assert out.passed, f"kept {out.kept} (expected {case.kept}), {out.errors} errors, message {out.message[:300]!r}"
    assert out.seconds < SECONDS
    assert out.peak_mb < MEMORY_MB


def test_a_run_of_blank_lines_stops_the_file_with_an_error_naming_where_it_began(tmp_path):
    # Issue 15 item 17: a gzip of newlines after 5 good records ran past 300 s.
    path = write(tmp_path, "nl.jsonl.gz", gzip.compress(hostile.jsonl() + b"\n" * 1000 + hostile.jsonl(start=5)))
    records, errors = read(path, config=CorpusConfig(max_blank_lines=100))
    assert len(records) == 5
    assert [(e.location, e.reason.split(",")[0]) for e in errors] == [("line 6", "lines 6 to 106 are blank")]


def test_blank_lines_between_lines_of_text_are_bounded_in_all(tmp_path):
    path = write(tmp_path, "sparse.jsonl", hostile.jsonl() + (b"\n" * 90 + b"{}\n") * 20)
    records, errors = read(path, config=CorpusConfig(max_blank_lines=100))
    assert len(records) == 5 and errors[-1].reason.startswith("161 blank lines for 6 lines of text")
    spaced = write(tmp_path, "spaced.jsonl", hostile.jsonl(300).replace(b"\n", b"\n\n\n"))
    assert read(spaced, config=CorpusConfig(max_blank_lines=100)) == (read(spaced)[0], [])


def test_a_compressed_file_stops_at_its_expansion_bound(tmp_path):
    path = write(tmp_path, "zeros.jsonl.gz", gzip.compress(hostile.jsonl() + b"\0" * (3 << 20)))
    config = CorpusConfig(max_expansion=2, max_record_bytes=1 << 20)
    records, errors = read(path, "jsonl", config=config)
    assert len(records) == 5 and "more than 2 times its size (a compression bomb?)" in errors[-1].reason
    assert count_records(path, "jsonl", config) == 6  # the zeros' line counts as one (an error)
