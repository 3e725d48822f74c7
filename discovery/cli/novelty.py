"""Command line for scripted novelty assessment and evaluation:

    python -m discovery index build --input CORPUS.jsonl --out DIR
    python -m discovery novelty --index DIR < requests.jsonl > reports.jsonl
    python -m discovery novelty --pool < requests.jsonl > judgements.jsonl

--index: a request line is {"id", "idea": {"problem", "method", "findings"} or "text", "as_of"?};
each gets one answer line, in order: {"id", "scores", "p_not_novel", "verdict", "evidence": {aspect: [{"id",
"similarity"}]}, "overlapping"}.
--pool: a request line is {"id", "text" | "idea", "candidates": [{"id", "title"?, "abstract"}]}
and the idea is judged against its own candidates only (discovery.novelty_scorer): {"id",
"scores": {"overall", "paper", "problem", "method", "findings"}, "p_not_novel", "verdict",
"evidence": [{"id", "similarity", "coverage"}], "overlapping"}. overall = 1 - p(not novel), so
higher = more novel and comparable across the requests of a batch; the aspect scores are
novelty against the request's own pool (novelty_scorer.aspect_novelty). The verdict is
paraphrase_of | subset_of | combination_of ("overlapping" names those candidates) or, for a novel
idea, the aspect verdict of discovery.novelty (new_problem, new_method, ...).
Either way a bad request gets {"id", "error"} and the batch goes on.
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
    source = novelty.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", help="index folder")
    source.add_argument("--pool", action="store_true", help="each request carries its own candidates")
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
    from discovery import crosscheck, novelty, rationale

    cfg = novelty.NoveltyConfig(k=k)
    second_opinion = crosscheck.configured()

    def texts_of(ids: list[int]) -> dict[int, str]:
        """Title and sentences, as the paper was encoded: what the learned scorer aligns with."""
        titles = store.titles(ids)
        return {i: " ".join([titles.get(i, "")] + [t for t, _ in sents]).strip()
                for i, sents in store.sentences_of(ids).items()}

    def handle(request: dict) -> dict:
        idea, as_of = parse_request(request)
        result = novelty.assess(store.index_set, idea, store.calibration, as_of=as_of, cfg=cfg,
                                sentences_of=store.sentences_of if with_rationale else None, texts_of=texts_of,
                                second_opinion=second_opinion)
        out = {"scores": result.scores, "p_not_novel": result.p_not_novel, "verdict": result.verdict,
               "evidence": {a: [{"id": store.external_id(e.id), "similarity": round(e.similarity, 4)}
                                for e in group] for a, group in result.evidence.items()},
               "overlapping": [store.external_id(i) for i in result.overlapping]}
        if with_rationale:
            written = rationale.write(result, store.titles(result.cited_ids()), sentences_of=store.sentences_of)
            numbers = rationale.evidence_numbers(result)
            out["rationale"] = {"text": written.text, "source": written.source, "note": written.note,
                                "citations": {n: store.external_id(pid) for n, pid in numbers.items()}}
        return out
    return handle


def parse_pool_request(request: dict) -> tuple[str, list, list[tuple[str, str]]]:
    """(idea text, candidate ids, [(title, abstract)]); ValueError names what is wrong."""
    text = request.get("text", request.get("idea"))
    if isinstance(text, dict):
        text = " ".join(text.get(a) or "" for a in ASPECTS if isinstance(text.get(a), str))
    if not isinstance(text, str) or not text.strip():
        raise ValueError('give the idea as "text" (or "idea": a string or {"problem", "method", "findings"})')
    cands = request.get("candidates")
    if not isinstance(cands, list) or not cands:
        raise ValueError('"candidates" must be a non-empty list of {"id", "title"?, "abstract"}')
    items = []
    for c in cands:
        if not isinstance(c, dict) or "id" not in c:
            raise ValueError('each candidate needs an "id"')
        title, abstract = c.get("title") or "", c.get("abstract") or ""
        if not isinstance(title, str) or not isinstance(abstract, str) or not (title.strip() or abstract.strip()):
            raise ValueError(f"candidate {c['id']!r} needs a string title or abstract")
        items.append((title, abstract))
    return text, [c["id"] for c in cands], items


def pool_handler(k: int):
    from discovery import aspects, crosscheck, novelty, novelty_scorer

    cfg = novelty.NoveltyConfig()
    second_opinion = crosscheck.configured()

    def handle(request: dict) -> dict:
        text, ids, items = parse_pool_request(request)
        pool = aspects.embed_papers(items).vectors
        idea = aspects.query_vectors("", text)
        judged = novelty_scorer.judge(text, [f"{t} {a}".strip() for t, a in items], pool["paper"],
                                      second_opinion=second_opinion)
        sims = pool["paper"] @ idea["paper"]
        scores = {"overall": judged.overall} | novelty_scorer.aspect_novelty(idea, pool)
        # a novel idea is typed by its aspects, as in --index (pool-relative scores, same thresholds)
        verdict = judged.verdict if judged.verdict != "new" else novelty.verdict_of(scores, cfg)
        return {"scores": scores, "p_not_novel": judged.p_not_novel, "verdict": verdict,
                "evidence": [{"id": ids[j], "similarity": round(float(sims[j]), 4), "coverage": c}
                             for j, c in list(judged.coverage.items())[:k]],
                "overlapping": [ids[j] for j in judged.papers] if verdict in novelty_scorer.NOT_NOVEL else []}
    return handle


def run_novelty(args, stdin: IO = sys.stdin, stdout: IO = sys.stdout) -> int:
    from discovery.cli import serve

    if args.pool:
        return serve(pool_handler(args.k), stdin, stdout)
    from discovery.standalone import Standalone

    return serve(novelty_handler(Standalone.open(args.index), args.k, args.rationale), stdin, stdout)
