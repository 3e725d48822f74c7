"""Opening a corpus file: compression detected from magic bytes (gzip, bzip2, xz), UTF-8 decoding
that survives stray Latin-1 / Windows-1252 bytes, and bounded reads (a line longer than the cap
is skipped without being held in memory), so that a reader's memory does not grow with the file.

A line that is not valid UTF-8 is decoded byte by byte as Windows-1252 (a superset of Latin-1
for text), which recovers 'Müller' from a Latin-1 export instead of losing the record; the first
such line of a file is logged as a warning."""
from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import logging
import lzma
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from discovery.corpus.records import FormatError

log = logging.getLogger(__name__)
_OPENERS = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
# What a corrupt or truncated compressed stream raises part-way through a file.
READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
CHUNK = 1 << 16


def _windows_1252(exc: UnicodeDecodeError) -> tuple[str, int]:
    bad = exc.object[exc.start:exc.end]
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in bad), exc.end


codecs.register_error("corpus-cp1252", _windows_1252)


class CorruptInput(Exception):
    """The rest of the file cannot be read (a truncated or corrupt compressed stream)."""

    def __init__(self, location: str, error: Exception):
        super().__init__(f"cannot read the rest of the file: {error}")
        self.location = location


class Line(NamedTuple):
    number: int  # 1-based, in the decompressed text
    text: str | None  # None: longer than the cap, skipped unread


@contextlib.contextmanager
def open_binary(path: str | Path) -> Iterator[BinaryIO]:
    """The file's decompressed bytes."""
    with open(path, "rb") as raw:
        head = raw.read(6)
        raw.seek(0)
        opener = next((op for magic, op in _OPENERS.items() if head.startswith(magic)), None)
        if opener is None:
            yield raw
        else:
            with opener(raw, "rb") as unpacked:
                yield unpacked


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
    text = codecs.getincrementaldecoder("utf-8")("corpus-cp1252").decode(head)
    return text.removeprefix("\ufeff")


def _warn_once(path, where: str, warned: list) -> None:
    if not warned:
        log.warning("%s: %s is not valid UTF-8; decoded as Windows-1252 (later ones not reported)", path, where)
        warned.append(where)


def iter_lines(path: str | Path, max_bytes: int) -> Iterator[Line]:
    """Decoded lines (with their newline). Raises CorruptInput where the stream breaks."""
    warned: list = []
    number = 0
    with open_binary(path) as f:
        while True:
            try:
                raw = f.readline(max_bytes + 1)
                if len(raw) > max_bytes and not raw.endswith(b"\n"):
                    _skip_line(f)
                    number += 1
                    yield Line(number, None)
                    continue
            except READ_ERRORS as exc:
                raise CorruptInput(f"line {number + 1}", exc) from exc
            if not raw:
                return
            number += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                _warn_once(path, f"line {number}", warned)
                text = raw.decode("utf-8", "corpus-cp1252")
            yield Line(number, text.removeprefix("\ufeff") if number == 1 else text)


def _skip_line(f: BinaryIO) -> None:
    while True:
        rest = f.readline(CHUNK)
        if not rest or rest.endswith(b"\n"):
            return


def iter_chunks(path: str | Path, size: int = CHUNK) -> Iterator[str]:
    """The decoded text in pieces of about `size` characters. Raises CorruptInput on a broken
    stream (location: the byte offset, since lines are not counted here)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    warned: list = []
    offset = 0
    with open_binary(path) as f:
        while True:
            try:
                raw = f.read(size)
            except READ_ERRORS as exc:
                raise CorruptInput(f"byte {offset:,}", exc) from exc
            state = decoder.getstate()
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError:
                _warn_once(path, f"byte {offset:,}", warned)
                decoder = codecs.getincrementaldecoder("utf-8")("corpus-cp1252")
                decoder.setstate(state)
                text = decoder.decode(raw, final=not raw)
            if offset == 0:
                text = text.removeprefix("\ufeff")
            offset += len(raw)
            if text:
                yield text
            if not raw:
                return
