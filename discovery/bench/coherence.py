"""The coherence filter of generated ideas (discovery.coherence) on its labelled set: per kind of
idea, the range of both cosines, the reasons given, and the gaps the thresholds sit in.

    python -m discovery.bench.coherence [--data tests/discovery/data/idea_coherence.json]
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "tests" / "discovery" / "data" / "idea_coherence.json"


def judged(data: dict) -> list[tuple[dict, object]]:
    from discovery.coherence import Coherence

    out = []
    for group in data["groups"]:
        judge = Coherence(group["problem"], [group["inspiration"]])
        out += [(idea, judge.judge(idea["problem"], idea["method"], idea["findings"], [0])) for idea in group["ideas"]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT), help="labelled ideas (the format of the default file)")
    args = ap.parse_args(argv)
    from discovery import settings
    from discovery.coherence import CoherenceConfig

    settings.models_offline()
    rows = judged(json.loads(Path(args.data).read_text()))
    kinds = defaultdict(list)
    for idea, verdict in rows:
        kinds[(idea["label"], idea["kind"])].append(verdict)
    print(f"{'label':<6}{'kind':<34}{'n':>3}{'problem cos':>16}{'method cos':>16}  reasons")
    for (label, kind), vs in sorted(kinds.items()):
        p = [v.problem_sim for v in vs]
        m = [v.method_sim for v in vs]
        reasons = sorted({str(v.reason) for v in vs})
        print(f"{label:<6}{kind:<34}{len(vs):>3}{min(p):>8.3f}-{max(p):.3f}{min(m):>9.3f}-{max(m):.3f}  {', '.join(reasons)}")
    cfg = CoherenceConfig()
    good = [v for i, v in rows if i["label"] == "good"]
    bad = [v for i, v in rows if i["label"] == "bad"]
    print(f"\nthresholds: problem >= {cfg.problem_min}, method >= {cfg.method_min}; "
          f"good kept {sum(v.reason is None for v in good)}/{len(good)}, "
          f"bad rejected {sum(v.reason is not None for v in bad)}/{len(bad)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
