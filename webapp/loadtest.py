"""Load test of search: a fixed number of searches from concurrent clients against a running
site, printing p50 / p99 latency as the client saw it and as the server measured it (its
`Server-Timing` header: `app` = the whole view, `search` = the ideation-space search inside it),
and the errors. Beside it, the same figures for `/healthz` (a request through the same stack that
does no search) as the baseline: the difference is what search costs.

    python -m webapp.loadtest --url http://127.0.0.1:8000 --requests 1000 --concurrency 4

The site must be running with search rate limits lifted for the test (RATE_LIMITS in settings;
a 429 is counted as an error and reported). Standard library only."""
from __future__ import annotations

import argparse
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

# Fixed queries, so two runs load the site the same way (ML / NLP / CV topics of the 49k corpus).
QUERIES = [
    "graph neural networks for molecules", "contrastive self-supervised learning of visual representations",
    "reinforcement learning with sparse rewards", "transformer language models for long documents",
    "adversarial robustness of image classifiers", "bayesian optimization of hyperparameters",
    "neural machine translation low resource", "variational autoencoders disentanglement",
    "federated learning privacy", "object detection in real time", "knowledge distillation compression",
    "meta learning few shot classification", "causal inference from observational data",
    "question answering over knowledge bases", "diffusion models image generation",
    "speech recognition end to end", "graph clustering spectral methods", "sparse attention efficiency",
    "domain adaptation unsupervised", "explainability of deep networks saliency",
    "multi-agent reinforcement learning cooperation", "optimal transport for generative models",
    "pruning neural networks lottery ticket", "semantic segmentation medical images",
    "recommendation systems collaborative filtering", "continual learning catastrophic forgetting",
    "gaussian processes scalable inference", "text summarization abstractive", "point cloud 3d recognition",
    "differential privacy stochastic gradient descent",
]
ASPECTS = ("all", "problem", "method", "findings")
_TIMING = re.compile(r"(\w+);dur=([\d.]+)")


@dataclass
class Sample:
    client_ms: float
    status: int
    server: dict[str, float] = field(default_factory=dict)


def fetch(url: str, timeout: float) -> Sample:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status, header = response.status, response.headers.get("Server-Timing", "")
    except urllib.error.HTTPError as exc:
        status, header = exc.code, ""
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        status, header = 0, ""
    elapsed = (time.perf_counter() - start) * 1000
    return Sample(elapsed, status, {k: float(v) for k, v in _TIMING.findall(header)})


def search_urls(base: str, n: int, endpoint: str) -> list[str]:
    path = "/api/search" if endpoint == "api" else "/"
    return [f"{base}{path}?" + urllib.parse.urlencode({"q": QUERIES[i % len(QUERIES)],
                                                      "aspect": ASPECTS[(i // len(QUERIES)) % len(ASPECTS)]})
            for i in range(n)]


def run(urls: list[str], concurrency: int, timeout: float) -> tuple[list[Sample], float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        samples = list(pool.map(lambda u: fetch(u, timeout), urls))
    return samples, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary(samples: list[Sample], seconds: float) -> dict[str, str]:
    ok = [s for s in samples if s.status == 200]
    errors = len(samples) - len(ok)
    codes = sorted({s.status for s in samples if s.status != 200})

    def pair(values):
        return f"{percentile(values, 50):7.1f} / {percentile(values, 99):7.1f}" if values else "      - /       -"
    return {
        "requests": str(len(samples)),
        "errors": f"{errors}" + (f" (status {', '.join(map(str, codes))})" if errors else ""),
        "throughput (req/s)": f"{len(samples) / seconds:.1f}",
        "client ms p50 / p99": pair([s.client_ms for s in ok]),
        "server app ms p50 / p99": pair([s.server["app"] for s in ok if "app" in s.server]),
        "server search ms p50 / p99": pair([s.server["search"] for s in ok if "search" in s.server]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running site")
    parser.add_argument("--requests", type=int, default=1000, help="searches in the timed run")
    parser.add_argument("--concurrency", type=int, default=4, help="clients at once")
    parser.add_argument("--endpoint", choices=("api", "html"), default="api", help="JSON API or the search page")
    parser.add_argument("--warmup", type=int, default=20, help="untimed searches first (model load, caches)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--target-ms", type=float, default=50.0, help="target p50 server (app) time")
    args = parser.parse_args()
    base = args.url.rstrip("/")

    run(search_urls(base, args.warmup, args.endpoint), 1, args.timeout)
    baseline, base_s = run([f"{base}/healthz"] * args.requests, args.concurrency, args.timeout)
    searches, search_s = run(search_urls(base, args.requests, args.endpoint), args.concurrency, args.timeout)

    rows, left = summary(searches, search_s), summary(baseline, base_s)
    print(f"{args.requests} requests, {args.concurrency} concurrent, against {base} ({args.endpoint} search)")
    print(f"{'':28} {'search':>20} {'baseline /healthz':>20}")
    for key, value in rows.items():
        print(f"{key:28} {value:>20} {left[key]:>20}")
    app = [s.server["app"] for s in searches if s.status == 200 and "app" in s.server]
    p50 = percentile(app, 50)
    errors = sum(s.status != 200 for s in searches)
    verdict = "met" if app and p50 <= args.target_ms and errors == 0 else "NOT met"
    print(f"target p50 server time <= {args.target_ms:.0f} ms with 0 errors: {verdict} "
          f"(p50 {p50:.1f} ms, {errors} errors)")


if __name__ == "__main__":
    main()
