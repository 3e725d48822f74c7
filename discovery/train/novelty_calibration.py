"""Calibrate the novelty scorer's p(not novel) on the dev half of novelty_dev.

    python -m discovery.train.novelty_calibration [--save]

Platt scaling fitted on the scorer's synthetic dev split (discovery.train.novelty) does not
transfer: on novelty_dev the synthetic copies' near-certain separations become ideas a reviewer
finds hard, and the shipped probabilities were over-confident (ECE 0.154; ideas given 3% were
not novel 12% of the time). The ranking is left as trained; only the two Platt parameters
(p = sigmoid(a * logit + b)) are refitted here, on the non-combination ideas of novelty_dev's dev
half (the same hash split the bench prints; combination labels are noisy, see its README), both
domains pooled. The test half's reliability table in `python -m discovery.bench.novelty_dev` is
then the honest calibration figure. The fit is deterministic (lbfgs from zero).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from discovery import novelty_scorer as ns
from discovery.bench.novelty_dev import judge_rows, load, reliability
from discovery.settings import PROJECT_ROOT, shared_data_dir


def platt(logits: np.ndarray, not_novel: np.ndarray) -> tuple[float, float]:
    """(a, b) of p = sigmoid(a * logit + b), maximum likelihood, nearly unregularised."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logits[:, None], not_novel)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", type=Path, default=ns.WEIGHTS)
    ap.add_argument("--save", action="store_true", help="write the refitted Platt parameters into --weights")
    args = ap.parse_args(argv)
    rows = load(shared_data_dir() / "novelty_dev")
    model = ns.load(args.weights)
    judged, _ = judge_rows(rows, model)
    logits = np.array([model.logit(j.features) for j in judged])
    not_novel = np.array([1 - r["novel"] for r in rows])
    usable = np.array([r["type"] != "combination" for r in rows])
    dev = usable & np.array([r["half"] == "dev" for r in rows])
    test = usable & ~dev
    a, b = platt(logits[dev], not_novel[dev])
    print(f"Platt parameters: shipped a={model.platt[0]:.3f} b={model.platt[1]:.3f}; refitted on {int(dev.sum())} "
          f"dev-half ideas a={a:.3f} b={b:.3f}")
    for name, (pa, pb) in (("shipped", model.platt), ("refitted", (a, b))):
        p = 1 / (1 + np.exp(-(pa * logits + pb)))
        for half, sel in (("dev", dev), ("test", test)):
            print(f"\n{name}, {half} half ({int(sel.sum())} ideas):")
            reliability(p[sel], not_novel[sel])
    if args.save:
        model.platt = (a, b)
        model.meta = model.meta | {"platt": "novelty_dev dev half, non-combination ideas",
                                   "platt_command": "python -m discovery.train.novelty_calibration --save"}
        model.save(args.weights)
        ns.load.cache_clear()
        print(f"saved {Path(args.weights).resolve().relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
