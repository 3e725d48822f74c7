"""The corpus part of the JSON API (a django-ninja Router mounted at /api): search, index
status, papers, similar papers by aspect. Reads are public like the search pages."""
from typing import Literal, Optional

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from webapp.http import ERRORS, add_server_timing, client_key, over_limit
from webapp.papers import search as paper_search, selectors

router = Router()

Aspect = Literal["all", "problem", "method", "findings"]
Sort = Literal["relevance", "newest"]
SimilarAspect = Literal["problem", "method", "findings", "all"]


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=500, description="free text")
    aspect: Aspect = "all"
    year_min: Optional[int] = Field(None, ge=1000, le=2100)
    year_max: Optional[int] = Field(None, ge=1000, le=2100)
    venue: Optional[str] = Field(None, max_length=300)
    sort: Sort = Field("relevance", description="relevance: best match first; newest: the relevant papers, "
                                                "newest first (relevance breaks ties)")
    page: int = Field(1, ge=1, le=500)
    per_page: int = Field(20, ge=1, le=100)


class PaperBrief(Schema):
    id: int
    title: str
    authors: list[str]
    year: Optional[int]
    venue: str
    url: str


class Sentence(Schema):
    text: str
    aspect: str


class PaperOut(PaperBrief):
    abstract: str
    doi: str
    arxiv_id: str
    segmentation: list[Sentence]
    indexed: bool


class HitOut(Schema):
    paper: PaperBrief
    score: float = Field(description="fused rank score (higher is better)")
    sims: dict[str, float] = Field(description="cosine similarity with the query per space")
    matched: str = Field(description="the aspect that matched best")


class SearchOut(Schema):
    items: list[HitOut]
    total: int = Field(description="papers that entered the final ranking")
    page: int
    per_page: int
    pages: int
    indexed: bool = Field(description="false while the corpus has no index yet")


class IndexStatusOut(Schema):
    indexed: int
    papers: int
    version: Optional[int]


def _limit(request: HttpRequest, scope: str) -> None:
    if over_limit(scope, client_key(request)):
        raise HttpError(429, f"too many {scope} requests; try again later")


def _hit(hit) -> dict:
    return {"paper": hit.paper, "score": hit.score, "sims": hit.sims, "matched": hit.matched}


def _paper(paper) -> dict:
    return {**{f: getattr(paper, f) for f in ("id", "title", "authors", "year", "venue", "url", "abstract", "doi",
                                            "arxiv_id", "segmentation")}, "indexed": bool(paper.indexed_hash)}


@router.get("/search", response={200: SearchOut, **ERRORS}, tags=["search"])
def search(request, response: HttpResponse, query: Query[SearchQuery]):
    """Papers for a free-text query, ranked in the chosen aspect's space (all: the whole paper)."""
    _limit(request, "search")
    page = paper_search.paper_search(q=query.q, aspect=query.aspect, year_min=query.year_min,
                                     year_max=query.year_max, venue=query.venue or None, page=query.page,
                                     per_page=query.per_page, sort=query.sort)
    add_server_timing(response, "search", page.timings.get("total", 0.0))
    return {"items": [_hit(h) for h in page.hits], "total": page.total, "page": page.page,
            "per_page": page.per_page, "pages": page.pages, "indexed": page.indexed}


@router.get("/status", response=IndexStatusOut, tags=["search"])
def status(request):
    """How much of the corpus is indexed, and the index version."""
    return paper_search.index_status()


@router.get("/papers/{paper_id}", response={200: PaperOut, **ERRORS}, tags=["papers"])
def paper(request, paper_id: int):
    return _paper(selectors.paper_get(paper_id=paper_id))


@router.get("/papers/{paper_id}/similar", response={200: list[HitOut], **ERRORS}, tags=["papers"])
def paper_similar(request, paper_id: int, aspect: SimilarAspect = "problem", k: int = Query(10, ge=1, le=50)):
    """More like this paper, by aspect (nearest neighbours in that aspect's space)."""
    found = selectors.paper_get(paper_id=paper_id)
    return [_hit(h) for h in paper_search.papers_similar(paper=found, aspect=aspect, k=k)]
