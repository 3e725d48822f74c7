"""JSON API of novelty reports (a django-ninja Router mounted at /api/reports): split an idea,
create a report, poll it, read the result. Every endpoint needs a session or a bearer token;
another user's report is a 404."""
from typing import Literal, Optional

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from webapp.accounts.auth import AUTH
from webapp.reports import selectors, services

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


class MessageOut(Schema):
    message: str


@router.post("/split", response={200: IdeaFields, 400: MessageOut})
def split(request, body: SplitIn):
    """Free text -> problem, method, findings, to correct before creating the report."""
    try:
        return services.report_split(text=body.text)
    except services.ReportRejected as exc:
        raise HttpError(400, str(exc)) from None


@router.post("", response={201: ReportOut, 400: MessageOut})
def create(request, body: ReportIn):
    """Queue a novelty report; poll GET /api/reports/{id} until status is done or failed."""
    try:
        report = services.report_create(owner=request.auth, **body.dict())
    except services.ReportRejected as exc:
        raise HttpError(400, str(exc)) from None
    return Status(201, report)


@router.get("", response=list[ReportOut])
def report_list(request):
    return list(selectors.reports_of(user=request.auth)[:100])


@router.get("/{report_id}", response={200: ReportOut, 404: MessageOut})
def detail(request, report_id: int):
    return selectors.report_get(report_id=report_id, user=request.auth)


@router.get("/{report_id}/export", response={200: None, 404: MessageOut})
def export(request, report_id: int, format: Literal["md", "json", "bib"] = "md"):
    """The report as Markdown, JSON, or BibTeX of the cited papers."""
    report = selectors.report_get(report_id=report_id, user=request.auth)
    render = {"md": selectors.report_markdown, "json": selectors.report_json, "bib": selectors.report_bibtex}[format]
    return HttpResponse(render(report), content_type="text/plain; charset=utf-8")
