# The API tests share the browser tests' fixtures: a fresh index and rate-limit counters per
# test, and a small indexed corpus.
from tests.ui.conftest import _fresh_index, corpus, papers  # noqa: F401
