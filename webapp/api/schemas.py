"""Request and response shapes of the JSON API (they are the OpenAPI schema)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal, Optional

from ninja import Field, Schema

Aspect = Literal["all", "problem", "method", "findings"]
SimilarAspect = Literal["problem", "method", "findings", "all"]


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=500, description="free text")
    aspect: Aspect = "all"
    year_min: Optional[int] = Field(None, ge=1000, le=2100)
    year_max: Optional[int] = Field(None, ge=1000, le=2100)
    venue: Optional[str] = Field(None, max_length=300)
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


class Failure(Schema):
    location: str
    reason: str


class ImportJobOut(Schema):
    id: int
    filename: str
    format: str
    status: str
    error: str
    done: int
    total: int
    percent: int
    created: int
    updated: int
    skipped: int
    failed: int
    failures: list[Failure]
    index_done: int
    index_total: int
    created_at: datetime
    started_at: Optional[datetime]
    finished_at: Optional[datetime]


class IndexStatusOut(Schema):
    indexed: int
    papers: int
    version: Optional[int]


class Message(Schema):
    message: str


class ValidationOut(Schema):
    message: str
    errors: dict[str, str] = Field(description="one message per invalid field")
