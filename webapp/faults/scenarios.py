"""The fault script's scenarios. Each runs against the real parts (worker processes, Redis, the
database, the readers, the site in-process) inside the script's own temp folder, and returns its
figures and whether it held. Bounded in count and time; everything on 127.0.0.1."""
from __future__ import annotations

import collections
import gzip
import io
import json
import re
import subprocess
import sys
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from webapp.faults.workers import ROOT, BeatProcess, RedisServer, WorkerProcess


@dataclass
class Result:
    name: str
    held: bool
    figures: dict[str, object] = field(default_factory=dict)


@dataclass
class Context:
    folder: Path
    size: int
    index_size: int
    seconds: float  # per bounded scenario (fuzz, schemathesis)
    redis: RedisServer


def wait_for(predicate, timeout: float, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    return None


# --- corpus files and the lost / duplicated check ----------------------------------------------

def corpus_file(ctx: Context, size: int) -> Path:
    """The first `size` records of the shared 49k corpus as a JSONL file (synthetic records
    where the shared data folder is absent)."""
    from discovery.settings import shared_data_dir

    path = ctx.folder / f"corpus-{size}.jsonl"
    if path.exists():
        return path
    source = shared_data_dir() / "ml_papers.jsonl.gz"
    with open(path, "w") as out:
        if source.exists():
            with gzip.open(source, "rt") as lines:
                for _, line in zip(range(size), lines):
                    out.write(line)
        else:
            for n in range(size):
                out.write(json.dumps({"title": f"Synthetic paper {n}", "abstract": f"We study {n}. It works."}) + "\n")
    return path


def lost_and_duplicated(path: Path) -> dict[str, int]:
    """Good records of the file against the papers stored, by normalised title: each title in
    the file stored at least once (lost otherwise) and no more often than the file has it."""
    from discovery.corpus import Record, detect_format, read_records
    from webapp.papers.models import Paper

    def key(title):
        return " ".join(title.lower().split())

    wanted = collections.Counter(key(r.title) for r in read_records(path, detect_format(path)) if isinstance(r, Record))
    stored = collections.Counter(key(t) for t in Paper.objects.values_list("title", flat=True))
    return {"records": sum(wanted.values()), "papers": Paper.objects.count(),
            "lost": sum(1 for k in wanted if not stored[k]),
            "duplicated": sum(max(0, stored[k] - n) for k, n in wanted.items())}


def corpus_reset() -> None:
    from webapp.imports.models import ImportJob
    from webapp.papers.models import IndexState, Paper

    ImportJob.objects.all().delete()
    Paper.objects.all().delete()
    IndexState.objects.all().delete()
    import shutil

    shutil.rmtree(settings.INDEX_DIR, ignore_errors=True)


def _job(job_id):
    from webapp.imports.models import ImportJob

    return ImportJob.objects.get(pk=job_id)


# --- worker SIGKILLed during an import, and during indexing ------------------------------------

def import_kill(ctx: Context) -> Result:
    """A worker SIGKILLed half way through an import; a new worker finishes it."""
    from webapp.imports import services

    corpus_reset()
    path = corpus_file(ctx, ctx.size)
    env = {"IMPORT_BATCH_SIZE": str(max(10, ctx.size // 100)), "INDEX_AFTER_IMPORT": "0"}
    first = WorkerProcess("import-a", ctx.folder, **env).start()
    first.wait_ready()
    job = services.import_job_create(path=str(path))
    started = time.monotonic()
    half = wait_for(lambda: (j := _job(job.pk)).total and j.done >= j.total // 2 and j, 600, 0.02)
    first.kill()
    killed_at = _job(job.pk).done
    second = WorkerProcess("import-b", ctx.folder, **env).start()
    try:
        ready_s = second.wait_ready()
        resumed = wait_for(lambda: _job(job.pk).done > killed_at or _job(job.pk).is_finished, 300)
        resumed_s = time.monotonic() - second.started_at
        finished = wait_for(lambda: _job(job.pk).is_finished and _job(job.pk), 1200)
        total_s = time.monotonic() - started
    finally:
        second.stop()
    counts = lost_and_duplicated(path)
    held = bool(half and resumed and finished and finished.status == "done" and not counts["lost"]
                and not counts["duplicated"])
    return Result("worker killed during an import", held, {
        **counts, "killed at": f"{killed_at} / {half.total if half else '?'} records",
        "new worker ready after (s)": f"{ready_s:.1f}",
        "resumed after (s from new worker start)": f"{resumed_s:.1f}", "import total (s)": f"{total_s:.1f}",
        "job": f"{finished.status if finished else 'not finished'}, attempts {finished.attempts if finished else '?'}"})


def index_kill(ctx: Context) -> Result:
    """A worker SIGKILLed during indexing (the real encoder); a new worker finishes: every paper
    in every index exactly once."""
    from webapp.imports import services

    corpus_reset()
    path = corpus_file(ctx, ctx.index_size)
    env = {"INDEX_CHUNK_SIZE": str(max(16, ctx.index_size // 4))}
    first = WorkerProcess("index-a", ctx.folder, **env).start()
    first.wait_ready()
    job = services.import_job_create(path=str(path))
    started = time.monotonic()
    part = wait_for(lambda: (j := _job(job.pk)).index_total and j.index_done >= j.index_total // 4 and j, 1200, 0.1)
    first.kill()
    killed_at = _job(job.pk)
    dead_work = _work_tokens(killed_at)
    second = WorkerProcess("index-b", ctx.folder, **env).start()
    try:
        ready_s = second.wait_ready()
        taken = wait_for(lambda: _work_held(_job(job.pk), dead_work) or _job(job.pk).is_finished, 600)
        taken_s = time.monotonic() - second.started_at
        resent = wait_for(lambda: not (_work_tokens(killed_at) & dead_work), 600)
        resent_s = time.monotonic() - second.started_at
        resumed = wait_for(lambda: _job(job.pk).index_done > killed_at.index_done or _job(job.pk).is_finished, 600)
        resumed_s = time.monotonic() - second.started_at
        finished = wait_for(lambda: _job(job.pk).is_finished and _job(job.pk), 1800, 0.5)
        total_s = time.monotonic() - started
    finally:
        second.stop()
    counts = lost_and_duplicated(path)
    indexes = index_check()
    held = bool(part and resumed and finished and finished.status == "done" and not counts["lost"]
                and not counts["duplicated"] and indexes["every paper once in every index"])
    return Result("worker killed during indexing", held, {
        **counts, **indexes, "killed at": f"{killed_at.index_done} / {killed_at.index_total} papers indexed",
        "new worker ready after (s)": f"{ready_s:.1f}",
        "a chunk taken up after (s from new worker start)": f"{taken_s:.1f}" if taken else "no",
        "the dead worker's chunk sent again after (s)": f"{resent_s:.1f}" if resent and dead_work else "none listed",
        "first progress after (s from new worker start)": f"{resumed_s:.1f}", "import + indexing (s)": f"{total_s:.1f}",
        "job": f"{finished.status if finished else 'not finished'}, "
               f"{finished.index_done if finished else '?'} / {finished.index_total if finished else '?'} papers"})


def _work_tokens(job) -> set[str]:
    from webapp.jobs import liveness
    from webapp.jobs.lifecycle import work_group

    return {t.decode() for t in liveness.client().hkeys("jobs:work:" + work_group(job))}


def _work_held(job, before: set[str]) -> bool:
    """A live worker lists a chunk of the job's indexing (webapp.jobs.liveness), not one of
    the `before` pieces (the killed worker's, whose keys live on for up to a TTL)."""
    from webapp.jobs import liveness

    tokens = list(_work_tokens(job) - before)
    return bool(tokens) and len(liveness.dead(tokens)) < len(tokens)


def index_check() -> dict[str, object]:
    from discovery import SPACES
    from discovery.index import IndexSet
    from webapp.papers.models import Paper, PaperVectors

    papers = set(Paper.objects.values_list("pk", flat=True))
    index = IndexSet.open(settings.INDEX_DIR)
    ids = [int(i) for i in index.ids]
    once = len(ids) == len(set(ids)) and set(ids) == papers
    per_space = {s: index.reconstruct(s, index.ids).shape[0] == len(papers) for s in SPACES}
    return {"vectors stored": PaperVectors.objects.count(), "indexed (ids)": len(ids),
            "every paper once in every index": once and all(per_space.values())}


# --- Redis killed and restarted with jobs queued and running -----------------------------------

def redis_restart(ctx: Context) -> Result:
    """Three imports, one running and two queued; Redis SIGKILLed (without persistence: the
    queued messages are lost) and restarted; beat and the worker must finish every job."""
    from webapp.imports import services

    corpus_reset()
    size = max(300, ctx.size // 4)
    paths = []
    for n in range(3):  # three files with different papers
        path = ctx.folder / f"redis-{n}.jsonl"
        with open(path, "w") as out:
            for i in range(size):
                out.write(json.dumps({"title": f"Redis fault paper {n}-{i}", "abstract": f"About {i}. It works."}) + "\n")
        paths.append(path)
    env = {"IMPORT_BATCH_SIZE": str(max(5, size // 100)), "INDEX_AFTER_IMPORT": "0"}
    worker = WorkerProcess("redis-w", ctx.folder, **env).start()
    beat = BeatProcess("redis-beat", ctx.folder, **env).start()
    try:
        worker.wait_ready()
        jobs = [services.import_job_create(path=str(p)) for p in paths]
        wait_for(lambda: _job(jobs[0].pk).done > 0, 120, 0.02)
        states = [_job(j.pk).status for j in jobs]
        ctx.redis.kill()
        time.sleep(3)
        ctx.redis.start()
        restarted = time.monotonic()
        finished = wait_for(lambda: all(_job(j.pk).is_finished for j in jobs), 600, 0.5)
        recovery_s = time.monotonic() - restarted
    finally:
        worker.stop()
        beat.stop()
    rows = [_job(j.pk) for j in jobs]
    lost = sum(lost_and_duplicated(p)["lost"] for p in paths)
    from webapp.papers.models import Paper

    duplicated = Paper.objects.count() - 3 * size + lost
    held = bool(finished and all(r.status == "done" for r in rows) and not lost and not duplicated)
    return Result("Redis killed and restarted", held, {
        "jobs at the kill": ", ".join(states), "jobs done": sum(r.status == "done" for r in rows),
        "papers": Paper.objects.count(), "lost": lost, "duplicated": duplicated,
        "all finished after restart (s)": f"{recovery_s:.1f}" if finished else "not within 600 s",
        "settings": f"JOB_STALE_AFTER_S={settings.JOB_STALE_AFTER_S}, beat every 30 s, no Redis persistence"})


# --- the readers: hostile files and a bounded fuzz run ------------------------------------------

def hostile(ctx: Context) -> Result:
    from discovery.corpus import hostile as cases

    folder = ctx.folder / "hostile"
    folder.mkdir(exist_ok=True)
    out = io.StringIO()
    with redirect_stdout(out):
        code = cases.main([str(folder)])
    text = out.getvalue()
    print(text, end="")
    # the MB column is measured for the big cases only ("-" for the others)
    peaks = [float(m.group(1)) for m in re.finditer(r"^.{44} \S+\s+-?\d+\s+-?\d+\s+[\d.]+\s+([\d.]+)  ", text, re.M)]
    failed = int(re.search(r"(\d+) failed", text).group(1))
    return Result("hostile import files", code == 0, {"files": len(cases.CASES), "failed": failed,
                                                      "peak MB on the worst big file": max(peaks, default=0.0)})


def fuzz(ctx: Context) -> Result:
    from discovery.corpus import fuzz as fuzzer

    out = io.StringIO()
    with redirect_stdout(out):
        code = fuzzer.main(["--seconds", str(ctx.seconds), "--crashes", str(ctx.folder / "fuzz-crashes")])
    text = out.getvalue()
    print(text, end="")
    total = re.search(r"^all\s+([\d,]+)\s+(\d+)\s+([\d.]+)", text, re.M)
    return Result("reader fuzzing", code == 0, {"engine": re.search(r"engine (\w+)", text).group(1),
                                                "inputs": total.group(1), "crashes": total.group(2),
                                                "slowest input (s)": total.group(3), "seconds": ctx.seconds})


# --- the site: access matrix, hostile text, schemathesis, load ---------------------------------

def access(ctx: Context) -> Result:
    from webapp.faults import access as matrix

    checks, holes = matrix.run()
    for hole in holes[:30]:
        print("  HOLE", hole)
    return Result("access matrix", not holes, {"checks": checks, "holes": len(holes)})


def inert(ctx: Context) -> Result:
    from webapp.faults import access as matrix

    pages, live = matrix.hostile_text_pages()
    for page in live[:30]:
        print("  LIVE", page)
    return Result("hostile paper text", not live, {"pages, exports and admin lists": pages, "live markup": len(live)})


def schemathesis(ctx: Context) -> Result:
    """The suite's bounded schemathesis run (tests/api/test_schema_fuzz.py) in a pytest of its own."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/api/test_schema_fuzz.py"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)  # pyproject's addopts: -q
    summary = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?)\s*=*$", proc.stdout, re.M)
    passed, failed = (re.search(rf"(\d+) {word}", summary[-1] if summary else "") for word in ("passed", "failed"))
    return Result("schemathesis over the OpenAPI schema", proc.returncode == 0, {
        "operations (each up to 10 generated requests)": passed.group(1) if passed else 0,
        "failed (server errors or schema violations)": failed.group(1) if failed else 0,
        "pytest": summary[-1] if summary else proc.stdout[-300:] + proc.stderr[-300:]})


def load(ctx: Context) -> Result:
    from webapp.faults import load as loadrun

    return Result("8 search clients + 5 novelty reports", *loadrun.run(ctx))


SCENARIOS = {"import-kill": import_kill, "index-kill": index_kill, "redis": redis_restart, "hostile": hostile,
             "fuzz": fuzz, "access": access, "inert": inert, "schemathesis": schemathesis, "load": load}
