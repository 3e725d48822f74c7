"""Benchmark of the streaming corpus readers; one command, each figure beside its baseline.

1. Throughput on ml_papers.jsonl.gz (49,084 papers): read_records (decompress, parse, validate,
   normalise LaTeX/HTML) against the floor, a bare gzip + json.loads loop; count_records against
   a bare newline count.
2. Memory: the peak RSS of a fresh process streaming generated files of growing size (gzipped
   JSON Lines, and a plain JSON array; each holds one 10 MB abstract, which must be skipped
   unread), against the same process importing the package and reading nothing. Constant memory
   means the peak does not grow with the file.

    python -m discovery.bench.corpus                  # 20 MB and 200 MB generated files
    python -m discovery.bench.corpus --sizes-mb 1000  # the 1 GB check (minutes)
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from discovery.settings import PROJECT_ROOT, shared_data_dir


@dataclass
class BenchConfig:
    corpus: str = "ml_papers.jsonl.gz"  # in the shared data folder: the realistic corpus
    sizes_mb: tuple[int, ...] = (20, 200)  # uncompressed sizes of the generated files
    seed: int = 0  # for the generated records' words


def timed(fn) -> tuple[object, float, float]:
    """The result, wall seconds and CPU seconds (the CPU figure is less noisy on a busy machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - start, time.process_time() - cpu


def bare_json_loop(path: Path) -> int:
    with gzip.open(path, "rb") as f:
        return sum(1 for line in f if json.loads(line))


def bare_line_count(path: Path) -> int:
    with gzip.open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def throughput(path: Path) -> None:
    from discovery.corpus import Record, count_records, read_records

    good, ours, ours_cpu = timed(lambda: sum(isinstance(i, Record) for i in read_records(path)))
    floor, bare, bare_cpu = timed(lambda: bare_json_loop(path))
    counted, count_s, count_cpu = timed(lambda: count_records(path))
    lines, lines_s, lines_cpu = timed(lambda: bare_line_count(path))
    print(f"{path.name}: {good:,} records (bare loop: {floor:,} lines)")
    print("                       wall s   CPU s   records/s (wall)")
    print(f"  read_records         {ours:6.2f}  {ours_cpu:6.2f}  {good / ours:9,.0f}")
    print(f"  bare gzip+json.loads {bare:6.2f}  {bare_cpu:6.2f}  {floor / bare:9,.0f}   (floor: no checks, no normalising)")
    print(f"  count_records        {count_s:6.2f}  {count_cpu:6.2f}  -> {counted:,}")
    print(f"  bare newline count   {lines_s:6.2f}  {lines_cpu:6.2f}  -> {lines:,}")


def _words(rng: random.Random, n: int) -> str:
    vocab = ["model", "graph", "attention", "$\\alpha$", "learning", "we", "propose", "the", "&amp;", "<i>data</i>"]
    return " ".join(rng.choice(vocab) for _ in range(n))


def generate(path: Path, size_mb: int, array: bool, seed: int) -> int:
    """A corpus of about size_mb uncompressed megabytes, with one 10 MB abstract in the middle."""
    rng, written, n = random.Random(seed), 0, 0
    with open(path, "wt") if array else gzip.open(path, "wt", compresslevel=1) as f:
        f.write("[\n" if array else "")
        while written < size_mb * 1_000_000:
            huge = n == 1000
            record = {"title": _words(rng, 10), "abstract": "x" * 10_000_000 if huge else _words(rng, 180),
                      "year": 2000 + n % 23, "authors": ["A. Author", "B. Author"], "venue": "NeurIPS"}
            line = ("," if array and n else "") + json.dumps(record) + "\n"
            f.write(line)
            written, n = written + len(line), n + 1
        f.write("]\n" if array else "")
    return n


def child(path: str) -> None:
    """Run in a fresh process: stream the file (or nothing) and print the peak RSS in MiB."""
    from discovery.corpus import read_records

    items = sum(1 for _ in read_records(path)) if path != "-" else 0
    # VmHWM, not getrusage's ru_maxrss: that one keeps the parent's peak across fork + exec.
    status = Path("/proc/self/status").read_text()
    peak_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"items": items, "peak_mib": peak_kib / 1024}))


def peak(path: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "discovery.bench.corpus", "--child", path], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def memory(config: BenchConfig) -> None:
    base = peak("-")
    print(f"\npeak RSS, fresh process: import only {base['peak_mib']:.0f} MiB (baseline)")
    with tempfile.TemporaryDirectory() as tmp:
        for size in config.sizes_mb:
            for array in (False, True):
                path = Path(tmp) / (f"gen{size}.json" if array else f"gen{size}.jsonl.gz")
                n = generate(path, size, array, config.seed)
                result, seconds, _ = timed(lambda p=path: peak(str(p)))
                kind = "JSON array      " if array else "JSON Lines gzip "
                print(f"  {kind} {size:5d} MB, {n:8,} records: peak {result['peak_mib']:5.0f} MiB "
                      f"({result['peak_mib'] - base['peak_mib']:+.0f} over baseline), {result['items']:,} items, "
                      f"{seconds:.1f} s")
                path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=list(BenchConfig.sizes_mb))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    config = BenchConfig(sizes_mb=tuple(args.sizes_mb))
    corpus = shared_data_dir() / config.corpus
    if corpus.exists():
        throughput(corpus)
    else:
        print(f"{corpus} is absent: throughput part skipped")
    memory(config)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (timings are noisy when high)")


if __name__ == "__main__":
    main()
