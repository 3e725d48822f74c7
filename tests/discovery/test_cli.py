import io
import json

import pytest

from discovery import cli, encoder, segmenter
from tests.discovery.stand_ins import CountingEncoder, CueSegmenter


@pytest.fixture
def stand_ins(monkeypatch):
    fake = CountingEncoder()
    monkeypatch.setattr(encoder, "encode", fake)
    monkeypatch.setattr(segmenter, "default_segmenter", CueSegmenter)
    return fake


def run(argv: list[str], requests: list) -> list[dict]:
    args = cli.parser().parse_args(argv)
    stdin = io.StringIO("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests))
    stdout = io.StringIO()
    assert args.func(args, stdin, stdout) == 0
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_it_segments_an_abstract_into_aspect_fields(stand_ins):
    [out] = run(["segment"], [{"id": 7, "title": "T", "abstract":
                               "Parsing is slow. We propose a parser. Results show speed. Copyright 2020."}])
    assert out["id"] == 7
    assert [s["aspect"] for s in out["sentences"]] == ["problem", "method", "findings", "other"]
    assert out["method"] == "We propose a parser."
    assert out["findings"] == "Results show speed."


def test_it_answers_bad_requests_with_errors_and_keeps_going(stand_ins):
    out = run(["segment"], ["not json", {"id": "x"}, {"id": "ok", "abstract": "We propose a parser."}])
    assert [o["id"] for o in out] == [None, "x", "ok"]
    assert "error" in out[0] and "abstract" in out[1]["error"]
    assert out[2]["method"] == "We propose a parser."


def test_it_ranks_candidates_in_order_and_encodes_repeats_once(stand_ins):
    query = {"title": "Q", "abstract": "Speech is noisy. We propose a beam parser."}
    cands = [{"id": "far", "title": "A", "abstract": "Vision is hard. We propose convolutions."},
             {"id": "near", "title": "B", "abstract": "Speech is noisy. We propose a beam parser."}]
    requests = [{"id": 1, "query": query, "candidates": cands},
                {"id": 2, "query": query, "candidates": "nope"},
                {"id": 3, "query": query, "candidates": cands[::-1]}]
    out = run(["rank", "--facet", "method"], requests)
    assert out[0] == {"id": 1, "ranking": ["near", "far"]}
    assert "error" in out[1]
    assert out[2] == {"id": 3, "ranking": ["near", "far"]}
    assert stand_ins.calls.count("Vision is hard.") == 1


def test_it_registers_subcommands_from_several_modules():
    commands = cli.parser()._subparsers._group_actions[0].choices
    assert {"segment", "rank"} <= set(commands)
