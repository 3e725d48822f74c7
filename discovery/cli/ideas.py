"""Command line for methodology inspiration and idea generation (JSON lines in, one answer line
per request out, in order; a bad request answers {"id", "error"} and the batch goes on):

    python -m discovery inspire < requests.jsonl
        {"id", "problem", "candidates": [{"id", "title", "abstract"}]} -> {"id", "ranking": [ids]}
        (the candidates ordered as sources of methodology for the problem, best first)
    python -m discovery ideas --index DIR < requests.jsonl
        {"id", "problem", "n"?, "constraints"?} -> {"id", "ideas": [{"problem", "method", "findings",
        "probability", "inspirations": [corpus ids], "scores", "verdict", "nearest", ...}], "inspirations"}
"""
from __future__ import annotations

import sys
from typing import IO

from discovery.cli import _text, serve

MAX_IDEAS = 10  # a 135M model writes ~60 tokens per idea; more than 10 is minutes per request


def inspire_handler():
    from discovery import inspiration

    def handle(request: dict) -> dict:
        problem = _text(request, "problem")
        candidates = request.get("candidates")
        if not isinstance(candidates, list) or not all(isinstance(c, dict) and "id" in c for c in candidates):
            raise ValueError("'candidates' must be a list of objects with an 'id'")
        items = [(c["id"], _text(c, "title", required=False), _text(c, "abstract")) for c in candidates]
        return {"ranking": inspiration.rank_candidates(problem, items)}
    return handle


def ideas_handler(store, engine=None):
    from discovery import ideas

    def handle(request: dict) -> dict:
        problem = _text(request, "problem")
        constraints = _text(request, "constraints", required=False)
        n = request.get("n", ideas.IdeaConfig.n)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_IDEAS:
            raise ValueError(f"'n' must be an integer from 1 to {MAX_IDEAS}")
        result = ideas.generate(store, problem, n=n, constraints=constraints, engine=engine)
        return {"ideas": [external(store, i.to_dict()) for i in result.ideas],
                "inspirations": [external_inspiration(store, f.to_dict()) for f in result.inspirations],
                "timings": result.timings}
    return handle


def external(store, idea: dict) -> dict:
    """Index ids -> the corpus's own ids, in every place an idea names a paper."""
    idea["inspirations"] = [store.external_id(i) for i in idea["inspirations"]]
    for paper in [idea["nearest"]] + idea["too_close"]:
        paper["id"] = store.external_id(paper["id"])
    return idea


def external_inspiration(store, found: dict) -> dict:
    return found | {"id": store.external_id(found["id"])}


def run_inspire(args, stdin: IO = sys.stdin, stdout: IO = sys.stdout) -> int:
    return serve(inspire_handler(), stdin, stdout)


def run_ideas(args, stdin: IO = sys.stdin, stdout: IO = sys.stdout) -> int:
    from discovery.standalone import Standalone

    return serve(ideas_handler(Standalone.open(args.index)), stdin, stdout)


def register(subparsers) -> None:
    inspire = subparsers.add_parser("inspire", help="rank candidate papers as methodology sources for a problem")
    inspire.set_defaults(func=run_inspire)
    ideas = subparsers.add_parser("ideas", help="research ideas for JSON-lines problems on stdin")
    ideas.add_argument("--index", required=True, help="index folder (python -m discovery index build)")
    ideas.set_defaults(func=run_ideas)
