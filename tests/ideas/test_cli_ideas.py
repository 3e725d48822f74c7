"""`python -m discovery inspire` and `ideas`: one JSON line per request, in order, errors as lines."""
import io
import json
from argparse import Namespace

from discovery import cli
from discovery.cli import ideas as cli_ideas

from tests.conftest import aspect_text


def run(func, args, requests: list) -> list[dict]:
    stdin = io.StringIO("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests))
    stdout = io.StringIO()
    assert func(args, stdin, stdout) == 0
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_it_is_registered_as_discovery_subcommands():
    args = cli.parser().parse_args(["ideas", "--index", "/x"])
    assert args.func is cli_ideas.run_ideas and args.index == "/x"
    assert cli.parser().parse_args(["inspire"]).func is cli_ideas.run_inspire


def test_it_ranks_inspire_candidates_and_answers_bad_requests_in_order(store):
    rows = sorted(store.papers.values(), key=lambda r: r["iid"])[:4]
    candidates = [{"id": r["id"], "title": r["title"], "abstract": " ".join(s["text"] for s in r["segmentation"])}
                  for r in rows]
    out = run(cli_ideas.run_inspire, Namespace(), [
        {"id": "a", "problem": aspect_text(rows[2], "problem") or rows[2]["title"], "candidates": candidates},
        {"id": "b", "candidates": candidates},
        "not json",
        {"id": "c", "problem": "x", "candidates": [{"title": "no id"}]},
    ])
    assert [o["id"] for o in out] == ["a", "b", None, "c"]
    assert sorted(out[0]["ranking"]) == sorted(c["id"] for c in candidates)
    assert out[0]["ranking"][0] == rows[2]["id"]
    assert all("error" in o for o in out[1:])


def test_it_answers_idea_requests_with_grounded_scored_ideas(seed_index, store):
    out = run(cli_ideas.run_ideas, Namespace(index=str(seed_index)), [
        {"id": 1, "problem": "Large language models are too big for one GPU.", "n": 2},
        {"id": 2, "problem": "   "},
        {"id": 3, "problem": "x", "n": 0},
    ])
    assert [o["id"] for o in out] == [1, 2, 3]
    assert len(out[0]["ideas"]) == 2
    corpus_ids = {r["id"] for r in store.papers.values()}
    for idea in out[0]["ideas"]:
        assert idea["inspirations"] and set(idea["inspirations"]) <= corpus_ids
        assert "overall" in idea["scores"] and idea["nearest"]["id"] in corpus_ids
    assert "error" in out[1] and "error" in out[2]
