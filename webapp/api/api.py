"""The JSON API's root (django-ninja): the apps' routers mounted under /api, and error handling.
OpenAPI schema at /api/openapi.json, interactive docs at /api/docs.

Reads are public like the search pages; writes need a session (with CSRF) or a bearer token.
Every error is JSON with a `message`; validation errors add one message per field. The root
imports the apps' routers, never the reverse."""
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from webapp.http import Message, Refused, ValidationOut, refused_response, server_timing
from webapp.ideas.api import router as ideas_router
from webapp.imports.api import router as imports_router
from webapp.maps.api import router as maps_router
from webapp.papers.api import router as papers_router
from webapp.reports.api import router as reports_router



class Api(NinjaAPI):
    """The schema documents, on every operation, the errors the root's handlers can give it: 422
    (validation) wherever the operation takes input, 401 and 403 (a bad, expired or read-only
    token) wherever it needs authentication. Done here so that no router can forget them."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in (("ValidationOut", ValidationOut), ("Message", Message)):
            components.setdefault(name, model.model_json_schema(ref_template="#/components/schemas/{model}"))
        for operation in (op for ops in schema["paths"].values() for op in ops.values()):
            _document_errors(operation)
        return schema


def _document_errors(operation: dict) -> None:
    responses = operation["responses"]

    def add(status: int, name: str, description: str) -> None:
        responses.setdefault(status, {"description": description, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}})
    if operation.get("parameters") or "requestBody" in operation:
        add(422, "ValidationOut", "Invalid input: one message per field")
    if operation.get("security"):
        add(401, "Message", "Not signed in, or the API token is unknown, revoked or expired")
        add(403, "Message", "A read-only token on a write, or a session write without its CSRF token")


api = Api(title="Ideation Space API", version="1", urls_namespace="api",
          description="Search a paper corpus by problem, method and findings; import corpora.")
_SOURCES = ("query", "path", "body", "form", "file", "header", "cookie")
api.add_router("", papers_router)
api.add_router("/imports", imports_router)
api.add_router("/reports", reports_router)
api.add_router("/ideas", ideas_router)
api.add_router("", maps_router)


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


@api.exception_handler(Refused)
def refused(request, exc: Refused):
    return refused_response(exc)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, {"message": str(exc)}, status=exc.status_code)


def api_urls():
    """The API's URL patterns, each view timed whole (serialisation included) in Server-Timing."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = server_timing(pattern.callback)
    return patterns, app_name, namespace
