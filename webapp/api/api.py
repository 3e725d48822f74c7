"""The JSON API (django-ninja): search, papers, similar papers by aspect, import jobs.
OpenAPI schema at /api/openapi.json, interactive docs at /api/docs.

Reads are public like the search pages; imports need a session (with CSRF) or a bearer token.
Every error is JSON with a `message`; validation errors add one message per field."""
from typing import Optional

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, File, Form, NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError, ValidationError
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from webapp.api.auth import AUTH
from webapp.api.schemas import (HitOut, ImportJobOut, IndexStatusOut, Message, PaperOut, SearchOut, SearchQuery,
                                SimilarAspect, ValidationOut)
from webapp.papers import ideation, selectors as paper_selectors
from webapp.papers.services import ImportRejected
from webapp.ui import selectors, services
from webapp.ui.limits import add_server_timing, client_key, over_limit, server_timing

api = NinjaAPI(title="Ideation Space API", version="1", urls_namespace="api",
               description="Search a paper corpus by problem, method and findings; import corpora.")
_SOURCES = ("query", "path", "body", "form", "file", "header", "cookie")
api.add_router("/reports", "webapp.reports.api.router")
api.add_router("/ideas", "webapp.ideas.api.router")
ERRORS = {400: Message, 401: Message, 404: Message, 422: ValidationOut, 429: Message}


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ())]
        if len(loc) > 1 and loc[0] in _SOURCES:  # ("query", "page") -> "page"; ("file",) stays "file"
            loc = loc[1:]
        errors.setdefault(".".join(loc) or "request", err.get("msg", "invalid"))
    return api.create_response(request, {"message": "invalid input", "errors": errors}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"message": str(exc) or "not found"}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, {"message": str(exc)}, status=exc.status_code)


class Pages(PageNumberPagination):
    """Page numbers bounded, so an absurd page cannot overflow the database's OFFSET."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=100_000)
        page_size: Optional[int] = Field(None, ge=1, le=100)


def _limit(request: HttpRequest, scope: str) -> None:
    if over_limit(scope, client_key(request)):
        raise HttpError(429, f"too many {scope} requests; try again later")


def _hit(hit) -> dict:
    return {"paper": hit.paper, "score": hit.score, "sims": hit.sims, "matched": hit.matched}


def _paper(paper) -> dict:
    return {**{f: getattr(paper, f) for f in ("id", "title", "authors", "year", "venue", "url", "abstract", "doi",
                                            "arxiv_id", "segmentation")}, "indexed": bool(paper.indexed_hash)}


@api.get("/search", response={200: SearchOut, **ERRORS}, tags=["search"])
def search(request, response: HttpResponse, query: Query[SearchQuery]):
    """Papers for a free-text query, ranked in the chosen aspect's space (all: the whole paper)."""
    _limit(request, "search")
    page = ideation.paper_search(q=query.q, aspect=query.aspect, year_min=query.year_min, year_max=query.year_max,
                                 venue=query.venue or None, page=query.page, per_page=query.per_page)
    add_server_timing(response, "search", page.timings.get("total", 0.0))
    return {"items": [_hit(h) for h in page.hits], "total": page.total, "page": page.page,
            "per_page": page.per_page, "pages": page.pages, "indexed": page.indexed}


@api.get("/status", response=IndexStatusOut, tags=["search"])
def status(request):
    """How much of the corpus is indexed, and the index version."""
    return ideation.index_status()


@api.get("/papers/{paper_id}", response={200: PaperOut, **ERRORS}, tags=["papers"])
def paper(request, paper_id: int):
    return _paper(selectors.paper_get(paper_id=paper_id))


@api.get("/papers/{paper_id}/similar", response={200: list[HitOut], **ERRORS}, tags=["papers"])
def paper_similar(request, paper_id: int, aspect: SimilarAspect = "problem", k: int = Query(10, ge=1, le=50)):
    """More like this paper, by aspect (nearest neighbours in that aspect's space)."""
    found = selectors.paper_get(paper_id=paper_id)
    return [_hit(h) for h in ideation.papers_similar(paper=found, aspect=aspect, k=k)]


@api.post("/imports", response={201: ImportJobOut, **ERRORS}, auth=AUTH, tags=["imports"])
def import_create(request, file: File[UploadedFile], format: Form[str] = ""):
    """Upload a corpus file; the import (and then indexing) runs in the background."""
    _limit(request, "import")
    if file.size == 0:
        raise HttpError(400, "the file is empty")
    try:
        job = services.upload_import(upload=file, fmt=format, owner=request.auth)
    except ImportRejected as exc:
        raise HttpError(400, str(exc)) from None
    return Status(201, job)


@api.get("/imports", response={200: list[ImportJobOut], 401: Message, 422: ValidationOut}, auth=AUTH, tags=["imports"])
@paginate(Pages, page_size=20, max_page_size=100)
def import_list(request):
    return paper_selectors.import_jobs_of(user=request.auth)


@api.get("/imports/{job_id}", response={200: ImportJobOut, **ERRORS}, auth=AUTH, tags=["imports"])
def import_status(request, job_id: int):
    """Progress of one of your import jobs (another user's job is a 404)."""
    return selectors.import_job_get(job_id=job_id, user=request.auth)


def api_urls():
    """The API's URL patterns, each view timed whole (serialisation included) in Server-Timing."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = server_timing(pattern.callback)
    return patterns, app_name, namespace
