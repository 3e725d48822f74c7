"""A standalone ideation-space index for scripted use and evaluation (`python -m discovery index
build`): the same on-disk IndexSet folder the site publishes, plus two files beside the version
folders, both keyed by the index version (a version never changes once saved):

    papers-v000001.jsonl    one line per paper: {"iid", "id", "title", "year", "segmentation"}
                            (FAISS keys are int64, so corpus ids such as "aaai2022-00444" map
                            to iid = row number + 1)
    calibration-v000001.npz the corpus's nearest-neighbour similarities (novelty.calibrate)

An index folder the site built has no papers file: novelty still runs and reports its ids.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from discovery import SPACES, aspects
from discovery.index import IndexSet, write_atomic
from discovery.novelty import Calibration, calibration_for


@dataclass
class BuildConfig:
    batch: int = 512  # papers embedded per encoder call (memory stays flat on 49k papers)
    calibration_sample: int = 5000  # corpus papers whose nearest neighbours calibrate the scores


def papers_path(root: Path | str, version: int) -> Path:
    return Path(root) / f"papers-v{version:06d}.jsonl"


def _batches(records: Iterator, size: int) -> Iterator[list]:
    batch = []
    for record in records:
        if hasattr(record, "title"):  # RecordError lines are skipped (reported by the reader)
            batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(input_path: Path | str, out: Path | str, *, cfg: BuildConfig | None = None, limit: int | None = None,
          progress: Callable[[int], None] = lambda done: None) -> int:
    """Index a corpus file (any format discovery.corpus reads) into `out`; returns the version."""
    from itertools import islice

    from discovery.corpus import read_records

    cfg = cfg or BuildConfig()
    records = read_records(input_path)
    records = islice(records, limit) if limit else records
    rows, vectors, texts, years, venues = [], {s: [] for s in SPACES}, [], [], []
    for batch in _batches(records, cfg.batch):
        embedded = aspects.embed_papers([(r.title, r.abstract) for r in batch])
        for r, segmentation in zip(batch, embedded.segmentations()):
            iid = len(rows) + 1
            rows.append({"iid": iid, "id": r.source_id or str(iid), "title": r.title, "year": r.year,
                         "segmentation": segmentation})
            texts.append(f"{r.title}\n{r.abstract}")
            years.append(r.year or 0)
            venues.append(r.venue)
        for s in SPACES:
            vectors[s].append(embedded.vectors[s])
        progress(len(rows))
    if not rows:
        raise ValueError(f"{input_path}: no readable records")
    ids = np.arange(1, len(rows) + 1, dtype=np.int64)
    index_set = IndexSet.build(out, ids, {s: np.concatenate(v) for s, v in vectors.items()}, texts=texts,
                               years=years, venues=venues)
    version = index_set.save(force=True)
    write_atomic(papers_path(out, version), "".join(json.dumps(r) + "\n" for r in rows).encode())
    calibration_for(index_set, sample=cfg.calibration_sample)
    return version


@dataclass
class Standalone:
    index_set: IndexSet
    calibration: Calibration
    papers: dict[int, dict]  # iid -> papers file row; empty for a site-built folder

    @classmethod
    def open(cls, root: Path | str) -> Standalone:
        root = Path(root)
        if not (root / "CURRENT").exists():
            raise FileNotFoundError(f"{root}: no index here (build one with `python -m discovery index build`)")
        index_set = IndexSet.open(root)
        papers = {}
        path = papers_path(root, index_set.version)
        if path.exists():
            with open(path) as f:
                papers = {row["iid"]: row for row in map(json.loads, f)}
        return cls(index_set, calibration_for(index_set), papers)

    def external_id(self, iid: int):
        """The corpus's own id of a paper (the index id for a site-built folder)."""
        return self.papers[iid]["id"] if iid in self.papers else iid

    def titles(self, ids) -> dict[int, str]:
        return {i: self.papers[i]["title"] for i in ids if i in self.papers}

    def sentences_of(self, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        return {i: [(s["text"], s["aspect"]) for s in self.papers[i]["segmentation"]] for i in ids if i in self.papers}
