"""Reads of the stored field maps: clusters of a space at a level, the gap map, one cluster's
papers, and where an idea (a novelty report's fields) falls on both. The newest finished map is
shown; while the published version's map is being built, the previous one stays up (`stale`)."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from discovery import SPACES
from discovery.fieldmap import load_arrays
from discovery.hierarchy import normalised
from webapp.jobs.models import JobStatus
from webapp.maps.models import FieldMap
from webapp.papers import search
from webapp.papers.models import IndexState, Paper

PAPERS_SHOWN = 20  # papers listed for a clicked cluster, nearest its centroid first
HEAT_STEPS = 8  # colour steps of the heat map (log scale)


@dataclass
class Loaded:
    pk: int
    version: int
    count: int
    build_s: float | None
    data: dict
    arrays: dict[str, np.ndarray]
    matrices: dict[int, dict] = field(default_factory=dict)  # gap map level -> dense matrices

    def clusters(self, space: str, level: int | None = None) -> list[dict]:
        found = self.data["spaces"].get(space, {}).get("clusters", [])
        return [c for c in found if level is None or c["level"] == level]

    @property
    def levels(self) -> int:
        return len(self.data.get("gaps", [])) or max((s["levels"] for s in self.data["spaces"].values()), default=0)


@functools.lru_cache(maxsize=2)
def _load(pk: int) -> Loaded:
    row = FieldMap.objects.get(pk=pk)
    return Loaded(row.pk, row.index_version, row.index_count, row.build_s, row.data, load_arrays(bytes(row.arrays)))


def fieldmap_loaded() -> Loaded | None:
    """The newest finished map (parsed once per process)."""
    pk = FieldMap.objects.filter(status=JobStatus.DONE).values_list("pk", flat=True).first()
    return _load(pk) if pk else None


def fieldmap_building() -> FieldMap | None:
    """The map being built (queued or running), if any."""
    return FieldMap.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).defer("data", "arrays").first()


def fieldmap_state() -> dict:
    """What the pages say about the map: its version, and whether the published one is newer."""
    loaded = fieldmap_loaded()
    published = IndexState.current().version or None
    building = fieldmap_building()
    return {"version": loaded.version if loaded else None, "published": published, "building": building is not None,
            "stale": bool(loaded and published and loaded.version != published), "build_s": loaded.build_s if loaded else None}


def label_text(cluster: dict) -> str:
    return ", ".join(cluster["label"]) or f"cluster {cluster['id']}"


def _cluster_out(c: dict) -> dict:
    return {"id": c["id"], "label": label_text(c), "terms": c["label"], "size": c["size"], "parent": c["parent"],
            "level": c["level"], "representatives": c["representatives"], "years": c["years"], "trend": c["trend"],
            "x": c["x"], "y": c["y"]}


def map_clusters(*, space: str, level: int | None = None) -> dict:
    """Clusters of one space (one level, or all), as the API and the map page give them."""
    loaded = fieldmap_loaded()
    out = {**fieldmap_state(), "space": space, "level": level, "levels": loaded.levels if loaded else 0}
    out["clusters"] = [_cluster_out(c) for c in loaded.clusters(space, level)] if loaded else []
    return out


def map_members(*, space: str) -> dict:
    """Each paper's cluster per level (index into that level's clusters), for colouring the map."""
    loaded = fieldmap_loaded()
    if not loaded or "ids" not in loaded.arrays:
        return {"ids": [], "levels": []}
    levels = [loaded.arrays[f"{space}.assign{lv}"].tolist() for lv in range(1, loaded.levels + 1)
              if f"{space}.assign{lv}" in loaded.arrays]
    return {"ids": loaded.arrays["ids"].tolist(), "levels": levels}


def cluster_detail(*, space: str, cluster_id: str) -> dict | None:
    """One cluster: its label, sizes, years, children, and its papers nearest its centroid."""
    loaded = fieldmap_loaded()
    found = [c for c in loaded.clusters(space) if c["id"] == cluster_id] if loaded and loaded.arrays else []
    if not found:
        return None
    c = found[0]
    level_clusters = loaded.clusters(space, c["level"])
    members = loaded.arrays["ids"][loaded.arrays[f"{space}.assign{c['level']}"] == level_clusters.index(c)]
    centroid = loaded.arrays[f"{space}.centroids{c['level']}"][level_clusters.index(c)].astype(np.float32)
    return {**_cluster_out(c), "children": [_cluster_out(k) for k in loaded.clusters(space, c["level"] + 1)
                                            if k["parent"] == c["id"]],
            "papers": _nearest_members(space, members, centroid)}


def _nearest_members(space: str, members: np.ndarray, centroid: np.ndarray) -> list[dict]:
    idx = search.index_set()
    present = members[idx.meta.rows(members) >= 0]
    if len(present):
        sims = normalised(idx.reconstruct(space, present)) @ centroid
        present = present[np.argsort(-sims, kind="stable")[:PAPERS_SHOWN]]
    rows = Paper.objects.in_bulk(present.tolist())
    return [{"id": int(i), "title": rows[i].title, "year": rows[i].year} for i in present.tolist() if i in rows]


def _gap_level(loaded: Loaded, level: int) -> dict | None:
    found = [g for g in loaded.data.get("gaps", []) if g["level"] == level]
    return found[0] if found else None


def gap_map(*, level: int) -> dict:
    """The problem x method matrix of one level (rows: problem families), its expectation and
    per-period history, with the ranked under-explored cells."""
    loaded = fieldmap_loaded()
    gaps = _gap_level(loaded, level) if loaded else None
    out = {**fieldmap_state(), "level": level, "levels": loaded.levels if loaded else 0}
    if not gaps:
        return {**out, "problem": [], "method": [], "periods": [], "counts": [], "expected": [], "history": [],
                "under_explored": []}
    problems = {c["id"]: c for c in loaded.clusters("problem", level)}
    methods = {c["id"]: c for c in loaded.clusters("method", level)}
    brief = lambda c: {"id": c["id"], "label": label_text(c), "size": c["size"]}  # noqa: E731
    return {**out, "problem": [brief(problems[i]) for i in gaps["problem"]],
            "method": [brief(methods[i]) for i in gaps["method"]], "periods": gaps["periods"],
            **_matrices(loaded, level),
            "under_explored": [{**g, "problem_label": label_text(problems[g["problem"]]),
                                "method_label": label_text(methods[g["method"]])} for g in gaps["under_explored"]]}


def _matrices(loaded: Loaded, level: int) -> dict:
    """Dense counts, expectations and histories from the stored cells (the non-empty ones),
    once per loaded map and level."""
    if level in loaded.matrices:
        return loaded.matrices[level]
    gaps = _gap_level(loaded, level)
    shape = (len(gaps["problem"]), len(gaps["method"]))
    counts, expected = np.zeros(shape, np.int64), np.zeros(shape)
    history = np.zeros(shape + (len(gaps["periods"]),), np.int64)
    for i, j, n, e, h in gaps["cells"]:
        counts[i, j], expected[i, j], history[i, j] = n, e, h
    loaded.matrices[level] = {"counts": counts.tolist(), "expected": expected.round(1).tolist(),
                              "history": history.tolist()}
    return loaded.matrices[level]


def heat_step(count: int, most: int) -> int:
    """0 for an empty cell, else 1..HEAT_STEPS on a log scale up to the fullest cell."""
    if count <= 0:
        return 0
    return 1 + min(HEAT_STEPS - 1, int((HEAT_STEPS - 1) * math.log1p(count) / math.log1p(max(most, 1))))


def idea_place(*, vectors: dict[str, np.ndarray]) -> dict:
    """The cluster nearest an idea in every space and level ({space: [id per level]}), from its
    vectors (discovery.novelty.idea_vectors): the clusters to mark on the map and the gap cell."""
    loaded = fieldmap_loaded()
    if not loaded:
        return {}
    out = {}
    for space in SPACES:
        ids = []
        for level in range(1, loaded.levels + 1):
            centroids = loaded.arrays.get(f"{space}.centroids{level}")
            clusters = loaded.clusters(space, level)
            if centroids is None or not len(clusters) or space not in vectors:
                break
            ids.append(clusters[int(np.argmax(centroids.astype(np.float32) @ normalised(
                np.atleast_2d(vectors[space]))[0]))]["id"])
        out[space] = ids
    return out


def family_texts(cluster_ids: list[str], space: str) -> dict[str, str]:
    """A concrete statement per cluster for the Inspire me and novelty report links: the
    `space` sentences of the paper nearest its centroid (its label terms when it has none)."""
    loaded = fieldmap_loaded()
    clusters = {c["id"]: c for c in loaded.clusters(space)} if loaded else {}
    first = {cid: clusters[cid]["representatives"][0] for cid in cluster_ids if clusters.get(cid, {}).get("representatives")}
    rows = Paper.objects.in_bulk(list(first.values()))
    out = {}
    for cid in cluster_ids:
        paper = rows.get(first.get(cid))
        text = " ".join(paper.sentences_of(space)) if paper else ""
        out[cid] = text or (label_text(clusters[cid]) if cid in clusters else "")
    return out


def papers_brief(*, ids: list[int]) -> dict[int, dict]:
    rows = Paper.objects.in_bulk(list(set(ids)))
    return {pk: {"id": pk, "title": p.title, "year": p.year, "venue": p.venue} for pk, p in rows.items()}
