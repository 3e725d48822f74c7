"""`python -m discovery novelty`: JSON lines in, one answer per request, in order."""
import io
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from discovery.cli.novelty import run_novelty

from tests.conftest import aspect_text


def run(index, lines: list[str], **opts) -> list[dict]:
    out = io.StringIO()
    args = SimpleNamespace(index=str(index), pool=False, k=opts.get("k", 3), rationale=opts.get("rationale", False))
    assert run_novelty(args, io.StringIO("\n".join(lines) + "\n"), out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_answers_every_request_in_order_and_reports_errors_without_stopping(seed_index, store):
    row = store.papers[5]
    idea = {a: aspect_text(row, a) for a in ("problem", "method", "findings")}
    answers = run(seed_index, [
        json.dumps({"id": "a", "idea": idea}),
        "not json",
        json.dumps({"id": "b", "idea": {"problem": "only a problem"}}),
        json.dumps({"id": "c", "text": "Serving language models is costly. We prune weights by magnitude. It works.",
                    "as_of": 2020}),
        json.dumps({"id": "d", "text": "LLMs are big. We prune them.", "as_of": "soon"}),
        json.dumps({"id": "e", "idea": idea}),
    ])
    assert [a["id"] for a in answers] == ["a", None, "b", "c", "d", "e"]
    assert "error" in answers[1] and "method" in answers[2]["error"] and "as_of" in answers[4]["error"]
    assert "error" in answers[3] and "up to 2020" in answers[3]["error"]  # seed papers carry no year
    first = answers[0]
    assert set(first["scores"]) == {"problem", "method", "findings", "combination", "overall"}
    # a corpus paper's own idea: the learned scorer finds it not novel and names the paper
    assert first["verdict"] in ("paraphrase_of", "subset_of") and first["overlapping"][0] == row["id"]
    assert first["scores"]["overall"] == pytest.approx(1 - first["p_not_novel"], abs=1e-4)
    assert first["evidence"]["problem"][0] == {"id": row["id"], "similarity": first["evidence"]["problem"][0]["similarity"]}
    assert len(first["evidence"]["method"]) == 3
    assert answers[5] | {"id": "a"} == first  # deterministic


def test_it_runs_as_python_dash_m_discovery(seed_index):
    request = json.dumps({"id": 1, "text": "Large models need much GPU memory. We quantize weights to int8."})
    proc = subprocess.run([sys.executable, "-m", "discovery", "novelty", "--index", str(seed_index)], input=request,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["id"] == 1 and answer["verdict"] and answer["evidence"]["method"]
