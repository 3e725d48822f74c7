"""Vector indexes of the ideation space: one FAISS index per space (the whole `paper`, plus the
`problem`, `method` and `findings` aspects of Navigating Ideation Space), keyed by int64 database
paper ids, versioned on disk together with the BM25 index and the filter metadata.

Index type by size (FAISS, Johnson, Douze & Jegou 2017, "Billion-scale similarity search with
GPUs"): exact inner product (IndexFlatIP) below `exact_below` vectors, an inverted file
(IndexIVFFlat, Jegou, Douze & Schmid 2011) above. IVF rather than HNSW because it removes ids
in place and filters with an IDSelector without losing recall; HNSW cannot remove, and at 49k it
built slower with lower recall@10. `discovery.bench.search` prints the recall cost of each.

On disk (`root/`): `CURRENT` names the live version folder `v000042/` holding one `.faiss` file
per space, `lexical.npz`, `meta.npz` and `manifest.json`. A save writes a new folder under a
temporary name, fsyncs it, renames it, then swaps `CURRENT` by rename, so a reader only ever sees
a whole set. The database stays the source of truth: `IndexSet.build` rebuilds from stored vectors.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np

from discovery import SPACES
from discovery.lexical import BM25, sorted_rows

FORMAT = 1  # bump when the on-disk layout changes


class StaleIndexError(RuntimeError):
    """Another process saved a newer version since this set was loaded: reload and redo."""


class IndexMismatchError(RuntimeError):
    """The stored set was built with another model or config: rebuild it from the database."""


@dataclass
class IndexConfig:
    dim: int = 384  # all-MiniLM-L6-v2
    exact_below: int = 100_000  # a flat scan of 49k x 384 costs ~3.5 ms CPU, so ~7 ms at 100k
    lists_per_sqrt_n: float = 2.0  # 2000 lists at 1M; 4 sqrt(n) had better recall per probe but
    # took twice as long to build (200 s per space at 1M on 2 busy cores)
    nprobe: int = 24  # lists scanned per query: recall@10 0.996 vs exact at 1M (discovery.bench.search)
    train_sample: int = 64_000  # k-means sees 64k vectors: ~40 per list at 1M, enough per FAISS
    retrain_growth: float = 4.0  # retrain IVF when the corpus is 4x what the lists were fit on
    keep_versions: int = 2  # older versions kept so a reader mid-load still finds its files
    reload_check_s: float = 1.0  # at most one stat() of CURRENT per second per process
    fingerprint: str = ""  # encoder + aspect config id; a stored set with another one is rebuilt


def index_kind(n: int, cfg: IndexConfig) -> str:
    return "flat" if n < cfg.exact_below else "ivf"


def _empty_flat(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _train_ivf(vectors: np.ndarray, cfg: IndexConfig, seed: int = 0) -> faiss.IndexIVFFlat:
    n = len(vectors)
    nlist = max(1, int(cfg.lists_per_sqrt_n * math.sqrt(n)))
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(n, min(n, cfg.train_sample), replace=False)]
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(cfg.dim), cfg.dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.spherical = True  # centroids on the unit sphere, like the normalised vectors
    index.cp.niter = 10
    index.train(sample)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct / remove by external id
    index.nprobe = cfg.nprobe
    return index


def build_space(ids: np.ndarray, vectors: np.ndarray, cfg: IndexConfig) -> faiss.Index:
    """A fresh index of the kind the corpus size calls for."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = _empty_flat(cfg.dim) if index_kind(len(ids), cfg) == "flat" else _train_ivf(vectors, cfg)
    if len(ids):
        index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
    return index


def space_kind(index: faiss.Index) -> str:
    return "ivf" if isinstance(index, faiss.IndexIVF) else "flat"


def all_ids(index: faiss.Index) -> np.ndarray:
    if isinstance(index, faiss.IndexIDMap2):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    invlists = index.invlists
    parts = [faiss.rev_swig_ptr(invlists.get_ids(k), invlists.list_size(k)).copy()
             for k in range(index.nlist) if invlists.list_size(k)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def reconstruct(index: faiss.Index, ids: np.ndarray) -> np.ndarray:
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if not len(ids):
        return np.zeros((0, index.d), np.float32)
    return index.reconstruct_batch(ids)


def flat_view(index: faiss.IndexIDMap2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, sorted ids, row of each sorted id): a zero-copy view of a flat space. Gathering
    1000 candidates from it takes ~0.1 ms; reconstruct_batch took 2 ms (24 ms for 3000). Valid
    until the index is next modified."""
    flat = faiss.downcast_index(index.index)
    x = faiss.rev_swig_ptr(flat.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    id_map = faiss.vector_to_array(index.id_map)
    order = np.argsort(id_map, kind="stable")
    return x, id_map[order], order


def needs_rebuild(index: faiss.Index, trained_on: int, cfg: IndexConfig) -> bool:
    n = index.ntotal
    if space_kind(index) != index_kind(n, cfg):
        return True
    return space_kind(index) == "ivf" and n > cfg.retrain_growth * max(trained_on, 1)


def bitmap_selector(allowed_ids: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray]:
    """An IDSelector over id values; database ids are dense enough for a bitmap (1M ids: 125 kB).
    The bitmap is returned too: FAISS keeps a raw pointer, so the caller must keep it alive."""
    size = int(allowed_ids.max()) + 1 if len(allowed_ids) else 1
    bits = np.zeros(size, dtype=bool)
    bits[allowed_ids] = True
    bitmap = np.packbits(bits, bitorder="little")
    return faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap  # length in bytes


def search_space(index: faiss.Index, queries: np.ndarray, k: int, *, allowed_ids: np.ndarray | None = None,
                 nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids), each (nq, k); missing results have id -1. With a filter, IVF probes more
    lists in proportion to its selectivity so that k results still come back."""
    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(k, index.ntotal))
    is_ivf = space_kind(index) == "ivf"
    probes = nprobe or (index.nprobe if is_ivf else 0)
    if allowed_ids is None:
        params = faiss.SearchParametersIVF(nprobe=probes) if is_ivf else None
        return index.search(queries, k, params=params)
    selector, bitmap = bitmap_selector(allowed_ids)
    if is_ivf:
        fraction = max(len(allowed_ids) / max(index.ntotal, 1), 1e-9)
        params = faiss.SearchParametersIVF(sel=selector, nprobe=min(index.nlist, math.ceil(probes / fraction)))
    else:
        params = faiss.SearchParameters(sel=selector)
    result = index.search(queries, k, params=params)
    assert len(bitmap)  # the bitmap must outlive the search: FAISS reads it through a raw pointer
    return result


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_path(path.parent)


def read_current(root: Path) -> dict | None:
    try:
        return json.loads((root / "CURRENT").read_text())
    except FileNotFoundError:
        return None


def _cleanup(root: Path, keep: int) -> None:
    """Called under the writer lock: any temp folder is a crashed writer's leftover."""
    for tmp in root.glob(".v*.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    for old in sorted(p for p in root.glob("v[0-9]*") if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _writer_lock(root: Path):
    """flock on root/.lock: one writer at a time per storage (advisory; on NFS it needs v4)."""
    fd = os.open(root / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@dataclass
class Meta:
    """Filter columns aligned with `ids` (sorted), held in memory as numpy arrays."""
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    year: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))  # 0 = unknown
    venue: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # code into venues
    venues: list[str] = field(default_factory=lambda: [""])  # code 0 = unknown

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id, -1 for ids not in the set."""
        return sorted_rows(self.ids, ids)

    def venue_codes(self, names: list[str]) -> np.ndarray:
        table = {v: i for i, v in enumerate(self.venues)}
        codes = []
        for name in names:
            if name not in table:
                table[name] = len(self.venues)
                self.venues.append(name)
            codes.append(table[name])
        return np.asarray(codes, np.int32)


def _merge_meta(meta: Meta, ids: np.ndarray, years, venues) -> Meta:
    keep = ~np.isin(meta.ids, ids)
    year = np.asarray([y or 0 for y in years] if years is not None else np.zeros(len(ids)), np.int16)
    venue = meta.venue_codes([v or "" for v in venues]) if venues is not None else np.zeros(len(ids), np.int32)
    all_ids = np.concatenate([meta.ids[keep], ids])
    order = np.argsort(all_ids, kind="stable")
    return Meta(all_ids[order], np.concatenate([meta.year[keep], year])[order],
                np.concatenate([meta.venue[keep], venue])[order], meta.venues)


class IndexSet:
    """The four vector spaces, the BM25 index and the metadata of one corpus snapshot."""

    def __init__(self, root: Path | str, cfg: IndexConfig | None = None):
        self.root = Path(root)
        self.cfg = cfg or IndexConfig()
        self.spaces = {s: _empty_flat(self.cfg.dim) for s in SPACES}
        self.trained_on = {s: 0 for s in SPACES}
        self.lexical = BM25()
        self.meta = Meta()
        self.version = 0
        self._generation = 0  # bumped by every change: invalidates the flat views below
        self._views: dict[str, tuple] = {}
        self._current_mtime = 0
        self._checked_at = 0.0

    @classmethod
    def open(cls, root: Path | str, cfg: IndexConfig | None = None) -> IndexSet:
        """The newest saved version under root, or an empty set if none was saved yet."""
        self = cls(root, cfg)
        self.root.mkdir(parents=True, exist_ok=True)
        self._load_current()
        return self

    def _load_current(self) -> None:
        for _ in range(3):  # a writer may delete the version we just read about: read again
            try:  # stat before reading, so a save in between is seen by the next maybe_reload
                mtime = (self.root / "CURRENT").stat().st_mtime_ns
            except FileNotFoundError:
                return
            current = read_current(self.root)
            folder = self.root / current["dir"]
            try:
                self._load_version(folder)
                self._current_mtime = mtime
                return
            except (FileNotFoundError, RuntimeError):  # FAISS reports a missing file as RuntimeError
                if folder.exists():
                    raise
        raise RuntimeError(f"index under {self.root} keeps changing while loading")

    def _load_version(self, folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text())
        if self.cfg.fingerprint and manifest["fingerprint"] != self.cfg.fingerprint:
            raise IndexMismatchError(f"{folder}: built for {manifest['fingerprint']!r}, "
                                     f"expected {self.cfg.fingerprint!r}")
        spaces = {s: faiss.read_index(str(folder / f"{s}.faiss")) for s in SPACES}
        lexical = BM25.load(folder / "lexical.npz")
        with np.load(folder / "meta.npz") as z:
            meta = Meta(z["ids"], z["year"], z["venue"], [str(v) for v in z["venues"]])
        # swap everything at once so a concurrent search sees the old or the new set
        self.spaces, self.lexical, self.meta = spaces, lexical, meta
        self._views = {}
        self.trained_on = manifest["trained_on"]
        self.version = manifest["version"]

    def maybe_reload(self) -> bool:
        """Cheap check (one stat per `reload_check_s`) for a newer version saved by another
        process (web and workers are separate processes, maybe separate machines)."""
        now = time.monotonic()
        if now - self._checked_at < self.cfg.reload_check_s:
            return False
        self._checked_at = now
        try:
            mtime = (self.root / "CURRENT").stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime == self._current_mtime:
            return False
        current = read_current(self.root)
        if current and current["version"] == self.version:
            self._current_mtime = mtime
            return False
        self._load_current()
        return True

    @property
    def ids(self) -> np.ndarray:
        return self.meta.ids

    def __len__(self) -> int:
        return len(self.meta.ids)

    def kind(self, space: str) -> str:
        return space_kind(self.spaces[space])

    def search(self, aspect: str, query_vec: np.ndarray, k: int,
               allowed_ids_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) in one space. `allowed_ids_mask` is a bool array aligned with
        `self.ids` (as the metadata columns are)."""
        allowed = None if allowed_ids_mask is None else self.meta.ids[allowed_ids_mask]
        if allowed is not None and not len(allowed):
            return np.zeros((1, 0), np.float32), np.zeros((1, 0), np.int64)
        return search_space(self.spaces[aspect], query_vec, k, allowed_ids=allowed)

    def reconstruct(self, aspect: str, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of `ids` (KeyError for an id not in this space)."""
        index = self.spaces[aspect]
        if space_kind(index) == "ivf":
            return reconstruct(index, ids)
        key = (index, index.ntotal, self._generation)
        if self._views.get(aspect, (None,))[:3] != key:
            self._views[aspect] = key + flat_view(index)
        x, sorted_ids, order = self._views[aspect][3:]
        rows = sorted_rows(sorted_ids, np.asarray(ids, np.int64))
        if (rows < 0).any():
            raise KeyError(f"ids not in the {aspect} space: {np.asarray(ids)[rows < 0][:5]}")
        return x[order[rows]]

    def add(self, ids, vectors_by_aspect: dict[str, np.ndarray], *, texts: list[str] | None = None,
            years=None, venues=None) -> None:
        """Insert or replace papers. Every space in `vectors_by_aspect` gets the rows; a space
        left out keeps its old vectors for these ids (aspects.py supplies a fallback vector for
        an aspect a paper lacks, so normally all four are given)."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError("duplicate ids in one add")
        self._generation += 1
        for space, vectors in vectors_by_aspect.items():
            if space not in SPACES:
                raise KeyError(f"unknown space {space!r}; expected one of {SPACES}")
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if vectors.shape != (len(ids), self.cfg.dim):
                raise ValueError(f"{space}: vectors {vectors.shape}, expected ({len(ids)}, {self.cfg.dim})")
            index = self.spaces[space]
            index.remove_ids(ids)
            index.add_with_ids(vectors, ids)
            if needs_rebuild(index, self.trained_on[space], self.cfg):
                self._rebuild_space(space)
        if texts is not None:
            self.lexical.add(ids, texts)
        self.meta = _merge_meta(self.meta, ids, years, venues)

    def _rebuild_space(self, space: str) -> None:
        index = self.spaces[space]
        ids = all_ids(index)
        self.spaces[space] = build_space(ids, reconstruct(index, ids), self.cfg)
        self.trained_on[space] = len(ids)

    def remove(self, ids) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self._generation += 1
        for space in SPACES:
            self.spaces[space].remove_ids(ids)
        self.lexical.remove(ids)
        keep = ~np.isin(self.meta.ids, ids)
        self.meta = Meta(self.meta.ids[keep], self.meta.year[keep], self.meta.venue[keep], self.meta.venues)

    @classmethod
    def build(cls, root: Path | str, ids, vectors_by_aspect: dict[str, np.ndarray], *, cfg=None,
              texts=None, years=None, venues=None) -> IndexSet:
        """A whole set from stored vectors (the rebuild-from-database path), not yet saved."""
        self = cls(root, cfg)
        ids = np.asarray(ids, dtype=np.int64)
        for space, vectors in vectors_by_aspect.items():
            self.spaces[space] = build_space(ids, vectors, self.cfg)
            self.trained_on[space] = len(ids)
        if texts is not None:
            self.lexical.add(ids, texts)
        self.meta = _merge_meta(self.meta, ids, years, venues)
        return self

    def manifest(self, version: int) -> dict:
        return {
            "format": FORMAT, "version": version, "created": time.time(),
            "fingerprint": self.cfg.fingerprint, "dim": self.cfg.dim, "count": len(self),
            "spaces": {s: {"type": self.kind(s), "count": int(self.spaces[s].ntotal)} for s in SPACES},
            "trained_on": self.trained_on, "config": asdict(self.cfg),
        }

    def save(self, *, force: bool = False) -> int:
        """Write a new version and make it current; returns its number. Raises StaleIndexError
        if another writer saved since this set was loaded (compare-and-set), unless `force`
        (a full rebuild from the database replaces whatever is there)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with _writer_lock(self.root):
            current = read_current(self.root)
            on_disk = current["version"] if current else 0
            if on_disk != self.version and not force:
                raise StaleIndexError(f"{self.root}: version {on_disk} on disk, this set is {self.version}")
            version = max(on_disk, self.version) + 1
            name = f"v{version:06d}"
            _cleanup(self.root, self.cfg.keep_versions)
            tmp = self.root / f".{name}.tmp-{os.getpid()}"
            tmp.mkdir()
            self._write_files(tmp, version)
            shutil.rmtree(self.root / name, ignore_errors=True)  # left by a writer that died before CURRENT
            os.rename(tmp, self.root / name)
            _fsync_path(self.root)
            write_atomic(self.root / "CURRENT", json.dumps({"version": version, "dir": name}).encode())
            self.version = version
            self._current_mtime = (self.root / "CURRENT").stat().st_mtime_ns
            _cleanup(self.root, self.cfg.keep_versions)
        return version

    def _write_files(self, folder: Path, version: int) -> None:
        for s in SPACES:
            faiss.write_index(self.spaces[s], str(folder / f"{s}.faiss"))
        self.lexical.save(folder / "lexical.npz")
        np.savez(folder / "meta.npz", ids=self.meta.ids, year=self.meta.year, venue=self.meta.venue,
                 venues=np.asarray(self.meta.venues, dtype=str))
        (folder / "manifest.json").write_text(json.dumps(self.manifest(version), indent=1))
        for f in folder.iterdir():
            _fsync_path(f)
        _fsync_path(folder)
