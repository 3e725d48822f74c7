"""python -m webapp.faults [--only SCENARIO[,SCENARIO]] [--size N] [--index-size N] [--seconds S]

The fault script (issue 15): a worker SIGKILLed half way through an import and during indexing,
then a new worker finishing (papers counted, 0 lost, 0 duplicated, every paper in every index
once); Redis killed and restarted with jobs queued and running; the hostile import files and a
bounded fuzz run of every reader; the access matrix over every URL (anonymous, bob on alice's
objects, a bad token, POST without CSRF); hostile paper text on every page, export and admin
list; schemathesis over the OpenAPI schema; 8 search clients with 5 novelty reports queued.

Everything runs in a temp folder of its own: a fresh SQLite database, a private Redis on a free
127.0.0.1 port (the one scenario kills it), its own worker processes. """
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from webapp.faults.workers import RedisServer, environment_prepare

NAMES = ("import-kill", "index-kill", "redis", "hostile", "fuzz", "access", "inert", "schemathesis", "load")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(NAMES), help="comma-separated, of: " + ", ".join(NAMES))
    parser.add_argument("--size", type=int, default=3000, help="records of the import the worker is killed in "
                        "(the first N of ml_papers.jsonl.gz; 49084 for all of it)")
    parser.add_argument("--index-size", type=int, default=256, help="papers indexed (the real encoder) when the "
                        "worker is killed during indexing")
    parser.add_argument("--seconds", type=float, default=60.0, help="bound of the fuzz run (schemathesis: "
                        "the suite's own bounds)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, database)")
    args = parser.parse_args(argv)
    chosen = [n for n in args.only.split(",") if n]
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"unknown scenarios {', '.join(unknown)}")
    folder = Path(tempfile.mkdtemp(prefix="faults-"))
    redis = RedisServer(folder / "redis").start()
    environment_prepare(folder, redis.url, JOB_STALE_AFTER_S="30", JOB_HEARTBEAT_S="5")
    try:
        return _run(chosen, args, folder, redis)
    finally:
        redis.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")


def _run(chosen, args, folder: Path, redis: RedisServer) -> int:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)
    import logging

    for name in ("django.request", "django.security"):  # the matrix's 404s and 403s are expected
        logging.getLogger(name).setLevel(logging.CRITICAL)
    from webapp.faults.scenarios import SCENARIOS, Context

    ctx = Context(folder=folder, size=args.size, index_size=args.index_size, seconds=args.seconds, redis=redis)
    print(f"fault script: {', '.join(chosen)}; folder {folder}; load {_load()}")
    results = []
    for name in chosen:
        print(f"\n== {name}")
        started = time.monotonic()
        try:
            result = SCENARIOS[name](ctx)
        except Exception as exc:  # a scenario that broke is a failed scenario, with the reason
            import traceback

            traceback.print_exc()
            from webapp.faults.scenarios import Result

            result = Result(name, False, {"error": f"{type(exc).__name__}: {exc}"[:300]})
        result.figures["seconds"] = f"{time.monotonic() - started:.0f}"
        results.append(result)
        print(f"-- {result.name}: {'held' if result.held else 'BROKE'}")
        for key, value in result.figures.items():
            print(f"   {key}: {value}")
    print(f"\n{sum(r.held for r in results)} of {len(results)} scenarios held; load {_load()}")
    return 0 if all(r.held for r in results) else 1


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
