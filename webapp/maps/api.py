"""The field map in the JSON API: a space's clusters at one level, and the gap map of one level.
Public reads like the search pages; both say which index version the map was built for."""
from typing import Literal, Optional

from ninja import Field, Query, Router, Schema

from webapp.maps import selectors

router = Router()

Space = Literal["all", "paper", "problem", "method", "findings"]


class MapQuery(Schema):
    space: Space = Field("all", description="all (the whole paper), problem, method or findings")
    level: int = Field(1, ge=1, le=5, description="1 = the top families")


class GapsQuery(Schema):
    level: int = Field(1, ge=1, le=5)


class MapState(Schema):
    version: Optional[int] = Field(description="index version the map was built for; null: no map yet")
    published: Optional[int] = Field(description="the published index version")
    building: bool = Field(description="a map is being built")
    stale: bool = Field(description="the map is of an older version than the published one")
    levels: int


class ClusterOut(Schema):
    id: str = Field(description="path from the top: '3', '3.2'")
    label: str
    terms: list[str] = Field(description="the label's terms, by c-TF-IDF over the space's sentences")
    size: int
    parent: Optional[str]
    level: int
    representatives: list[int] = Field(description="paper ids nearest the cluster's centroid")
    years: dict[str, int] = Field(description="papers per publication year")
    trend: str = Field(description="growing, fading or steady (recent share against the corpus's)")
    x: int = Field(description="position on the ideation map of the space (0-4095)")
    y: int


class MapOut(MapState):
    space: str
    level: Optional[int]
    clusters: list[ClusterOut]


class FamilyOut(Schema):
    id: str
    label: str
    size: int


class GapOut(Schema):
    problem: str
    method: str
    problem_label: str
    method_label: str
    observed: int
    expected: float
    score: float = Field(description="(expected - observed) / sqrt(expected); higher is more under-explored")
    nearest: list[int] = Field(description="paper ids nearest the combination")


class GapsOut(MapState):
    level: int
    problem: list[FamilyOut]
    method: list[FamilyOut]
    periods: list[str]
    counts: list[list[int]] = Field(description="papers in both families: one row per problem family, one "
                                              "column per method family")
    expected: list[list[float]] = Field(description="papers expected from the methods of related problem families")
    history: list[list[list[int]]] = Field(description="papers per period (see periods), per cell")
    under_explored: list[GapOut] = Field(description="best first")


@router.get("/map", response=MapOut, tags=["map"])
def field_map(request, query: Query[MapQuery]):
    """The clusters of one space at one level of its hierarchy."""
    return selectors.map_clusters(space="paper" if query.space == "all" else query.space, level=query.level)


@router.get("/gaps", response=GapsOut, tags=["map"])
def gap_map(request, query: Query[GapsQuery]):
    """The problem x method gap map of one level, with the ranked under-explored cells."""
    return selectors.gap_map(level=query.level)
