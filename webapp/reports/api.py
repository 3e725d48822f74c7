"""JSON API of novelty reports (a django-ninja Router mounted at /api/reports): split an idea,
create a report, poll it, read the result. Every endpoint needs a session or a bearer token;
another user's report is a 404."""
from typing import Literal, Optional

from django.http import HttpResponse
from ninja import Field, Header, Router, Schema, Status
from ninja.errors import HttpError

from webapp import writes
from webapp.accounts.auth import AUTH
from webapp.http import ERRORS, WRITE_ERRORS, rate_check
from webapp.reports import selectors, services
from webapp.reports.models import NoveltyReport

router = Router(tags=["reports"], auth=AUTH)


class SplitIn(Schema):
    text: str = Field(..., min_length=1, max_length=4000)


class IdeaFields(Schema):
    problem: str
    method: str
    findings: str


class ReportIn(Schema):
    problem: str = Field("", max_length=2000)
    method: str = Field("", max_length=2000)
    findings: str = Field("", max_length=2000)
    text: str = Field("", max_length=4000, description="free text, split by the job when problem/method are empty")
    as_of: Optional[int] = Field(None, ge=1900, le=2100, description="only papers up to this year count")


class ReportOut(Schema):
    id: int
    status: str
    stage: str
    error: str
    problem: str
    method: str
    findings: str
    as_of: Optional[int]
    verdict: str
    assessment: dict
    rationale: dict
    timings: dict


@router.post("/split", response={200: IdeaFields, **WRITE_ERRORS})
def split(request, body: SplitIn):
    """Free text -> problem, method, findings, to correct before creating the report."""
    rate_check("split", request)
    try:
        return services.report_split(text=body.text)
    except services.ReportRejected as exc:
        raise HttpError(400, str(exc)) from None


@router.post("", response={201: ReportOut, **WRITE_ERRORS})
def create(request, response: HttpResponse, body: ReportIn,
           idempotency_key: str = Header("", alias=writes.KEY_HEADER, description=writes.KEY_DOC, max_length=200)):
    """Queue a novelty report; poll GET /api/reports/{id} until status is done or failed. 429 past the
    hourly quota or while the LLM queue is full, 503 while the job queue cannot be reached (both
    with Retry-After; nothing is queued)."""
    try:
        report = writes.api_job_write(NoveltyReport, request=request, response=response, key=idempotency_key,
                                      asked=body.dict(),
                                      create=lambda: services.report_create(owner=request.auth, **body.dict()))
    except services.ReportRejected as exc:
        raise HttpError(400, str(exc)) from None
    return Status(201, report)


@router.get("", response={200: list[ReportOut], **ERRORS})
def report_list(request):
    return list(selectors.reports_of(user=request.auth)[:100])


@router.get("/{report_id}", response={200: ReportOut, **ERRORS})
def detail(request, report_id: int):
    return selectors.report_get(report_id=report_id, user=request.auth)


@router.get("/{report_id}/export", response={200: None, **ERRORS})
def export(request, report_id: int, format: Literal["md", "json", "bib"] = "md"):
    """The report as Markdown, JSON, or BibTeX of the cited papers."""
    report = selectors.report_get(report_id=report_id, user=request.auth)
    render = {"md": selectors.report_markdown, "json": selectors.report_json, "bib": selectors.report_bibtex}[format]
    return HttpResponse(render(report), content_type="text/plain; charset=utf-8")
