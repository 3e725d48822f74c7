"""Harvest rate: papers per second from the replay server into the corpus, end to end (the real
HTTP client, page commits, the import job), without and with indexing, beside the plain file
import of the same records in the same run.

    python -m webapp.feeds.bench [--papers 2000] [--index-papers 300] [--page-size 500]

The records are the first N of ml_papers.jsonl.gz (the shared data folder; read, never copied),
given arXiv-style ids 2612.NNNNN and served as arXiv OAI-PMH pages (`--page-size` records each)
and as OpenAlex pages of 200 works. Everything runs in this process on a fresh SQLite database in
a temporary DATA_DIR (never DATABASE_URL's: each row empties the corpus), one row after the other.
Rows with indexing segment and embed the papers (the real encoder, loaded before those rows) and
publish the FAISS indexes.
"""
from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import tempfile
import time
from datetime import date
from itertools import islice
from pathlib import Path

DAY = date(2026, 12, 1)
OAI_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            '<responseDate>2026-12-02T06:00:00Z</responseDate><request verb="ListRecords">bench</request>'
            '<ListRecords>\n')


def load_records(n: int) -> list[dict]:
    from discovery.settings import shared_data_dir

    with gzip.open(shared_data_dir() / "ml_papers.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in islice(f, n)]
    return [{"id": f"2612.{i:05d}", "title": r["title"], "abstract": r.get("abstract") or "",
             "authors": r.get("authors") or [], "year": r.get("year")} for i, r in enumerate(rows)]


def oai_record(r: dict) -> str:
    e = lambda s: html.escape(str(s), quote=False)  # noqa: E731
    authors = "".join(f"<author><keyname>{e(a.split()[-1])}</keyname><forenames>{e(' '.join(a.split()[:-1]))}"
                      f"</forenames></author>" for a in r["authors"] if a.strip())
    return (f'<record><header><identifier>oai:arXiv.org:{r["id"]}</identifier><datestamp>{DAY}</datestamp></header>'
            f'<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>{r["id"]}</id>'
            f'<created>{r["year"] or 2022}-06-01</created><authors>{authors}</authors><title>{e(r["title"])}</title>'
            f'<categories>cs.CL</categories><abstract>{e(r["abstract"])}</abstract></arXiv></metadata></record>\n')


def openalex_work(r: dict) -> dict:
    words: dict[str, list[int]] = {}
    for i, word in enumerate(r["abstract"].split()):
        words.setdefault(word, []).append(i)
    return {"id": f"https://openalex.org/W9{r['id'].replace('.', '')}", "title": r["title"],
            "publication_year": r["year"], "abstract_inverted_index": words,
            "authorships": [{"author": {"display_name": a}} for a in r["authors"]],
            "locations": [{"landing_page_url": f"https://arxiv.org/abs/{r['id']}"}]}


def serve(replay, records: list[dict], page_size: int) -> None:
    from webapp.feeds.replay import Answer

    pages = [records[i:i + page_size] for i in range(0, len(records), page_size)] or [[]]
    for n, page in enumerate(pages):
        token = f"bench|{n + 1}" if n + 1 < len(pages) else ""
        body = (OAI_HEAD + "".join(map(oai_record, page)) +
                f"<resumptionToken>{token}</resumptionToken></ListRecords></OAI-PMH>")
        query = ({"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "cs", "from": DAY.isoformat()} if n == 0
                 else {"verb": "ListRecords", "resumptionToken": f"bench|{n}"})
        replay.add("/oai", query, [Answer(body.encode())])
    from discovery.feeds.openalex import SELECT

    works = [records[i:i + 200] for i in range(0, len(records), 200)] + [[]]
    for n, page in enumerate(works):
        query = {"filter": f"from_publication_date:{DAY}", "search": "bench", "select": SELECT, "per-page": 200,
                 "cursor": "*" if n == 0 else f"c{n}"}
        cursor = f"c{n + 1}" if page else None
        body = json.dumps({"meta": {"next_cursor": cursor}, "results": [openalex_work(r) for r in page]})
        replay.add("/works", query, [Answer(body.encode())])


def corpus_empty() -> None:
    from webapp.papers.models import IndexState, Paper

    Paper.objects.all().delete()
    IndexState.objects.all().delete()


def index_all() -> None:
    from django.conf import settings

    from webapp.papers import indexing

    for chunk in indexing.chunked(indexing.unindexed_ids(), settings.INDEX_CHUNK_SIZE):
        indexing.papers_index_chunk(ids=chunk)
    indexing.index_publish()


def encoder_warm() -> None:
    """Load the encoder before the rows with indexing, so that neither pays for it."""
    from webapp.papers import indexing
    from webapp.papers.models import Paper

    indexing.papers_embed([Paper(title="Warming up", abstract="We load the encoder. It embeds one sentence.")])


def file_import(records: list[dict], folder: Path) -> int:
    from webapp.imports.services import import_job_create, import_job_run

    path = folder / f"file-{len(records)}.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "title": r["title"], "abstract": r["abstract"],
                                        "authors": ", ".join(r["authors"]),
                                        "versions": [{"created": f"{r['year'] or 2022}-06-01"}]}) + "\n"
                            for r in records))
    job = import_job_run(job_id=import_job_create(path=str(path), fmt="arxiv", enqueue=False).pk)
    return job.created


def harvest(feed) -> int:
    from webapp.feeds import services
    from webapp.imports.services import import_job_run

    feed.refresh_from_db()
    started, _ = services.harvest_start(feed=feed, since=DAY, enqueue=False)
    services.harvest_run(job_id=started.pk, enqueue_import=False)
    for job in started.imports.all():
        import_job_run(job_id=job.pk)
    return started.import_counts()["created"]


def timed(label: str, run, index: bool, results: list) -> None:
    from webapp.papers.models import Paper

    corpus_empty()
    t = time.perf_counter()
    created = run()
    if index:
        index_all()
    seconds = time.perf_counter() - t
    assert Paper.objects.count() == created, "every record once"
    results.append((label, created, seconds))
    print(f"{label:<52} {created:>6} papers {seconds:>8.2f} s {created / seconds:>9.1f} papers/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--index-papers", type=int, default=300, help="papers for the rows with indexing (0: none)")
    parser.add_argument("--page-size", type=int, default=500, help="records per OAI-PMH page")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    os.environ["DATA_DIR"] = str(work / "data")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from webapp.feeds.models import Feed, FeedKind
    from webapp.feeds.replay import Replay

    call_command("migrate", verbosity=0)
    settings.INDEX_AFTER_IMPORT = False
    settings.INDEX_DIR = work / "index"
    records = load_records(max(args.papers, args.index_papers))
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    results: list = []
    with Replay() as replay:
        settings.ARXIV_OAI_URL, settings.OPENALEX_URL = f"{replay.url}/oai", replay.url
        arxiv = Feed.objects.create(owner=owner, name="bench arXiv", kind=FeedKind.ARXIV, query="cs.CL")
        openalex = Feed.objects.create(owner=owner, name="bench OpenAlex", kind=FeedKind.OPENALEX, query="bench")
        for size, index in ((args.papers, False), (args.index_papers, True)):
            if not size:
                continue
            if index:
                encoder_warm()
            serve(replay, records[:size], args.page_size)
            suffix = " + indexing" if index else ""
            timed(f"plain file import (arXiv JSONL){suffix}", lambda: file_import(records[:size], work), index, results)
            timed(f"arXiv OAI-PMH harvest + import{suffix}", lambda: harvest(arxiv), index, results)
            if not index:
                timed("OpenAlex harvest + import", lambda: harvest(openalex), index, results)
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
