import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from discovery import SPACES
from discovery import index as index_mod
from discovery.index import IndexConfig, IndexMismatchError, IndexSet, StaleIndexError

DIM = 384
ROOT = Path(__file__).resolve().parents[2]


def unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def clustered(n, seed=0, centres=50):
    """Normalised vectors around a few centres, so that IVF lists mean something."""
    rng = np.random.default_rng(seed)
    c = unit(rng.normal(size=(centres, DIM)))
    return unit(c[rng.integers(0, centres, n)] + 0.6 * unit(rng.normal(size=(n, DIM))))


def vectors(n, seed=0):
    return {s: clustered(n, seed + i) for i, s in enumerate(SPACES)}


def small_set(root, n=300, cfg=None, **kw):
    ids = np.arange(1000, 1000 + n)
    s = IndexSet.open(root, cfg or IndexConfig(**kw))
    s.add(ids, vectors(n), texts=[f"paper number {i}" for i in ids], years=2000 + ids % 20,
          venues=["NeurIPS" if i % 2 else "ICML" for i in ids])
    return s, ids


def test_it_finds_a_stored_vector_first_with_its_cosine(tmp_path):
    s, ids = small_set(tmp_path)
    q = s.reconstruct("method", ids[[7]])
    scores, found = s.search("method", q, 5)
    assert found[0, 0] == ids[7] and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert s.kind("method") == "flat"


def test_it_replaces_vectors_when_an_id_is_added_again(tmp_path):
    s, ids = small_set(tmp_path)
    before = s.reconstruct("paper", ids[:2])  # builds the cached flat view
    new = unit(np.ones((1, DIM)))
    s.add(ids[:1], {sp: new for sp in SPACES})
    after = s.reconstruct("paper", ids[:2])
    np.testing.assert_allclose(after[0], new[0], atol=1e-6)
    np.testing.assert_allclose(after[1], before[1], atol=1e-6)
    assert len(s) == len(ids) and s.spaces["paper"].ntotal == len(ids)
    with pytest.raises(KeyError):
        s.reconstruct("paper", [5])


def test_it_removes_ids_everywhere(tmp_path):
    s, ids = small_set(tmp_path)
    s.remove(ids[:10])
    for sp in SPACES:
        assert s.spaces[sp].ntotal == len(ids) - 10
    _, found = s.search("paper", s.reconstruct("paper", ids[10:11]), len(ids))
    assert not set(found[0]) & set(ids[:10])
    assert len(s.lexical) == len(s) == len(ids) - 10


def test_it_switches_to_ivf_above_the_exact_threshold_with_high_recall(tmp_path):
    cfg = IndexConfig(exact_below=2000, nprobe=16)
    s, ids = small_set(tmp_path, n=3000, cfg=cfg)
    assert s.kind("paper") == "ivf"
    exact = index_mod.build_space(ids, s.reconstruct("paper", ids), IndexConfig(exact_below=10**9))
    q = s.reconstruct("paper", ids[:50]) + 0.02
    _, got = s.search("paper", q, 10)
    _, want = exact.search(unit(q), 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, want)])
    assert recall >= 0.9


@pytest.mark.parametrize("exact_below", [10**9, 2000])
def test_it_returns_k_results_under_a_selective_filter(tmp_path, exact_below):
    s, ids = small_set(tmp_path, n=3000, cfg=IndexConfig(exact_below=exact_below, nprobe=4))
    mask = np.zeros(len(s), bool)
    mask[::150] = True  # 20 of 3000 papers allowed
    _, found = s.search("problem", s.reconstruct("problem", ids[:1]), 10, allowed_ids_mask=mask)
    assert (found[0] >= 0).sum() == 10
    assert set(found[0]) <= set(s.ids[mask])


def test_it_saves_a_manifest_and_reopens_the_same_set(tmp_path):
    s, ids = small_set(tmp_path, cfg=IndexConfig(fingerprint="minilm-v1"))
    assert s.save() == 1
    back = IndexSet.open(tmp_path, IndexConfig(fingerprint="minilm-v1"))
    manifest = json.loads((tmp_path / "v000001" / "manifest.json").read_text())
    assert manifest["version"] == 1 and manifest["count"] == len(ids) and manifest["dim"] == DIM
    assert manifest["fingerprint"] == "minilm-v1" and manifest["spaces"]["paper"]["type"] == "flat"
    np.testing.assert_array_equal(back.ids, ids)
    np.testing.assert_allclose(back.reconstruct("findings", ids), s.reconstruct("findings", ids))
    assert list(back.meta.year) == list(s.meta.year) and back.meta.venues == s.meta.venues
    np.testing.assert_allclose(back.lexical.scores("number"), s.lexical.scores("number"))


def test_it_rejects_a_set_built_with_another_fingerprint(tmp_path):
    s, _ = small_set(tmp_path, cfg=IndexConfig(fingerprint="minilm-v1"))
    s.save()
    with pytest.raises(IndexMismatchError):
        IndexSet.open(tmp_path, IndexConfig(fingerprint="other-encoder"))


def test_a_crashed_save_leaves_the_previous_version_readable(tmp_path, monkeypatch):
    s, ids = small_set(tmp_path)
    s.save()
    s.remove(ids[:5])

    def crash(folder, version):
        (folder / "paper.faiss").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(s, "_write_files", crash)
    with pytest.raises(OSError):
        s.save()
    assert len(IndexSet.open(tmp_path)) == len(ids)  # still version 1, whole
    monkeypatch.undo()
    assert s.save() == 2
    assert not list(tmp_path.glob(".v*"))  # the crashed writer's temp folder is cleaned up


def test_a_second_writer_with_an_old_copy_is_refused(tmp_path):
    s, ids = small_set(tmp_path)
    s.save()
    a, b = IndexSet.open(tmp_path), IndexSet.open(tmp_path)
    a.remove(ids[:1])
    a.save()
    b.remove(ids[1:2])
    with pytest.raises(StaleIndexError):
        b.save()
    assert b.save(force=True) == 3


def test_it_keeps_only_the_newest_versions(tmp_path):
    s, ids = small_set(tmp_path, cfg=IndexConfig(keep_versions=2))
    for i in range(4):
        s.remove(ids[i:i + 1])
        s.save()
    assert sorted(p.name for p in tmp_path.glob("v*")) == ["v000003", "v000004"]


def test_a_reader_in_another_process_notices_a_newer_version(tmp_path):
    s, ids = small_set(tmp_path)
    s.save()
    reader = IndexSet.open(tmp_path, IndexConfig(reload_check_s=0))
    assert not reader.maybe_reload()
    code = ("import sys; from discovery.index import IndexSet; s = IndexSet.open(sys.argv[1]); "
            "s.remove(s.ids[:3]); s.save()")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=ROOT)
    assert reader.maybe_reload()
    assert reader.version == 2 and len(reader) == len(ids) - 3


def test_a_rebuild_from_stored_vectors_equals_the_incremental_set(tmp_path):
    s, ids = small_set(tmp_path)
    stored = {sp: s.reconstruct(sp, ids) for sp in SPACES}
    rebuilt = IndexSet.build(tmp_path / "rebuilt", ids, stored, texts=[f"paper number {i}" for i in ids])
    q = stored["method"][:3]
    np.testing.assert_array_equal(rebuilt.search("method", q, 10)[1], s.search("method", q, 10)[1])


def test_unknown_years_and_venues_are_stored_as_code_zero(tmp_path):
    s = IndexSet.open(tmp_path)
    s.add([1, 2], {"paper": clustered(2)}, years=[None, 2020], venues=[None, "ICLR"])
    assert list(s.meta.year) == [0, 2020]
    assert [s.meta.venues[c] for c in s.meta.venue] == ["", "ICLR"]
