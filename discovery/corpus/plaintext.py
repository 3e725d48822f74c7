"""Plain text corpora, as the demo corpus seed_papers.txt: a title line, then an abstract line,
repeated; blank lines anywhere are ignored. A title line without an abstract line after it
(the file ends) is reported; a "title" longer than CorpusConfig.max_title_chars is rejected by
build_record, which catches a file that has fallen out of step (an abstract read as a title)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from discovery.corpus.records import CorpusConfig, Record, RecordError, build_record, too_large
from discovery.corpus.source import iter_lines


def read_text(path: str | Path, config: CorpusConfig) -> Iterator[Record | RecordError]:
    title = None  # the pending title line (its text is None when it was too long to read)
    for line in iter_lines(path, config):
        if line.text is not None and not line.text.strip():
            continue
        if title is None:
            title = line
            continue
        where = f"line {title.number}"
        if title.text is None or line.text is None:
            yield RecordError(where, too_large(config))
        else:
            yield build_record({"title": title.text, "abstract": line.text}, where, config)
        title = None
    if title is not None:
        reason = "a title without an abstract line after it at the end of the file"
        yield RecordError(f"line {title.number}", too_large(config) if title.text is None else reason)
