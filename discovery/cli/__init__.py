"""`python -m discovery <command>`: JSON lines on stdin, one answer line per request on stdout,
in order; a bad request answers {"id": ..., "error": "..."} and the batch goes on.

    python -m discovery segment < abstracts.jsonl
        {"id", "title"?, "abstract"} -> {"id", "sentences": [{"text", "aspect"}], "problem",
        "method", "findings"} (each aspect field joins that aspect's sentences)
    python -m discovery rank --facet problem|method|findings|all < requests.jsonl
        {"id", "query": {"title", "abstract"}, "candidates": [{"id", "title", "abstract"}]}
        -> {"id", "ranking": [candidate ids, best first]}

Sub-commands live in modules listed in COMMAND_MODULES; each has `register(subparsers)` that
adds its parsers with `set_defaults(func=run)`. Adding a command is one line here.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import IO, Callable

from discovery import ASPECTS

COMMAND_MODULES = ("discovery.cli", "discovery.cli.novelty", "discovery.cli.ideas")
RANK_FACETS = ASPECTS + ("all",)  # what `rank --facet` matches on: one aspect, or the whole paper


def serve(handle: Callable[[dict], dict], stdin: IO, stdout: IO) -> int:
    """Answer each JSON line with handle(request); errors become lines, never exceptions."""
    for line in stdin:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("a request must be a JSON object")
            request_id = request.get("id")
            answer = {"id": request_id} | handle(request)
        except Exception as exc:  # one bad request must not stop the batch
            answer = {"id": request_id, "error": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()
    return 0


def _text(obj: dict, field: str, required: bool = True) -> str:
    value = obj.get(field, "" if not required else None)
    if value is None or not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{field!r} must be a non-empty string")
    return value


def segment_handler() -> Callable[[dict], dict]:
    from discovery import aspects

    def handle(request: dict) -> dict:
        title, abstract = _text(request, "title", required=False), _text(request, "abstract")
        seg = aspects.segment([(title, abstract)])[0]
        return {"sentences": [{"text": s, "aspect": a} for s, a in zip(seg.sentences, seg.labels)]} | {
            a: seg.text(a) for a in ASPECTS}
    return handle


def rank_handler(facet: str) -> Callable[[dict], dict]:
    from discovery import aspects

    ranker = aspects.Ranker()  # one per process: a candidate seen again is not re-encoded

    def handle(request: dict) -> dict:
        query = request.get("query")
        candidates = request.get("candidates")
        if not isinstance(query, dict):
            raise ValueError("'query' must be an object with 'title' and 'abstract'")
        if not isinstance(candidates, list) or not all(isinstance(c, dict) and "id" in c for c in candidates):
            raise ValueError("'candidates' must be a list of objects with an 'id'")
        q = (_text(query, "title", required=False), _text(query, "abstract"))
        cands = {c["id"]: (_text(c, "title", required=False), _text(c, "abstract")) for c in candidates}
        return {"ranking": ranker.rank(q, cands, facet)}
    return handle


def run_segment(args, stdin: IO = sys.stdin, stdout: IO = sys.stdout) -> int:
    return serve(segment_handler(), stdin, stdout)


def run_rank(args, stdin: IO = sys.stdin, stdout: IO = sys.stdout) -> int:
    return serve(rank_handler(args.facet), stdin, stdout)


def register(subparsers) -> None:
    seg = subparsers.add_parser("segment", help="split abstracts into problem / method / findings")
    seg.set_defaults(func=run_segment)
    rank = subparsers.add_parser("rank", help="rank candidate papers against a query paper")
    rank.add_argument("--facet", choices=RANK_FACETS, default="all", help="aspect to match on")
    rank.set_defaults(func=run_rank)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m discovery", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        module = sys.modules[__name__] if name == __name__ else importlib.import_module(name)
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
