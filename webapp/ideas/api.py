"""JSON API of inspiration and idea runs (a django-ninja Router mounted at /api/ideas): rank
inspirations for a problem, start an idea run, poll it, export it. Every endpoint needs a session
or a bearer token; another user's run is a 404."""
from typing import Literal, Optional

from django.http import HttpResponse
from ninja import Field, Header, Router, Schema, Status
from ninja.errors import HttpError

from webapp import writes
from webapp.accounts.auth import AUTH
from webapp.http import ERRORS, WRITE_ERRORS, rate_check
from webapp.ideas import selectors, services
from webapp.ideas.models import IdeaRun
from webapp.papers.models import Paper

router = Router(tags=["ideas"], auth=AUTH)


class InspireIn(Schema):
    problem: str = Field(..., min_length=1, max_length=2000)
    k: int = Field(8, ge=1, le=30)


class InspirationOut(Schema):
    id: int
    title: str
    score: float
    problem_sim: float
    method_sim: float
    via: str
    problem_sentence: str
    method_sentence: str


class RunIn(Schema):
    problem: str = Field(..., min_length=1, max_length=2000)
    constraints: str = Field("", max_length=1000)
    n: int = Field(5, ge=1, le=services.MAX_IDEAS)
    paper_id: Optional[int] = Field(None, description="the paper whose problem this is, if any")


class RunOut(Schema):
    id: int
    status: str
    stage: str
    done: int
    total: int
    error: str
    problem: str
    constraints: str
    n: int
    ideas: list
    inspirations: list
    timings: dict


@router.post("/inspire", response={200: list[InspirationOut], **WRITE_ERRORS})
def inspire(request, body: InspireIn):
    """Papers whose methods could be carried over to the problem, best first, each with why."""
    rate_check("inspire", request)
    try:
        return selectors.inspirations_for(problem=body.problem, k=body.k)
    except services.IdeasRejected as exc:
        raise HttpError(400, str(exc)) from None


@router.post("", response={201: RunOut, **WRITE_ERRORS})
def create(request, response: HttpResponse, body: RunIn,
           idempotency_key: str = Header("", alias=writes.KEY_HEADER, description=writes.KEY_DOC, max_length=200)):
    """Queue an idea run; poll GET /api/ideas/{id} until status is done or failed. 429 past the hourly
    quota or while the LLM queue is full, 503 while the job queue cannot be reached (both with
    Retry-After; nothing is queued)."""
    paper = Paper.objects.filter(pk=body.paper_id).first() if body.paper_id else None
    try:
        run = writes.api_job_write(IdeaRun, request=request, response=response, key=idempotency_key,
                                   asked=body.dict(),
                                   create=lambda: services.idea_run_create(
                                       owner=request.auth, problem=body.problem, constraints=body.constraints,
                                       n=body.n, from_paper=paper))
    except services.IdeasRejected as exc:
        raise HttpError(400, str(exc)) from None
    return Status(201, run)


@router.get("", response={200: list[RunOut], **ERRORS})
def run_list(request):
    return list(selectors.idea_runs_of(user=request.auth)[:100])


@router.get("/{run_id}", response={200: RunOut, **ERRORS})
def detail(request, run_id: int):
    return selectors.idea_run_get(run_id=run_id, user=request.auth)


@router.get("/{run_id}/export", response={200: None, **ERRORS})
def export(request, run_id: int, format: Literal["md", "json"] = "md"):
    run = selectors.idea_run_get(run_id=run_id, user=request.auth)
    render = {"md": selectors.idea_run_markdown, "json": selectors.idea_run_json}[format]
    return HttpResponse(render(run), content_type="text/plain; charset=utf-8")
