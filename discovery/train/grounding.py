"""Calibrate the grounding thresholds (discovery/grounding.py) on labelled claims.

    python -m discovery.train.grounding [--save]

The claims (`discovery/weights/grounding_claims.jsonl`) were written by hand about papers of the
demo corpus (webapp/papers/demo/seed_papers.txt, CC0): paraphrases of what a paper says
(supported), and claims it does not make: invented facts and contradictions. Every supported
claim is also paired with each *other* paper of its topic group, as a wrong citation (the
commonest LLM error: a true sentence about paper 2 cited as [1]). Papers alternate between a dev
and a test half; a threshold is the lowest on the dev half at which no unsupported claim passes
(precision first: a false sentence saved is worse than a true one dropped; see MAX_FALSE_PASS), and both halves are
reported per kind of claim.
"""
from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from discovery import grounding

CLAIMS = grounding.WEIGHTS.parent / "grounding_claims.jsonl"
SEED = Path(__file__).resolve().parents[2] / "webapp" / "papers" / "demo" / "seed_papers.txt"
# Not 0: some "wrong paper" pairs are two papers that say the same thing (Wanda and MoE-Pruner
# both prune by weight magnitude times activation), so zero would throw out most true sentences.
MAX_FALSE_PASS = 0.025
GRID = np.round(np.arange(0.30, 0.90, 0.01), 2)


def seed_papers() -> dict[str, list[str]]:
    lines = [ln.strip() for ln in SEED.read_text().splitlines() if ln.strip()]
    return {t: grounding.split(a) for t, a in zip(lines[::2], lines[1::2])}


def examples() -> list[dict]:
    """Each: claim, label, kind, half, sources ({n: Source}) for the cited and uncited readings."""
    papers = seed_papers()
    claims = [json.loads(ln) for ln in CLAIMS.read_text().splitlines() if ln.strip()]
    order = list(dict.fromkeys(c["paper"] for c in claims))
    half = {p: ("dev", "test")[i % 2] for i, p in enumerate(order)}
    group_papers = defaultdict(list)
    for c in claims:
        if c["paper"] not in group_papers[c["group"]]:
            group_papers[c["group"]].append(c["paper"])
    out = []
    for c in claims:
        n = int(re.search(r"\[(\d+)\]", c["claim"]).group(1))
        evidence = {i + 1: grounding.Source(p, papers[p]) for i, p in enumerate(group_papers[c["group"]])}
        base = {"claim": c["claim"], "half": half[c["paper"]], "evidence": evidence}
        out.append(base | {"label": c["label"], "kind": c["kind"], "cited": {n: grounding.Source(c["paper"], papers[c["paper"]])}})
        if c["label"]:
            for other in group_papers[c["group"]]:
                if other != c["paper"]:
                    out.append(base | {"label": 0, "kind": "wrong_paper", "uncited": False,
                                       "cited": {n: grounding.Source(other, papers[other])}})
    return out


def cached_encode():
    """encoder.encode with a memory: the same few hundred sentences recur in every check."""
    from discovery import encoder

    memo: dict[str, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            memo.update(zip(missing, encoder.encode(missing)))
        return np.stack([memo[t] for t in texts])
    return encode


def scores(rows: list[dict]) -> None:
    """Adds each row's cited support and uncited support (claim without its [n]), and whether
    the other checks (specifics, negation, titles) already reject it."""
    loose, encode = grounding.Thresholds(cited=-1.0, uncited=-1.0), cached_encode()
    for r in rows:
        c = grounding.check(r["claim"], r["cited"], "", "", loose, encode)[0]
        r["support"], r["other_fail"] = c.support, bool(c.reasons)
        plain = grounding.strip_citations(r["claim"])
        u = grounding.check(plain, r["evidence"], "", "", loose, encode)[0]
        r["u_support"], r["u_other_fail"] = u.support, bool(u.reasons)


def passes(rows, key: str, fail_key: str, t: float) -> np.ndarray:
    return np.array([r[key] >= t and not r[fail_key] for r in rows])


def pick(rows: list[dict], key: str, fail_key: str) -> float:
    """The lowest threshold at which at most MAX_FALSE_PASS of the unsupported dev rows pass."""
    bad = [r for r in rows if r["half"] == "dev" and not r["label"]]
    for t in GRID:
        if passes(bad, key, fail_key, t).mean() <= MAX_FALSE_PASS:
            return float(t)
    return float(GRID[-1])


def report(rows: list[dict], key: str, fail_key: str, t: float, title: str) -> None:
    print(f"\n{title} at threshold {t:.2f} (share passing; supported should pass, the rest should not)")
    kinds = sorted({r["kind"] for r in rows})
    print(f"{'kind':<14}" + "".join(f"{h:>14}" for h in ("dev", "test")))
    for kind in kinds:
        cells = []
        for h in ("dev", "test"):
            sel = [r for r in rows if r["kind"] == kind and r["half"] == h]
            cells.append(f"{passes(sel, key, fail_key, t).mean():.2f} ({len(sel)})" if sel else "-")
        print(f"{kind:<14}" + "".join(f"{c:>14}" for c in cells))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--save", action="store_true", help=f"write the thresholds to {grounding.WEIGHTS}")
    args = ap.parse_args(argv)
    rows = examples()
    scores(rows)
    cited = pick(rows, "support", "other_fail")
    uncited_rows = [r for r in rows if r["kind"] != "wrong_paper"]  # a true claim of any evidence paper is fine uncited
    # an uncited sentence is no more trustworthy than a cited one; its dev half has only 16
    # unsupported rows, too few to set a lower bar on its own
    uncited = max(pick(uncited_rows, "u_support", "u_other_fail"), cited)
    report(rows, "support", "other_fail", cited, "Sentences that cite [n], against paper n")
    report(uncited_rows, "u_support", "u_other_fail", uncited, "The same sentences without a citation, against all evidence")
    sup = np.array([r["support"] for r in rows if r["label"]])
    neg = np.array([r["support"] for r in rows if not r["label"]])
    print(f"\ncited support cosine: supported mean {sup.mean():.3f}, unsupported mean {neg.mean():.3f}")
    if args.save:
        grounding.WEIGHTS.write_text(json.dumps({"cited": cited, "uncited": uncited, "claims": len(rows),
                                                 "command": "python -m discovery.train.grounding --save"}, indent=1) + "\n")
        print(f"saved {grounding.WEIGHTS}")


if __name__ == "__main__":
    main()
