"""Every reader survives any truncation of any fixture: records and per-record errors only,
or a FormatError for the whole file; never another exception."""
import pytest

from discovery.corpus import FormatError, Record, RecordError, detect_format, read_records
from tests.discovery.test_corpus_helpers import FIXTURES, write

NAMES = sorted(p.name for p in FIXTURES.iterdir())


@pytest.mark.parametrize("name", NAMES)
def test_it_never_raises_on_a_cut_file(name, tmp_path):
    data, fmt = (FIXTURES / name).read_bytes(), detect_format(FIXTURES / name)
    for cut in range(1, len(data), max(1, len(data) // 15)):
        path = write(tmp_path, "cut", data[:cut])
        for given in (None, fmt):  # detected from the cut file, and the whole file's format
            try:
                items = list(read_records(path, given))
            except FormatError:
                continue
            assert all(isinstance(i, (Record, RecordError)) for i in items)
