"""The replay server with the recorded answers (tests/feeds/recorded), the feed settings pointed
at it, and feeds of the users the suite knows."""
from datetime import date
from pathlib import Path

import pytest

from webapp.feeds.models import Feed, FeedKind
from webapp.feeds.replay import Answer, Replay, load

RECORDED = Path(__file__).resolve().parent / "recorded"
ARXIV_DAY = date(2026, 11, 30)  # the day the recorded arXiv and OpenAlex pages answer for
TOKENS = ("6960524|1001", "6960524|2001")  # the resumption tokens of pages 1 and 2
ARXIV_IDS = {"2206.07682", "2306.11695", "2107.13586", "2308.07107", "2302.03668", "2405.10938", "1906.03741",
             "2206.00169"}  # the cs.CL records of the three pages


def oai(**query) -> dict:
    return {"verb": "ListRecords", **query}


def first_page(since: date = ARXIV_DAY) -> dict:
    return oai(metadataPrefix="arXiv", set="cs", **{"from": since.isoformat()})


def recorded(name: str, **kwargs) -> Answer:
    return Answer.file(RECORDED / name, **kwargs)


def unavailable(seconds: int = 1) -> Answer:
    return recorded("arxiv/retry-later.html", status=503, headers={"Retry-After": str(seconds)})


@pytest.fixture
def replay(settings):
    with Replay() as server:
        load(server, RECORDED)
        settings.ARXIV_OAI_URL = f"{server.url}/oai"
        settings.OPENALEX_URL = server.url
        settings.FEED_HTTP_TRIES = 3
        yield server


@pytest.fixture
def feed_dirs(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.FEED_FOLDER_ROOT = tmp_path / "inbox"
    settings.FEED_FOLDER_ROOT.mkdir()
    settings.INDEX_AFTER_IMPORT = False
    return settings.FEED_FOLDER_ROOT


@pytest.fixture
def arxiv_feed(db, alice, replay, feed_dirs) -> Feed:
    return Feed.objects.create(owner=alice, name="cs.CL daily", kind=FeedKind.ARXIV, query="cs.CL", since=ARXIV_DAY)


@pytest.fixture
def openalex_feed(db, alice, replay, feed_dirs) -> Feed:
    return Feed.objects.create(owner=alice, name="LLM works", kind=FeedKind.OPENALEX, query="large language models",
                               openalex_filter="concepts.id:C204321447", since=ARXIV_DAY)
