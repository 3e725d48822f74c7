"""Hostile import files, written on demand, and what the readers must do with each: the reader
half of the fault checks (issue 15: truncated and bomb compressed streams, broken encodings,
huge lines and fields, deep nesting, broken quoting and braces, floods of blank lines...).

Each case writes one file and names what reading it must give: how many good records are kept
and a piece of the error that says what went wrong and where; or, for a file that is not a
corpus at all, a piece of the FormatError. `run_case` reads it the way the import service does
(detect the format, count for the progress bar, read) and measures time and peak memory.

    python -m discovery.corpus.hostile [folder]     # the table: case, outcome, seconds, peak MB (big cases)
"""
from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random
import re
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from discovery.corpus.detect import detect_format
from discovery.corpus.readers import count_records, read_records
from discovery.corpus.records import FINGERPRINT_MAX_CHARS, FormatError, Record, RecordError, fingerprint

MB = 1 << 20
GOOD = 5  # good records written before (and often after) the hostile part


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    write: Callable[[Path], None]
    kept: int | range | None  # good records that must be read; None: the file is rejected (FormatError)
    message: str = ""  # a regular expression one error ('location: reason') or the FormatError must match
    check: Callable[[list[Record]], bool] | None = None  # more to check on the records
    fmt: str | None = None  # the format the uploader chose; None: detected
    big: bool = False  # tens of megabytes or more once decompressed: memory is what to watch


@dataclass
class Outcome:
    case: Case
    kept: int
    errors: int
    message: str  # the FormatError, or the per-record error that matched (else the first one)
    seconds: float
    peak_mb: float
    checked: bool = True  # the case's extra check held

    @property
    def passed(self) -> bool:
        expected = self.case.kept
        if expected is None:
            kept = self.errors == -1
        else:
            kept = self.errors >= 0 and self.kept in (expected if isinstance(expected, range) else (expected,))
        return kept and self.checked and bool(re.search(self.case.message, self.message))


# ---- content --------------------------------------------------------------------------------

def jsonl(n: int = GOOD, start: int = 0) -> bytes:
    return "".join(json.dumps({"title": f"Good paper {start + i}", "abstract": f"Abstract {start + i}."}) + "\n"
                   for i in range(n)).encode()


def csv_rows(n: int = GOOD, start: int = 0) -> str:
    return "".join(f"Good paper {start + i},Abstract {start + i}.\n" for i in range(n))


def bibtex(n: int = GOOD, start: int = 0) -> str:
    return "".join(f"@article{{k{start + i},\n  title = {{Good paper {start + i}}},\n  abstract = {{A.}}\n}}\n\n"
                   for i in range(n))


def ris(n: int = GOOD, start: int = 0, end: bool = True) -> str:
    closing = "ER  - \n" if end else ""
    return "".join(f"TY  - JOUR\nTI  - Good paper {start + i}\nAB  - A.\n{closing}\n" for i in range(n))


def text_pairs(n: int = GOOD, start: int = 0) -> str:
    return "".join(f"Good paper {start + i}\nAbstract {start + i}.\n\n" for i in range(n))


def _put(make: Callable[[], bytes | str]) -> Callable[[Path], None]:
    """A writer of the content `make` builds (built when the case runs, not at import)."""
    def write(path: Path) -> None:
        data = make()
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return write


def _pieces(*parts: bytes | Callable[[], Iterator[bytes]]) -> Callable[[Path], None]:
    """A writer of parts in order; a callable part yields pieces (a big file is never held whole)."""
    def write(path: Path) -> None:
        with open(path, "wb") as f:
            for part in parts:
                f.writelines([part] if isinstance(part, bytes) else part())
    return write


def _repeat(piece: bytes, times: int) -> Callable[[], Iterator[bytes]]:
    return lambda: (piece for _ in range(times))


def _bomb(head: bytes, filler: bytes, size: int, codec=gzip) -> Callable[[Path], None]:
    """A writer of `head`, then `size` bytes of `filler` (1 MB of it compressed once, the member
    repeated): a file of about size / 1,000 bytes that decompresses to over `size`."""
    def write(path: Path) -> None:
        member = codec.compress(filler * (MB // len(filler)))
        with open(path, "wb") as f:
            f.write(codec.compress(head))
            f.writelines(member for _ in range(size // MB))
    return write


def _cut(compress: Callable[[bytes], bytes], make: Callable[[], bytes]) -> Callable[[Path], None]:
    def half() -> bytes:
        whole = compress(make())
        return whole[: len(whole) // 2]
    return _put(half)


def _array(records: bytes) -> bytes:
    """JSON Lines records as the items of an unclosed JSON array, each followed by a comma."""
    return records.replace(b"\n", b",")


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _wide_json() -> bytes:
    record = {"title": "Wide paper", "abstract": "It has many fields."} | {f"f{i}": i for i in range(100_000)}
    return jsonl() + json.dumps(record).encode() + b"\n"


def _wide_csv() -> str:
    header = "title,abstract," + ",".join(f"c{i}" for i in range(100_000)) + "\n"
    return header + "".join(f"Good paper {i},A{i}." + "," * 100_000 + "\n" for i in range(GOOD))


def _wide_bibtex() -> str:
    fields = "".join(f" f{i} = {{{i}}},\n" for i in range(100_000))
    return bibtex() + "@article{wide,\n title = {Wide},\n" + fields + "}\n" + bibtex(start=GOOD)


def _no_bidi(records: list[Record]) -> bool:
    """No bidirectional control left in the text, and no link that holds one."""
    return all(not re.search("[\u202a-\u202e\u2066-\u2069]", r.title + r.abstract + r.url) for r in records)


def _bounded_fingerprints(records: list[Record]) -> bool:
    return all(len(fingerprint(r)) <= FINGERPRINT_MAX_CHARS for r in records)


def _one_fingerprint(records: list[Record]) -> bool:
    return len({fingerprint(r) for r in records}) == 1


def _garbage(seed: int, size: int = MB) -> Callable[[], bytes]:
    return lambda: random.Random(seed).randbytes(size)


def _high_bytes(seed: int) -> bytes:
    """1 MB of bytes 0x80-0xFF in lines of 100: text to the format sniffer, not UTF-8."""
    line = bytes(random.Random(seed).randrange(0x80, 0x100) for _ in range(99)) + b"\n"
    return line * (MB // 100)


def _latin1() -> bytes:
    return (jsonl() + '{"title": "M\u00fcller \u00e9t\u00e9", "abstract": "x"}\n'.encode("latin-1")
            + b'{"title": "\xff\xfe\x80 bytes", "abstract": "y"}\n')


CUT = range(1, 4_000)  # a truncated stream keeps what came before the cut

CASES = [
    # whole files that are not corpora: one clear FormatError
    Case("empty file", "empty.jsonl", _put(lambda: b""), None, "it is empty"),
    Case("blank lines only", "blank.txt", _put(lambda: "\n \n\t\n" * 1000), None, "it is empty"),
    Case("binary garbage", "garbage.bin", _put(_garbage(1)), None, "binary"),
    Case("gzip of binary garbage", "garbage.gz", _put(lambda: gzip.compress(_garbage(2)())), None, "binary"),
    Case("not gzip after a gzip magic", "fake.gz", _put(lambda: b"\x1f\x8b" + _garbage(3, 4096)()), None,
         "cannot read"),
    Case("UTF-16 text", "utf16.csv", _put(lambda: "title,abstract\nA,B\n".encode("utf-16")), None, "UTF-16"),
    Case("a PDF", "paper.pdf", _put(lambda: b"%PDF-1.7\n" + _garbage(4, 4096)()), None, "PDF"),
    Case("a zip archive", "papers.zip", _put(lambda: b"PK\x03\x04" + _garbage(5, 4096)()), None, "zip"),
    Case("HTML", "page.html", _put(lambda: "<html><body>" + "<p>x</p>\n" * 100 + "</body></html>"), None, "HTML"),
    Case("one 50 MB line of text", "one.txt", _pieces(_repeat(b"x" * MB, 50)), None, "first line is over", big=True),
    Case("CSV without the needed columns", "cols.csv", _put(lambda: "name,date,pages\n" + "a,2020,1-2\n" * 5), None,
         "no title or abstract column"),
    # broken streams: the good records before the break, then one error
    Case("truncated gzip", "cut.jsonl.gz", _cut(gzip.compress, lambda: jsonl(4_000)), CUT, "cannot read the rest"),
    Case("truncated xz", "cut.jsonl.xz", _cut(lzma.compress, lambda: jsonl(4_000)), CUT, "cannot read the rest"),
    Case("truncated bz2", "cut.jsonl.bz2", _cut(lambda data: bz2.compress(data, 1), lambda: jsonl(4_000)), CUT,
         "cannot read the rest"),  # 100 KB blocks: a cut file keeps the blocks before the cut
    # compression bombs and floods of blank lines: stopped early, the error names the line
    Case("gzip bomb: 1 GB of newlines", "newlines.jsonl.gz", _bomb(jsonl(), b"\n", 1024 * MB), GOOD,
         r"^line 6: lines 6 to 10,006 are blank", big=True),
    Case("gzip bomb: 1 GB of zeros", "zeros.jsonl.gz", _bomb(jsonl(200), b"\0", 1024 * MB), 200,
         "compression bomb", big=True),
    Case("bz2 bomb: RIS, 1 GB of spaces", "spaces.ris.bz2", _bomb(ris().encode(), b" " * 99 + b"\n", 1024 * MB, bz2),
         GOOD, "^line 25: lines 25 to 10,025 are blank", big=True),
    Case("xz bomb: BibTeX, 256 MB of newlines", "nl.bib.xz", _bomb(bibtex().encode(), b"\n", 256 * MB, lzma), GOOD,
         "are blank", big=True),
    Case("blank lines between junk lines", "junk.txt", _put(lambda: text_pairs() + ("junk\n" + "\n" * 9_999) * 10),
         GOOD + 1, "blank lines for 12 lines of text: the rest of the file was not read"),
    Case("JSON array padded with 50 MB of spaces", "padded.json",
         _pieces(b"[" + _array(jsonl()), _repeat(b" " * MB, 50), b"{}]"), GOOD, "white space", big=True),
    # encodings and line ends
    Case("invalid UTF-8 bytes", "latin1.jsonl", _put(_latin1), GOOD + 2, ""),
    Case("20 MB of bytes that are not UTF-8", "high.txt",
         _pieces(text_pairs(3000).encode(), lambda: (_high_bytes(i) for i in range(20))), range(3000, 3100),
         "not valid UTF-8", big=True),
    Case("a UTF-8 byte order mark", "bom.csv", _put(lambda: "\ufefftitle,abstract\n" + csv_rows()), GOOD, ""),
    Case("CRLF line ends", "crlf.csv", _put(lambda: ("title,abstract\n" + csv_rows()).replace("\n", "\r\n")), GOOD),
    Case("CR line ends (old Mac)", "cr.csv", _put(lambda: ("title,abstract\n" + csv_rows()).replace("\n", "\r")),
         GOOD),
    Case("CR line ends, text format", "cr.txt", _put(lambda: text_pairs().replace("\n", "\r")), GOOD),
    Case("NUL bytes in a CSV", "nul.csv", _put(lambda: "title,abstract\n" + "x,y\n" * 3000 + "Nul\0title,a\0b\n"
                                              + csv_rows()), 3000 + 1 + GOOD),
    # huge lines, fields and records: one error, the records around them kept, memory flat
    Case("a 50 MB JSON Lines line", "long.jsonl",
         _pieces(jsonl(), b'{"title": "', _repeat(b"x" * MB, 50), b'"}\n', jsonl(start=GOOD)), 2 * GOOD,
         "^line 6: record too large", big=True),
    Case("a 50 MB record in a JSON array", "long.json",
         _pieces(b"[" + _array(jsonl()), b'{"title": "', _repeat(b"y" * MB, 50), b'"},',
                 _array(jsonl(start=GOOD))[:-1] + b"]"), 2 * GOOD, r"^record 6 \(line 1\): record too large", big=True),
    Case("a 50 MB title line, text format", "long.txt",
         _pieces(text_pairs().encode(), _repeat(b"t" * MB, 50), b"\nIts abstract.\n", text_pairs(start=GOOD).encode()),
         2 * GOOD, "^line 16: record too large", big=True),
    Case("a 150 MB single-line CSV field", "field.csv",
         _pieces(("title,abstract\n" + csv_rows()).encode(), b'Huge,"', _repeat(b"B" * MB, 150), b'"\n',
                 csv_rows(start=GOOD).encode()), 2 * GOOD, r"^row 6 \(line 7\): record too large", big=True),
    Case("a 20 MB multi-line CSV field", "lines.csv",
         _pieces(("title,abstract\n" + csv_rows()).encode(), b'Huge,"', _repeat(b"B" * 1023 + b"\n", 20 * 1024),
                 b'"\n', csv_rows(start=GOOD).encode()), 2 * GOOD,
         r"^row 6 \(line 7\): record too large.*lines 7-20,487", big=True),
    Case("an unterminated CSV quote", "quote.csv",
         _put(lambda: "title,abstract\n" + csv_rows() + '"Broken,its abstract\n' + csv_rows(start=GOOD)), 2 * GOOD,
         r"^row 6 \(line 7\): unterminated quote"),
    Case("a CSV quote closed rows later", "merge.csv",
         _put(lambda: "title,abstract\n" + csv_rows() + '"Broken,its abstract\n"Good",row\n' + csv_rows(start=GOOD)),
         2 * GOOD + 1, r"^row 6 \(line 7\): unterminated quote"),
    Case("JSON nested 10,000 deep, JSON Lines", "deep.jsonl",
         _put(lambda: jsonl() + f'{{"title": "Deep", "abstract": {_nested(10_000)}}}\n'.encode() + jsonl(start=GOOD)),
         2 * GOOD, "^line 6: invalid JSON"),
    Case("JSON nested 10,000 deep, JSON array", "deep.json",
         _put(lambda: b"[" + _array(jsonl()) + _nested(10_000).encode() + b"," + _array(jsonl(start=GOOD))[:-1]
              + b"]"), 2 * GOOD, r"^record 6 \(line 1\): invalid JSON"),
    Case("a JSON array with trailing garbage", "trail.json",
         _put(lambda: b"[" + _array(jsonl())[:-1] + b"] garbage {"), GOOD, "text after the closing"),
    Case("a JSON array cut before its end", "open.json", _put(lambda: b"[" + _array(jsonl())), GOOD, "truncated"),
    Case("a number of a million digits", "digits.jsonl",
         _put(lambda: jsonl() + b'{"title": "N", "abstract": "x", "year": ' + b"9" * 1_000_000 + b"}\n"), GOOD,
         "^line 6: invalid JSON"),
    Case("a JSON record with 100,000 fields", "wide.jsonl", _put(_wide_json), GOOD + 1, big=True),
    Case("a CSV with 100,000 columns", "wide.csv", _put(_wide_csv), None, "first line is over 65,536 characters"),
    Case("a CSV with 100,000 columns, format given", "wide.csv", _put(_wide_csv), GOOD, fmt="csv"),
    Case("a BibTeX entry with 100,000 fields", "wide.bib", _put(_wide_bibtex), 2 * GOOD + 1),
    Case("a RIS record with 100,000 tags", "wide.ris",
         _put(lambda: ris() + "TY  - JOUR\nTI  - Wide\n" + "KW  - word\n" * 100_000 + "ER  - \n"), GOOD + 1),
    Case("unbalanced BibTeX braces", "open.bib",
         _put(lambda: bibtex() + "@article{broken,\n  title = {Never {closed},\n\n" + bibtex(start=GOOD)), 2 * GOOD,
         r"^entry 6 \(line 26\): unbalanced braces"),
    Case("BibTeX braces 100,000 deep", "deep.bib",
         _put(lambda: bibtex() + "@article{deep,\n title = " + "{" * 100_000 + "}" * 100_000 + "\n}\n"), GOOD,
         "missing title"),
    Case("RIS without end tags", "noend.ris", _put(lambda: ris(end=False)), GOOD - 1, "not closed"),
    Case("duplicate records", "dup.jsonl", _put(lambda: jsonl(1) * 10_000), 10_000, "", _one_fingerprint),
    Case("bidirectional controls in titles", "bidi.jsonl",
         _put(lambda: '{"title": "Invoice \u202egpj.exe\u202c study", "abstract": "\u2066x\u2069", '
                      '"url": "https://example.org/\u202egpj.exe"}\n'), 1, "",
         _no_bidi),
    Case("a 440-character title, no DOI", "long_title.jsonl",
         _put(lambda: json.dumps({"title": "A study of " + "very " * 86 + "long titles", "abstract": "x"}) + "\n"), 1,
         "", _bounded_fingerprints),
    Case("10,000 empty objects", "empty_objects.jsonl", _put(lambda: jsonl() + b"{}\n" * 10_000), GOOD,
         "^line 6: missing title"),
]


def read_like_the_import(path: Path, fmt: str | None = None) -> tuple[list[Record], list[RecordError]]:
    """What the import service does with an upload: detect (unless the format is given), count, read."""
    fmt = fmt or detect_format(path)
    count_records(path, fmt)
    items = list(read_records(path, fmt))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, RecordError)]


def run_case(case: Case, folder: Path, traced: bool = True) -> Outcome:
    """Write the case's file into `folder`, read it, measure; the file is removed afterwards.
    Any exception but FormatError escapes: that is a failed case. traced: measure the memory
    (tracemalloc slows reading down several times; peak_mb is 0 without it)."""
    path = folder / case.filename
    case.write(path)
    try:
        with PeakMemory(traced) as peak:
            start = time.perf_counter()
            try:
                records, errors = read_like_the_import(path, case.fmt)
            except FormatError as exc:
                records, errors, message = [], None, str(exc)
            seconds = time.perf_counter() - start
    finally:
        path.unlink()
    if errors is None:
        return Outcome(case, 0, -1, message, seconds, peak.mb)
    reasons = [f"{e.location}: {e.reason}" for e in errors]
    message = next((r for r in reasons if case.message and re.search(case.message, r)), reasons[0] if reasons else "")
    checked = case.check is None or case.check(records)
    return Outcome(case, len(records), len(errors), message, seconds, peak.mb, checked)


class PeakMemory:
    """The peak of the Python heap's growth over the block, in MB (tracemalloc): what a reader
    holds at once, which resident memory hides when freed pages are reused."""

    def __init__(self, traced: bool = True):
        self.traced, self.mb = traced, 0.0

    def __enter__(self):
        if self.traced:
            tracemalloc.start()
        return self

    def __exit__(self, *exc):
        if self.traced:
            self.mb = tracemalloc.get_traced_memory()[1] / MB
            tracemalloc.stop()
        return False


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="hostile-"))
    print(f"{'case':44} {'ok':4} {'kept':>6} {'errors':>6} {'s':>6} {'MB':>6}  message")
    failures = 0
    for case in CASES:
        out = run_case(case, folder, traced=case.big)  # tracing slows the many-small-objects cases
        failures += not out.passed
        memory = f"{out.peak_mb:6.1f}" if case.big else f"{'-':>6}"
        print(f"{case.name[:44]:44} {'ok' if out.passed else 'FAIL':4} {out.kept:6} {out.errors:6} "
              f"{out.seconds:6.2f} {memory}  {out.message[:110]}")
    print(f"{len(CASES)} hostile files, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
