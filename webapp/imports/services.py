"""Writes behind the browser and the API: storing an upload and turning it into an import job,
and API tokens. The import itself is webapp.papers.services' job."""
from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from discovery.corpus import FormatError, detect_format
from webapp.papers.models import ImportJob
from webapp.papers.services import ImportRejected, import_job_create

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name that cannot climb out of its folder or hide as a dotfile."""
    base = _UNSAFE.sub("_", os.path.basename(name or "")).lstrip("._")
    return base[:120] or "upload"


def upload_store(*, upload: UploadedFile) -> Path:
    """Copy the upload in chunks to UPLOAD_DIR/<uuid>/<safe name>: outside the web root, one
    folder per upload so two files of the same name never collide."""
    if upload.size > settings.MAX_UPLOAD_MB * 1024 * 1024:
        raise ImportRejected(f"the file is larger than {settings.MAX_UPLOAD_MB} MB")
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / safe_name(upload.name)
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def upload_import(*, upload: UploadedFile, fmt: str = "", owner) -> ImportJob:
    """Store the upload, check from its content that it is a corpus file at all (the name says
    nothing), and queue its import. A rejected upload leaves nothing on disk."""
    path = upload_store(upload=upload)
    try:
        if not fmt:
            detect_format(path)  # raises with the reason: a PDF, binary, a single line ...
        return import_job_create(path=str(path), filename=upload.name[:300], fmt=fmt, owner=owner)
    except (FormatError, ImportRejected) as exc:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise ImportRejected(str(exc).replace(str(path), upload.name)) from None
