"""The Django-free clients (discovery.feeds) against the replay server: retries and Retry-After,
the OAI-PMH and OpenAlex pages, and the watched folder's scan."""
import os
import time
from datetime import date

import pytest

from discovery.feeds import (ArxivOAI, ExpiredToken, FeedError, FetchConfig, OpenAlexWorks, arxiv_set, fetch,
                             folder_scan, retry_after_seconds)
from tests.feeds.conftest import ARXIV_DAY, RECORDED, TOKENS, first_page, recorded, unavailable
from webapp.feeds.replay import Answer, Replay, load


@pytest.fixture
def server():
    with Replay() as replay:
        load(replay, RECORDED)
        yield replay


def test_it_waits_as_long_as_retry_after_says_then_gets_the_page(server):
    server.add("/oai", first_page(), [unavailable(7), unavailable(3), recorded("arxiv/page1.xml")])
    waits = []
    source = ArxivOAI(base_url=f"{server.url}/oai", categories=("cs.CL",))
    body = fetch(source.url(since=ARXIV_DAY), FetchConfig(), sleep=waits.append)
    assert waits == [7.0, 3.0]
    assert source.parse(body).next == TOKENS[0]


def test_it_backs_off_exponentially_without_retry_after_and_gives_up_after_its_tries(server):
    server.add("/flaky", {}, [Answer(b"oops", status=500)])
    waits = []
    with pytest.raises(FeedError, match=r"HTTP 500 .* 4 tries"):
        fetch(f"{server.url}/flaky", FetchConfig(tries=4, backoff_s=0.5), sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]
    assert len(server.requests("/flaky", {})) == 4


def test_it_does_not_retry_what_retrying_cannot_change_or_wait_past_its_limit(server):
    with pytest.raises(FeedError, match="HTTP 404"):
        fetch(f"{server.url}/nothing-recorded", FetchConfig(), sleep=pytest.fail)
    server.add("/slow-down", {}, [Answer(status=429, headers={"Retry-After": "3600"})])
    with pytest.raises(FeedError, match="asked to wait 3600 s"):
        fetch(f"{server.url}/slow-down", FetchConfig(max_wait_s=600), sleep=pytest.fail)


def test_retry_after_takes_seconds_or_an_http_date():
    assert retry_after_seconds("120") == 120
    now = time.time()
    assert 29 <= retry_after_seconds(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 30)), now) <= 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_an_oai_page_keeps_the_feeds_categories_and_leaves_out_deleted_records():
    source = ArxivOAI(base_url="", categories=("cs.CL",))
    page = source.parse((RECORDED / "arxiv/page2.xml").read_bytes())
    assert [r["id"] for r in page.records] == ["2308.07107", "2302.03668"]
    assert page.ignored == 3 and page.next == TOKENS[1]
    assert page.records[0]["authors_parsed"][0] == ["Zhu", "Yutao", ""]
    assert "\n" not in page.records[0]["abstract"]  # arXiv's line wrapping undone
    whole_archive = ArxivOAI(base_url="", categories=("cs",)).parse((RECORDED / "arxiv/page2.xml").read_bytes())
    assert len(whole_archive.records) == 4  # all but the deleted one
    assert ArxivOAI(base_url="", categories=()).parse((RECORDED / "arxiv/page3.xml").read_bytes()).next is None


def test_oai_urls_carry_the_set_and_day_or_only_the_token():
    source = ArxivOAI(base_url="https://oaipmh.arxiv.org/oai", categories=("cs.CL", "cs.LG"))
    assert source.url(since=date(2026, 12, 1)) == (
        "https://oaipmh.arxiv.org/oai?verb=ListRecords&metadataPrefix=arXiv&set=cs&from=2026-12-01")
    assert source.url(since=date(2026, 12, 1), token="1|2") == (
        "https://oaipmh.arxiv.org/oai?verb=ListRecords&resumptionToken=1%7C2")
    assert (arxiv_set("hep-th"), arxiv_set("math.AG"), arxiv_set("stat.ML")) == ("physics:hep-th", "math", "stat")
    with pytest.raises(ValueError, match="several OAI sets"):
        ArxivOAI(base_url="", categories=("cs.LG", "stat.ML")).set_spec


def test_oai_errors_an_empty_day_an_expired_token_a_malformed_page_and_a_dtd():
    source = ArxivOAI(base_url="", categories=("cs.CL",))
    empty = source.parse((RECORDED / "arxiv/no-records.xml").read_bytes())
    assert (empty.records, empty.next) == ([], None)
    with pytest.raises(ExpiredToken):
        source.parse((RECORDED / "arxiv/bad-token.xml").read_bytes())
    with pytest.raises(FeedError, match="not well-formed XML"):
        source.parse((RECORDED / "arxiv/page2-malformed.xml").read_bytes())
    with pytest.raises(FeedError, match="DTD"):
        source.parse(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    with pytest.raises(FeedError, match="ListRecords"):
        source.parse(b"<html><body>maintenance</body></html>")


def test_an_openalex_page_gives_its_works_and_cursor_and_the_empty_page_ends_the_list():
    source = OpenAlexWorks(base_url="", search="large language models")
    page = source.parse((RECORDED / "openalex/page1.json").read_bytes())
    assert len(page.records) == 3 and page.next.startswith("Ils")
    assert source.parse((RECORDED / "openalex/page3.json").read_bytes()).next is None
    with pytest.raises(FeedError, match="not valid JSON"):
        source.parse((RECORDED / "openalex/malformed.json").read_bytes())
    url = OpenAlexWorks(base_url="https://api.openalex.org", filter="concepts.id:C1", date_filter="from_created_date",
                        mailto="me@example.org").url(since=date(2026, 12, 1), token="abc")
    assert "filter=concepts.id%3AC1%2Cfrom_created_date%3A2026-12-01" in url and "cursor=abc" in url
    assert "mailto=me%40example.org" in url and "search=" not in url


def test_the_folder_scan_hashes_settled_files_and_skips_dotfiles_links_and_fresh_ones(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.jsonl").write_text('{"title": "A"}\n')
    (tmp_path / "b.bib").write_text("@article{b, title={B}}\n")
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "b.bib")
    (tmp_path / "fresh.jsonl").write_text('{"title": "F"}\n')
    old = time.time() - 60
    for name in ("sub/a.jsonl", "b.bib"):
        os.utime(tmp_path / name, (old, old))
    found = folder_scan(tmp_path, settle_s=10)
    assert [f.relative for f in found] == ["b.bib", "sub/a.jsonl"]
    assert len({f.sha256 for f in found}) == 2 and found[0].size == 23
