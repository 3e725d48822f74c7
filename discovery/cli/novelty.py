"""Command line for scripted novelty assessment and evaluation:

    python -m discovery index build --input CORPUS.jsonl --out DIR
    python -m discovery novelty --index DIR < requests.jsonl > reports.jsonl

A request line is {"id", "idea": {"problem", "method", "findings"} or "text", "as_of"?}; each
gets one answer line, in order: {"id", "scores", "verdict", "evidence": {aspect: [{"id",
"similarity"}]}, "overlapping"}, or {"id", "error"} without stopping the batch.
`register(subparsers)` plugs both into `python -m discovery` (discovery.cli.COMMAND_MODULES).
"""
from __future__ import annotations

import sys
from typing import IO

from discovery import ASPECTS


def register(subparsers) -> None:
    index = subparsers.add_parser("index", help="standalone ideation-space indexes")
    index_sub = index.add_subparsers(dest="index_command", required=True)
    build = index_sub.add_parser("build", help="index a corpus file into a standalone folder")
    build.add_argument("--input", required=True, help="corpus file (JSONL, CSV, BibTeX, RIS, text, ...)")
    build.add_argument("--out", required=True, help="index folder (the site's format)")
    build.add_argument("--limit", type=int, default=None, help="index only the first N records")
    build.set_defaults(func=run_build)
    novelty = subparsers.add_parser("novelty", help="novelty reports for JSON-lines ideas on stdin")
    novelty.add_argument("--index", required=True, help="index folder")
    novelty.add_argument("--k", type=int, default=5, help="evidence papers per aspect")
    novelty.add_argument("--rationale", action="store_true", help="add the LLM's checked rationale (slow)")
    novelty.set_defaults(func=run_novelty)


def run_build(args) -> int:
    from discovery import standalone

    def progress(done: int) -> None:
        print(f"\rindexed {done} papers", end="", file=sys.stderr, flush=True)

    version = standalone.build(args.input, args.out, limit=args.limit, progress=progress)
    print(f"\n{args.out}: version {version}", file=sys.stderr)
    return 0


def parse_request(request: dict):
    """(Idea, as_of) from one request; ValueError names what is wrong."""
    from discovery.novelty import Idea, split_idea

    idea, text, as_of = request.get("idea"), request.get("text"), request.get("as_of")
    if as_of is not None and (not isinstance(as_of, int) or isinstance(as_of, bool)):
        raise ValueError("as_of must be a year (integer)")
    if isinstance(idea, dict):
        fields = {a: idea.get(a) or "" for a in ASPECTS}
        if not all(isinstance(v, str) for v in fields.values()) or not (fields["problem"].strip() and fields["method"].strip()):
            raise ValueError("idea needs string fields problem and method (findings optional)")
        return Idea(**fields), as_of
    if isinstance(text, str) and text.strip():
        return split_idea(text), as_of
    raise ValueError('give "idea": {"problem", "method", "findings"} or "text"')


def novelty_handler(store, k: int, with_rationale: bool):
    from discovery import novelty, rationale

    cfg = novelty.NoveltyConfig(k=k)

    def handle(request: dict) -> dict:
        idea, as_of = parse_request(request)
        result = novelty.assess(store.index_set, idea, store.calibration, as_of=as_of, cfg=cfg,
                                sentences_of=store.sentences_of if with_rationale else None)
        out = {"scores": result.scores, "verdict": result.verdict,
               "evidence": {a: [{"id": store.external_id(e.id), "similarity": round(e.similarity, 4)}
                                for e in group] for a, group in result.evidence.items()},
               "overlapping": [store.external_id(i) for i in result.overlapping]}
        if with_rationale:
            written = rationale.write(result, store.titles(result.cited_ids()))
            numbers = rationale.evidence_numbers(result)
            out["rationale"] = {"text": written.text, "source": written.source, "note": written.note,
                                "citations": {n: store.external_id(pid) for n, pid in numbers.items()}}
        return out
    return handle


def run_novelty(args, stdin: IO = sys.stdin, stdout: IO = sys.stdout) -> int:
    from discovery.cli import serve
    from discovery.standalone import Standalone

    return serve(novelty_handler(Standalone.open(args.index), args.k, args.rationale), stdin, stdout)
