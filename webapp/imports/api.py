"""The import part of the JSON API (a django-ninja Router mounted at /api/imports): upload a
corpus file, list your jobs, follow one. Needs a session (with CSRF) or a bearer token."""
from datetime import datetime
from typing import Optional

from django.http import HttpResponse
from ninja import Field, File, Form, Header, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from webapp import writes
from webapp.accounts.auth import AUTH
from webapp.http import ERRORS, WRITE_ERRORS, Message, ValidationOut, rate_check
from webapp.imports import selectors, services
from webapp.imports.models import ImportJob

router = Router(tags=["imports"], auth=AUTH)


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
    stage: str
    eta_s: Optional[float] = Field(None, description="seconds left in the current phase (import or indexing) at "
                                                     "its rate so far; null until there is a rate")
    created_at: datetime
    started_at: Optional[datetime]
    finished_at: Optional[datetime]


class Pages(PageNumberPagination):
    """Page numbers bounded, so an absurd page cannot overflow the database's OFFSET."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=100_000)
        page_size: Optional[int] = Field(None, ge=1, le=100)


@router.post("", response={201: ImportJobOut, **WRITE_ERRORS})
def import_create(request, response: HttpResponse, file: File[UploadedFile], format: Form[str] = "",
                  idempotency_key: str = Header("", alias=writes.KEY_HEADER, description=writes.KEY_DOC,
                                                max_length=200)):
    """Upload a corpus file; the import (and then indexing) runs in the background. A retry with
    the same Idempotency-Key (same file name, size and format) returns the first job."""
    rate_check("import", request)
    if file.size == 0:
        raise HttpError(400, "the file is empty")
    asked = {"name": file.name, "size": file.size, "format": format}
    try:
        job = writes.api_job_write(ImportJob, request=request, response=response, key=idempotency_key, asked=asked,
                                   create=lambda: services.upload_import(upload=file, fmt=format, owner=request.auth))
    except services.ImportRejected as exc:
        raise HttpError(400, str(exc)) from None
    return Status(201, job)


@router.get("", response={200: list[ImportJobOut], 401: Message, 422: ValidationOut})
@paginate(Pages, page_size=20, max_page_size=100)
def import_list(request):
    return selectors.import_jobs_of(user=request.auth)


@router.get("/{job_id}", response={200: ImportJobOut, **ERRORS})
def import_status(request, job_id: int):
    """Progress of one of your import jobs (another user's job is a 404)."""
    return selectors.import_job_get(job_id=job_id, user=request.auth)
