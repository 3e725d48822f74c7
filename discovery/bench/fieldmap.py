"""Map-of-the-field benchmark: python -m discovery.bench.fieldmap --index var/bench49k/index [--threads 2]
                               python -m discovery.bench.fieldmap --url http://127.0.0.1:8000 [--requests 30]

Prints, in one run: the build time of the four hierarchies (whole paper, problem, method,
findings) and of the gap map (discovery.fieldmap.build, reading excluded), beside a baseline, one
flat k-means per space with as many clusters as the hierarchy's last level (what a labelled
hierarchy costs over plain clustering); label quality; the top under-explored cells.

Label quality: for `--clusters` (30) random clusters of each space and level, the share of the
cluster's papers whose title or abstract contains one of its label's terms, against the share of
the same papers containing a term of another random cluster's label (same space and level). A
label that describes its own cluster scores far above the others'.

With `--url`: the latency of the field map's pages and API on a running site (client wall time,
p50 / p99 of `--requests` sequential requests after a first one), beside today's map points.

Input: an index folder, a site's INDEX_DIR (texts from the site's SQLite database beside it,
`--db`, default INDEX_DIR/../db.sqlite3) or a standalone one (`python -m discovery index build`:
texts from its papers file). While an index is not yet published (`manage.py reindex` still
embedding), `--stored` reads the vectors stored so far in the database instead: the figures
then say how many papers they cover.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from pathlib import Path

import numpy as np

from discovery import ASPECTS, SPACES, fieldmap, hierarchy, labels


def site_texts(db: Path, ids: np.ndarray) -> tuple[dict[str, list[str]], dict[int, str]]:
    """Per space one text per id (title + abstract; an aspect's sentences), and titles."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = {pk: (t, a, json.loads(s or "[]")) for pk, t, a, s in
            con.execute("select id, title, abstract, segmentation from papers_paper")}
    con.close()
    return _texts(ids, rows)


def _texts(ids, rows: dict) -> tuple[dict[str, list[str]], dict[int, str]]:
    texts = {s: [] for s in SPACES}
    for pk in ids.tolist():
        title, abstract, segmentation = rows.get(pk, ("", "", []))
        texts["paper"].append(f"{title}\n{abstract}")
        for aspect in ASPECTS:
            texts[aspect].append(" ".join(s["text"] for s in segmentation if s.get("aspect") == aspect))
    return texts, {pk: rows[pk][0] for pk in ids.tolist() if pk in rows}


def stored_vectors(db: Path) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(ids, vectors per space, years) of every paper the database has vectors for."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    cols = ", ".join(f"v.{s}_vec" for s in SPACES)
    rows = con.execute(f"select v.paper_id, coalesce(p.year, 0), {cols} from papers_papervectors v "
                       "join papers_paper p on p.id = v.paper_id order by v.paper_id").fetchall()
    con.close()
    ids = np.asarray([r[0] for r in rows], np.int64)
    years = np.asarray([r[1] for r in rows], np.int64)
    vectors = {s: np.stack([np.frombuffer(r[2 + k], np.float16) for r in rows]).astype(np.float32)
               for k, s in enumerate(SPACES)} if rows else {}
    return ids, vectors, years


def index_input(root: Path, db: Path | None):
    from discovery.index import IndexSet
    from discovery.standalone import papers_path

    idx = IndexSet.open(root)
    ids = idx.ids.copy()
    vectors = {s: idx.reconstruct(s, ids) for s in SPACES}
    path = papers_path(root, idx.version)
    if path.exists():
        with open(path) as f:
            rows = {r["iid"]: (r["title"], "", r["segmentation"]) for r in map(json.loads, f)}
        for pk, (title, _, seg) in rows.items():  # the papers file has no abstract: its sentences are it
            rows[pk] = (title, " ".join(s["text"] for s in seg), seg)
        texts, titles = _texts(ids, rows)
    else:
        texts, titles = site_texts(db, ids)
    return ids, vectors, idx.meta.year.astype(np.int64), texts, titles, f"index version {idx.version}"


def flat_baseline(vectors: dict[str, np.ndarray], k: int, cfg: hierarchy.HierarchyConfig) -> float:
    start = time.perf_counter()
    for x in vectors.values():
        hierarchy.kmeans(hierarchy.normalised(x), min(k, len(x)), cfg)
    return time.perf_counter() - start


def label_quality(built: fieldmap.FieldMap, texts: list[str], n: int, seed: int) -> list[tuple]:
    """(space, level, clusters sampled, own label coverage, other labels' coverage) rows."""
    rng = np.random.default_rng(seed)
    terms = [labels.paper_terms(t) for t in texts]  # once: a level-1 cluster holds thousands of papers
    out = []
    for space, h in built.hierarchies.items():
        for level, clusters in enumerate(h.levels, start=1):
            real = [c for c in clusters if c.label]
            if len(real) < 2:
                continue
            picked = rng.choice(len(real), min(n, len(real)), replace=False)
            own, other = [], []
            for i in picked:
                j = (i + 1 + rng.integers(len(real) - 1)) % len(real)  # any other cluster
                own.append(labels.label_coverage(real[i].label, [terms[r] for r in real[i].rows]))
                other.append(labels.label_coverage(real[j].label, [terms[r] for r in real[i].rows]))
            out.append((space, level, len(picked), float(np.mean(own)), float(np.mean(other))))
    return out


def print_gaps(built: fieldmap.FieldMap, titles: dict[int, str], top: int) -> None:
    clusters = {s: {c.id: c for level in h.levels for c in level} for s, h in built.hierarchies.items()}
    for level in built.gap_levels:
        print(f"\nunder-explored cells, level {level['level']} ({len(level['problem'])} problem x "
              f"{len(level['method'])} method families):")
        for rank, g in enumerate(level["under_explored"][:top], start=1):
            p, m = clusters["problem"][g["problem"]], clusters["method"][g["method"]]
            print(f"{rank}. problem {g['problem']} [{', '.join(p.label)}] ({p.size}) x method {g['method']} "
                  f"[{', '.join(m.label)}] ({m.size}): {g['observed']} papers, {g['expected']} expected, score {g['score']}")
            for pid in g["nearest"][:3]:
                print(f"     - {titles.get(int(pid), pid)}")


URLS = ["/map/points/method.json", "/map/?space=method", "/api/map?space=method&level=1",
        "/api/map?space=method&level=2", "/api/gaps?level=1", "/api/gaps?level=2", "/map/gaps/?level=1",
        "/map/gaps/?level=2", "/map/clusters/method.json", "/map/clusters/method/3.json",
        "/map/clusters/method/3.2.json"]


def latency(base: str, requests: int) -> None:
    import urllib.request

    print(f"load average {os.getloadavg()[0]:.2f}; {requests} requests per URL after a first one")
    for path in URLS:
        times = []
        for _ in range(requests + 1):
            start = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip"})) as r:
                size = len(r.read())
            times.append((time.perf_counter() - start) * 1000)
        first, rest = times[0], sorted(times[1:])
        print(f"{path:34s} first {first:7.1f}  p50 {rest[len(rest) // 2]:7.1f}  p99 {rest[int(0.99 * (len(rest) - 1))]:7.1f} ms"
              f"  {size / 1000:7.1f} kB")
    print(f"load average {os.getloadavg()[0]:.2f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path)
    ap.add_argument("--url", help="a running site: measure page and API latency instead")
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--db", type=Path, help="the site's SQLite database (default: beside the index folder)")
    ap.add_argument("--stored", action="store_true", help="the vectors stored so far in --db, not the index")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clusters", type=int, default=30, help="random clusters per space and level for label quality")
    ap.add_argument("--top", type=int, default=5, help="under-explored cells printed per level")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.url:
        return latency(args.url.rstrip("/"), args.requests)
    if not args.index:
        ap.error("--index or --url is required")

    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(args.threads)
    db = args.db or args.index.resolve().parent / "db.sqlite3"
    start = time.perf_counter()
    if args.stored:
        ids, vectors, years = stored_vectors(db)
        texts, titles = site_texts(db, ids)
        source = f"vectors stored so far in {db}"
    else:
        ids, vectors, years, texts, titles, source = index_input(args.index, db)
    read_s = time.perf_counter() - start
    print(f"{len(ids)} papers ({source}); read in {read_s:.1f} s; {args.threads} threads; "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    cfg = fieldmap.FieldMapConfig()
    with threadpool_limits(limits=args.threads):
        start = time.perf_counter()
        built = fieldmap.build(ids, vectors, years, texts, cfg)
        build_s = time.perf_counter() - start
        leaves = len(built.hierarchies["paper"].levels[-1])
        flat_s = flat_baseline(vectors, leaves, cfg.hierarchy)
    sizes = {s: [len(level) for level in h.levels] for s, h in built.hierarchies.items()}
    print(f"field map (4 hierarchies + gap map): {build_s:.1f} s   [target <= 120 s]")
    print(f"  per part (s): {built.timings}")
    print(f"  clusters per level: {sizes}")
    print(f"baseline, one flat k-means per space with {leaves} clusters, unlabelled: {flat_s:.1f} s")
    print(f"stored size: JSON {len(json.dumps(built.to_json())) / 1e6:.2f} MB, arrays {len(built.arrays_bytes()) / 1e6:.2f} MB")
    print("\nlabel quality: share of a cluster's papers whose title or abstract has a term of")
    print(f"{'space':10s} {'level':>5s} {'clusters':>8s} {'its label':>10s} {'another':>8s}")
    for space, level, n, own, other in label_quality(built, texts["paper"], args.clusters, args.seed):
        print(f"{space:10s} {level:5d} {n:8d} {own:10.3f} {other:8.3f}")
    print_gaps(built, titles, args.top)


if __name__ == "__main__":
    main()
