"""Bounded fuzzing of every corpus reader, for the fault checks of issue 15: each reader (each
format given explicitly, and format detection) is fed mutated files, read the way the import
service reads them (count, then read every item), and any exception but FormatError is a crash.

Two engines. With atheris installed (`pip install atheris`), each reader runs in its own
process under libFuzzer with coverage guidance (atheris.instrument_all), seeded with the
fixture files. Without it, a deterministic mutation loop (a seeded random.Random: bit flips,
interesting bytes and tokens of every format, deleted, repeated and spliced spans, truncation,
gzip / bzip2 / xz wrapping) runs over the same seeds. Both are bounded by seconds and by a count
of inputs; crashing inputs are saved for replay.

    python -m discovery.corpus.fuzz --seconds 30 [--runs N] [--engine auto|atheris|mutate]

prints, per reader: inputs tried, crashes, the slowest input's time.
"""
from __future__ import annotations

import argparse
import bz2
import gzip
import hashlib
import json
import logging
import lzma
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from discovery.corpus.readers import FORMATS, count_records, read_records
from discovery.corpus.records import FormatError, Record, RecordError

READERS = ("detect",) + FORMATS  # 'detect': the format is sniffed, as for an upload without one
SEEDS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "corpus"
MAX_INPUT = 64 * 1024  # bytes; bigger hostile files are discovery.corpus.hostile's part
TOKENS = [
    b'"', b'""', b"{", b"}", b"[", b"]", b"\n", b"\r\n", b"\r", b"\x00", b"\t", b",", b";", b"|", b":", b"\\",
    b"@article{", b"@string{", b"@comment{", b"#", b"TY  - ", b"ER  - ", b"AB  - ", b"\xef\xbb\xbf", b"\xff\xfe",
    b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b'{"title": ', b'"abstract_inverted_index": {"a": [99999999999]}',
    b'"authors_parsed": [[', b"title,abstract\n", b"&amp;", b"&#x110000;", b"<script>", b"$\\frac{", b"\\'{",
    "\u202e".encode(), "\u00e9".encode("latin-1"), b"\xc3", b"\xed\xa0\x80", b"1e999999", b"9" * 5000, b"-0",
]
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, ord('"'), ord("{"), ord("}"), ord("\n"), ord("\r"), ord(","), ord("@")]


@dataclass
class Stats:
    reader: str
    inputs: int = 0
    crashes: int = 0
    max_seconds: float = 0.0
    first_crash: str = ""  # the first crash's exception and where its input was saved
    engine: str = "mutate"
    notes: list[str] = field(default_factory=list)


def exercise(path: Path, reader: str) -> None:
    """Read `path` as the import service does; FormatError is an answer, anything else a crash."""
    fmt = None if reader == "detect" else reader
    try:
        count_records(path, fmt)
        for item in read_records(path, fmt):
            if not isinstance(item, (Record, RecordError)):
                raise TypeError(f"a reader yielded a {type(item).__name__}")
    except FormatError:
        pass


def run_one(data: bytes, path: Path, reader: str, stats: Stats, crashes: Path) -> None:
    """One input: time it, count it, save it when it crashes."""
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        exercise(path, reader)
    except Exception as exc:  # noqa: BLE001 (any exception is what the fuzzer looks for)
        stats.crashes += 1
        saved = crashes / f"{reader}-{hashlib.sha1(data).hexdigest()[:12]}"
        saved.write_bytes(data)
        if not stats.first_crash:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            stats.first_crash = f"{type(exc).__name__}: {exc} at {Path(where.filename).name}:{where.lineno}; input {saved}"
    stats.inputs += 1
    seconds = time.perf_counter() - start
    if seconds > stats.max_seconds:
        stats.max_seconds = seconds
        (crashes / f"slowest-{reader}").write_bytes(data)  # to replay the slowest input


# ---- the mutation engine --------------------------------------------------------------------

def _span(rng: random.Random, data: bytes) -> tuple[int, int]:
    start = rng.randrange(len(data) + 1)
    return start, min(len(data), start + rng.choice((1, 2, 4, 8, 64, 512, 4096)))


def mutate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """One to eight random edits of `data`."""
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(8)
        start, end = _span(rng, data)
        if op == 0 and data:
            i = rng.randrange(len(data))
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif op == 1 and data:
            i = rng.randrange(len(data))
            data = data[:i] + bytes([rng.choice(INTERESTING)]) + data[i + 1:]
        elif op == 2:
            data = data[:start] + rng.choice(TOKENS) * rng.choice((1, 1, 2, 50, 1000)) + data[start:]
        elif op == 3:
            data = data[:start] + data[end:]
        elif op == 4:
            data = data[:end] + data[start:end] * rng.choice((1, 2, 10, 100)) + data[end:]
        elif op == 5:
            other = rng.choice(seeds)
            data = data[:start] + other[rng.randrange(len(other) + 1):]
        elif op == 6:
            data = data[:start]
        else:
            data = data.replace(b"\n", rng.choice((b"\r\n", b"\r", b"\n\n", b"\n")))
    return data[:MAX_INPUT]


def wrap(rng: random.Random, data: bytes) -> bytes:
    """Compressed one time in eight (and then cut one time in two)."""
    if rng.random() >= 1 / 8:
        return data
    packed = rng.choice((gzip.compress, bz2.compress, lzma.compress))(data)
    return packed[: rng.randrange(len(packed) + 1)] if rng.random() < 0.5 else packed


def fuzz_mutate(reader: str, seconds: float, runs: int, seed: int, seeds: list[bytes], crashes: Path) -> Stats:
    rng = random.Random(f"{seed}:{reader}")
    stats = Stats(reader)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        path = Path(folder) / "input"
        for data in seeds:  # the seeds as they are first
            run_one(data, path, reader, stats, crashes)
        deadline = time.monotonic() + seconds
        while stats.inputs < runs and time.monotonic() < deadline:
            run_one(wrap(rng, mutate(rng, rng.choice(seeds), seeds)), path, reader, stats, crashes)
    return stats


# ---- the atheris engine ---------------------------------------------------------------------

# The child process: the readers are imported under atheris's instrumentation (coverage for
# libFuzzer), so this runs before anything of discovery.corpus is imported.
_WORKER = """
import sys, atheris
from pathlib import Path
with atheris.instrument_imports(include=["discovery.corpus"]):
    from discovery.corpus import fuzz
reader, seconds, runs, seed_dir, stats_file, crashes = sys.argv[1:]
fuzz.atheris_worker(reader, float(seconds), int(runs), Path(seed_dir), Path(stats_file), Path(crashes))
"""


def atheris_worker(reader: str, seconds: float, runs: int, seed_dir: Path, stats_file: Path, crashes: Path) -> None:
    """libFuzzer over one reader, in the child process; the stats are written to stats_file
    every half second, since libFuzzer ends the process without running Python's exit hooks."""
    import atheris

    stats, last = Stats(reader, engine="atheris"), [0.0]
    path = Path(tempfile.mkdtemp(prefix="fuzz-")) / "input"

    def one(data: bytes) -> None:
        run_one(data[:MAX_INPUT], path, reader, stats, crashes)
        if time.monotonic() - last[0] > 0.5:
            stats_file.write_text(json.dumps(asdict(stats)))
            last[0] = time.monotonic()

    atheris.Setup([sys.argv[0], f"-max_total_time={max(1, int(seconds))}", f"-runs={runs}", f"-max_len={MAX_INPUT}",
                   "-timeout=30", f"-seed={1 + zlib.crc32(reader.encode()) % 1000}", "-print_final_stats=0", str(seed_dir)], one)
    atheris.Fuzz()


def fuzz_atheris(reader: str, seconds: float, runs: int, seeds: Path, crashes: Path) -> Stats:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        seed_dir, stats_file = Path(folder) / "corpus", Path(folder) / "stats.json"
        shutil.copytree(seeds, seed_dir)
        command = [sys.executable, "-c", _WORKER, reader, str(seconds), str(runs), str(seed_dir), str(stats_file),
                   str(crashes)]
        root = str(Path(__file__).resolve().parents[2])  # the child imports discovery from here, whatever the cwd
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False, env=env)
        stats = Stats(reader, engine="atheris")
        if stats_file.exists():
            stats = Stats(**json.loads(stats_file.read_text()))
    ran = [line for line in done.stderr.splitlines() if line.startswith("Done ")]
    if ran:
        stats.inputs = max(stats.inputs, int(ran[-1].split()[1]))
    if done.returncode != 0:  # libFuzzer stopped on a timeout, a memory limit or a crash outside the reader
        stats.crashes += 1
        stats.notes.append(f"libFuzzer exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return stats


def atheris_available() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m discovery.corpus.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="in all, shared by the readers")
    parser.add_argument("--runs", type=int, default=1_000_000, help="inputs per reader at most")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=("auto", "atheris", "mutate"), default="auto")
    parser.add_argument("--readers", default=",".join(READERS), help="comma-separated, of: " + ", ".join(READERS))
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="a folder of seed files")
    parser.add_argument("--crashes", type=Path, default=None, help="where crashing inputs are saved")
    args = parser.parse_args(argv)
    logging.getLogger("discovery.corpus").setLevel(logging.ERROR)  # a warning per Latin-1 input is noise here
    crashes = args.crashes or Path(tempfile.mkdtemp(prefix="fuzz-crashes-"))
    crashes.mkdir(parents=True, exist_ok=True)
    readers = [r for r in args.readers.split(",") if r]
    unknown = sorted(set(readers) - set(READERS))
    if unknown:
        parser.error(f"unknown readers {', '.join(unknown)} (known: {', '.join(READERS)})")
    engine = "atheris" if args.engine == "atheris" or (args.engine == "auto" and atheris_available()) else "mutate"
    seeds = [p.read_bytes() for p in sorted(args.seeds.iterdir()) if p.is_file()]
    per_reader = args.seconds / len(readers)
    print(f"engine {engine}, {len(seeds)} seed files, {per_reader:.1f} s per reader, crashing inputs to {crashes}")
    print(f"{'reader':10} {'inputs':>9} {'crashes':>8} {'max s/input':>12}")
    total = Stats("all", engine=engine)
    for reader in readers:
        if engine == "atheris":
            stats = fuzz_atheris(reader, per_reader, args.runs, args.seeds, crashes)
        else:
            stats = fuzz_mutate(reader, per_reader, args.runs, args.seed, seeds, crashes)
        total.inputs, total.crashes = total.inputs + stats.inputs, total.crashes + stats.crashes
        total.max_seconds = max(total.max_seconds, stats.max_seconds)
        print(f"{reader:10} {stats.inputs:9,} {stats.crashes:8} {stats.max_seconds:12.3f}  {stats.first_crash}"
              + "".join(f" {n}" for n in stats.notes))
    print(f"{'all':10} {total.inputs:9,} {total.crashes:8} {total.max_seconds:12.3f}")
    return 1 if total.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
