"""The arXiv metadata snapshot and OpenAlex works (JSON Lines and API pages)."""
import json

from discovery.corpus import detect_format
from tests.discovery.test_corpus_helpers import FIXTURES, read, write


def test_it_reads_the_arxiv_snapshot_format():
    records, errors = read(FIXTURES / "arxiv_snapshot.jsonl")
    assert errors == []
    first, old = records
    assert first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert first.abstract.startswith("A fully differential calculation") and "\n" not in first.abstract
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert (first.year, first.venue, first.doi) == (2007, "Phys.Rev.D76:013009,2007", "10.1103/physrevd.76.013009")
    assert (first.arxiv_id, first.url) == ("0704.0001", "https://arxiv.org/abs/0704.0001")
    assert (old.arxiv_id, old.year, old.authors) == ("hep-th/9901001", 1999, ["A. Smith", "B. Jones"])


def test_it_takes_the_year_from_the_first_version_not_the_last_update(tmp_path):
    line = {"id": "2106.09685", "title": "T", "abstract": "A", "authors": "X Y", "update_date": "2023-10-16",
            "journal-ref": None, "versions": []}
    path = write(tmp_path, "a.jsonl", json.dumps(line) + "\n")
    assert detect_format(path) == "arxiv"
    assert read(path)[0][0].year == 2021  # from the id's yymm, since versions is empty


def test_it_rebuilds_openalex_abstracts_from_the_inverted_index():
    records, errors = read(FIXTURES / "openalex_page.json")
    assert errors == []
    work, bare = records
    assert work.abstract == "Despite growing interest in Open Access (OA), Access"
    assert (work.title, work.year, work.venue) == ("The state of OA: a large-scale analysis", 2018, "PeerJ")
    assert work.authors == ["Heather Piwowar", "Jason Priem"]
    assert (work.doi, work.arxiv_id, work.source_id) == ("10.7717/peerj.4375", "1705.01234", "W2741809807")
    assert (bare.title, bare.abstract, bare.venue, bare.doi) == ("No Abstract Here", "", "", "")


def test_it_reads_openalex_jsonl_and_rejects_an_index_past_the_limit_without_building_it():
    records, errors = read(FIXTURES / "openalex_works.jsonl")
    assert [r.title for r in records] == ["Works as JSON Lines"]
    assert records[0].abstract == "Lines work too." and records[0].doi == "10.1234/x"
    assert errors[0].location == "line 2" and "abstract too long" in errors[0].reason


def test_the_format_override_picks_the_field_mapping(tmp_path):
    work = {"title": "T", "abstract_inverted_index": {"a": [0], "b": [1]}}
    path = write(tmp_path, "w.jsonl", json.dumps(work) + "\n")
    assert read(path, "openalex")[0][0].abstract == "a b"
    assert read(path, "jsonl")[0][0].abstract == ""
