"""Harvesting clients for the corpus feeds, without Django: one page at a time from the arXiv
OAI-PMH interface (ListRecords by set, from a date, resumption tokens) and from the OpenAlex works
API (a search and/or a filter, from a date, cursor paging), and the files of a watched folder.

A page's records come out as raw objects in a corpus reader's dialect (`arxiv`, `openalex`), so
the harvested file goes through the same import as an uploaded one (discovery.corpus): the feed
adds fetching and positions, never a second record mapping.

    source = ArxivOAI(base_url="https://oaipmh.arxiv.org/oai", categories=("cs.CL",))
    page = source.parse(fetch(source.url(since=date(2026, 12, 1)), FetchConfig()))
    page.records, page.next     # the next call: source.url(since=..., token=page.next)
"""
from discovery.feeds.fetch import FeedError, FetchConfig, fetch, retry_after_seconds
from discovery.feeds.folder import FolderFile, file_sha256, folder_scan
from discovery.feeds.oai import ArxivOAI, ExpiredToken, arxiv_set
from discovery.feeds.openalex import OpenAlexWorks
from discovery.feeds.page import Page

__all__ = ["ArxivOAI", "ExpiredToken", "FeedError", "FetchConfig", "FolderFile", "OpenAlexWorks", "Page",
           "arxiv_set", "fetch", "file_sha256", "folder_scan", "retry_after_seconds"]
