"""Opening a corpus file: compression detected from magic bytes (gzip, bzip2, xz), UTF-8 decoding
that survives stray Latin-1 / Windows-1252 bytes, and bounded reads (a line longer than the cap
is skipped without being held in memory), so that a reader's memory does not grow with the file.

A line that is not valid UTF-8 is decoded byte by byte as Windows-1252 (a superset of Latin-1
for text), which recovers 'Müller' from a Latin-1 export instead of losing the record; the first
such line of a file is logged as a warning.

Hostile files are bounded here for every reader: a compressed file stops at CorpusConfig.
max_expansion times its size (a 1 MB gzip of 1 GB of newlines), a run of blank lines at
max_blank_lines, and a file whose line ends are carriage returns only (old Mac exports) is read
as if they were newlines."""
from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import io
import logging
import lzma
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from discovery.corpus.records import CorpusConfig, FormatError

log = logging.getLogger(__name__)
_OPENERS = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
# What a corrupt or truncated compressed stream raises part-way through a file.
READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
CHUNK = 1 << 16
_CR_TO_LF = bytes.maketrans(b"\r", b"\n")
_NAMED_BINARY = (b"%PDF", b"PK\x03\x04")  # format detection names these: "it is a PDF"


_CP1252 = tuple(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256))


def _windows_1252(exc: UnicodeDecodeError) -> tuple[str, int]:
    return "".join(_CP1252[b] for b in exc.object[exc.start:exc.end]), exc.end


def undecodable(raw: bytes) -> int:
    """How many bytes of `raw` are not valid UTF-8 (at C speed)."""
    return len(raw) - len(raw.decode("utf-8", "ignore").encode("utf-8"))


class _Undecodable:
    """Stops a file that is mostly not UTF-8: the Windows-1252 fallback runs in Python once per
    bad byte (20 MB of them took minutes), so more than 4 KB of bad bytes, over a tenth of
    what was read, end the reading; a Latin-1 export has a few percent."""

    def __init__(self):
        self.bad = self.seen = 0

    def count(self, where: str, size: int, bad: int) -> None:
        self.seen += size
        self.bad += bad
        if self.bad > 4096 and self.bad * 10 > self.seen:
            raise CorruptInput(where, f"not text: {self.bad:,} of the first {self.seen:,} bytes are not valid UTF-8 "
                                      "(binary data?): the rest of the file was not read")


codecs.register_error("corpus-cp1252", _windows_1252)


class CorruptInput(Exception):
    """The rest of the file cannot or should not be read (a truncated or corrupt compressed
    stream, a compression bomb, a flood of blank lines); the reader ends with this error."""

    def __init__(self, location: str, reason: str):
        super().__init__(reason)
        self.location = location


class ExpansionLimit(OSError):
    """A compressed file decompressing to more than CorpusConfig.max_expansion times its size."""


class Line(NamedTuple):
    number: int  # 1-based, in the decompressed text
    text: str | None  # None: longer than the cap, skipped unread


class _Decompressed(io.RawIOBase):
    """The decompressed bytes of a file, counted against a limit; carriage returns become
    newlines when the first piece of the file has carriage returns and no newline."""

    def __init__(self, source: BinaryIO, limit: int | None, expansion: int):
        super().__init__()
        self.source, self.limit, self.expansion = source, limit, expansion
        self.total, self.cr_lines = 0, None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # read1: a broken stream then loses only the piece it broke in, not a whole buffer
        data = self.source.read1(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.total += n
        if self.limit is not None and self.total > self.limit:
            raise ExpansionLimit(f"it decompresses to over {self.limit:,} bytes, more than {self.expansion} times "
                                 "its size (a compression bomb?)")
        if self.cr_lines is None:
            self.cr_lines = b"\r" in data and b"\n" not in data
        if self.cr_lines:
            buffer[:n] = data.translate(_CR_TO_LF)
        return n


@contextlib.contextmanager
def open_binary(path: str | Path, max_expansion: int = CorpusConfig.max_expansion) -> Iterator[BinaryIO]:
    """The file's decompressed bytes; reading past max_expansion times the size of a compressed
    file (counting at least 1 MB) raises ExpansionLimit."""
    with open(path, "rb") as raw:
        magic = raw.read(6)
        raw.seek(0)
        opener = next((op for start, op in _OPENERS.items() if magic.startswith(start)), None)
        with opener(raw, "rb") if opener else contextlib.nullcontext(raw) as unpacked:
            limit = max(os.fstat(raw.fileno()).st_size, 1 << 20) * max_expansion if opener else None
            with io.BufferedReader(_Decompressed(unpacked, limit, max_expansion), buffer_size=CHUNK) as stream:
                yield stream


def read_sample(path: str | Path, size: int) -> str:
    """The first `size` decompressed bytes as text (less if the stream breaks early: the reader
    reports that where it happens); FormatError when nothing can be read."""
    head = b""
    try:
        with open_binary(path) as f:
            # read1: a broken stream then loses only the piece it broke in, not the whole sample
            while len(head) < size and (piece := f.read1(min(CHUNK, size - len(head)))):
                head += piece
    except READ_ERRORS as exc:
        if not head:
            raise FormatError(f"cannot read {path}: {exc}") from exc
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError(f"cannot read {path}: it is UTF-16 text; save it as UTF-8")
    if undecodable(head) * 10 > len(head) > 0 and not head.startswith(_NAMED_BINARY):
        raise FormatError(f"cannot read {path}: it is binary, or text in another encoding than UTF-8 or Latin-1 "
                          f"(over a tenth of its first {len(head):,} bytes are not valid UTF-8)")
    text = codecs.getincrementaldecoder("utf-8")("corpus-cp1252").decode(head)
    return text.removeprefix("\ufeff")


def _warn_once(path, where: str, warned: list) -> None:
    if not warned:
        log.warning("%s: %s is not valid UTF-8; decoded as Windows-1252 (later ones not reported)", path, where)
        warned.append(where)


def iter_lines(path: str | Path, config: CorpusConfig) -> Iterator[Line]:
    """Decoded lines (with their newline). Raises CorruptInput where the stream breaks, and where
    blank lines pass the bounds of CorpusConfig.max_blank_lines."""
    warned: list = []
    number = 0
    blanks, bad = _BlankLines(config.max_blank_lines), _Undecodable()
    with open_binary(path, config.max_expansion) as f:
        while True:
            try:
                raw = f.readline(config.max_record_bytes + 1)
                if len(raw) > config.max_record_bytes and not raw.endswith(b"\n"):
                    _skip_line(f)
                    number += 1
                    blanks.count(number, False)
                    yield Line(number, None)
                    continue
            except READ_ERRORS as exc:
                raise CorruptInput(f"line {number + 1}", f"cannot read the rest of the file: {exc}") from exc
            if not raw:
                return
            number += 1
            blanks.count(number, raw.isspace())
            try:
                text = raw.decode("utf-8")
                bad.count(f"line {number}", len(raw), 0)
            except UnicodeDecodeError:
                _warn_once(path, f"line {number}", warned)
                bad.count(f"line {number}", len(raw), undecodable(raw))
                text = raw.decode("utf-8", "corpus-cp1252")
            yield Line(number, text.removeprefix("\ufeff") if number == 1 else text)


class _BlankLines:
    """Stops a file of blank lines, which costs a Python loop per line and yields nothing: more
    than `limit` in a row, or in all more than `limit` plus ten for each line of text."""

    def __init__(self, limit: int):
        self.limit, self.run_start, self.blank, self.text = limit, 0, 0, 0

    def count(self, number: int, blank: bool) -> None:
        if not blank:
            self.text += 1
            self.run_start = 0
            return
        self.blank += 1
        self.run_start = self.run_start or number
        if number - self.run_start >= self.limit:
            raise CorruptInput(f"line {self.run_start}", f"lines {self.run_start:,} to {number:,} are blank, over "
                               f"{self.limit:,} in a row: the rest of the file was not read (padded with blank lines?)")
        if self.blank > self.limit + 10 * self.text:
            raise CorruptInput(f"line {number}", f"{self.blank:,} blank lines for {self.text:,} lines of text: "
                               "the rest of the file was not read (padded with blank lines?)")


def _skip_line(f: BinaryIO) -> None:
    while True:
        rest = f.readline(CHUNK)
        if not rest or rest.endswith(b"\n"):
            return


def iter_chunks(path: str | Path, size: int = CHUNK, max_expansion: int = CorpusConfig.max_expansion) -> Iterator[str]:
    """The decoded text in pieces of about `size` characters. Raises CorruptInput on a broken
    stream (location: the byte offset, since lines are not counted here)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    warned: list = []
    offset, bad = 0, _Undecodable()
    with open_binary(path, max_expansion) as f:
        while True:
            try:
                raw = f.read(size)
            except READ_ERRORS as exc:
                raise CorruptInput(f"byte {offset:,}", f"cannot read the rest of the file: {exc}") from exc
            state = decoder.getstate()
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError:
                _warn_once(path, f"byte {offset:,}", warned)
                decoder = codecs.getincrementaldecoder("utf-8")("corpus-cp1252")
                decoder.setstate(state)
                text = decoder.decode(raw, final=not raw)
            bad.count(f"byte {offset:,}", len(raw), undecodable(raw) if warned else 0)
            if offset == 0:
                text = text.removeprefix("\ufeff")
            offset += len(raw)
            if text:
                yield text
            if not raw:
                return
