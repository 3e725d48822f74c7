"""The reader fuzzing run (discovery.corpus.fuzz), bounded to a few inputs: the mutation engine
is deterministic, every reader is covered, and nothing crashes."""
import random

from discovery.corpus import fuzz
from tests.discovery.test_corpus_helpers import FIXTURES


def test_the_mutation_loop_is_deterministic_and_bounded():
    seeds = [p.read_bytes() for p in sorted(FIXTURES.iterdir())]
    first, second = ([fuzz.mutate(random.Random(7), s, seeds) for s in seeds] for _ in range(2))
    assert first == second and all(len(m) <= fuzz.MAX_INPUT for m in first)


def test_a_short_run_tries_every_reader_without_a_crash(tmp_path, capsys):
    assert fuzz.main(["--seconds", "5", "--runs", "15", "--engine", "mutate", "--crashes", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    for reader in fuzz.READERS:
        assert f"\n{reader} " in table
    assert "all " in table and " 0 " in table.splitlines()[-1]
