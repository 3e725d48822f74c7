"""A bounded schemathesis run against the API's own OpenAPI schema, in-process (WSGI): every
operation gets a few generated requests, valid and invalid; none may cause a server error, and
the search, paper and import operations must answer only as their schema documents."""
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from webapp.accounts.services import token_create
from webapp.wsgi import application

# The coverage phase would add every boundary case of every parameter on top of max_examples;
# generated examples alone keep the run bounded.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=CONFIG)
pytestmark = pytest.mark.django_db
OWN_TAGS = {"search", "papers", "imports"}
# Operations that do seconds of work inside the request (idea inspiration runs retrieval and the
# LLM synchronously): fuzzed with 2 examples so the whole run stays under a minute.
SLOW = r"/ideas/inspire$"


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the database connection after each request, which would end the
    test's transaction; Django's own test client switches that off the same way."""
    signal_pairs = [(request_started, close_old_connections), (request_finished, close_old_connections)]
    for signal, receiver in signal_pairs:
        signal.disconnect(receiver)
    yield
    for signal, receiver in signal_pairs:
        signal.connect(receiver)


@pytest.fixture
def token_header(corpus, alice, settings, tmp_path, keep_test_connection):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return {"Authorization": f"Bearer {token_create(user=alice, name='fuzz')[1]}"}


def check(case, headers) -> None:
    response = case.call(headers=headers)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    if set(case.operation.tags or ()) & OWN_TAGS:  # other apps' routers answer for their own schema
        case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                 response_schema_conformance])


BOUNDS = dict(deadline=None, derandomize=True, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])


@schema.exclude(path_regex=SLOW).parametrize()
@hypothesis_settings(max_examples=10, **BOUNDS)
def test_it_answers_every_generated_request_without_a_server_error(case, token_header):
    check(case, token_header)


@schema.include(path_regex=SLOW).parametrize()
@hypothesis_settings(max_examples=2, **BOUNDS)
def test_it_answers_the_slow_synchronous_operations_without_a_server_error(case, token_header):
    check(case, token_header)
