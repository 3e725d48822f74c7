"""Helpers shared by the corpus reader tests (no tests here; named test_corpus_* to sit with them)."""
from pathlib import Path

from discovery.corpus import Record, RecordError, read_records
from tests import conftest

FIXTURES = conftest.FIXTURES / "corpus"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read(path, fmt=None, **kwargs) -> tuple[list[Record], list[RecordError]]:
    items = list(read_records(path, fmt, **kwargs))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, RecordError)]
