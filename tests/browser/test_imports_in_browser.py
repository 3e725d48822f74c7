"""Sign up, upload a file, watch the import (and indexing) finish through a real Celery worker;
another user cannot open the job."""
import pytest
from celery.contrib.testing.worker import start_worker

from tests.browser.conftest import screenshot
from tests.conftest import FIXTURES
from webapp.papers import search
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus
from worker.celery import app

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _has_indexing() -> bool:
    """Indexing needs discovery.aspects and the trained segmenter's weights."""
    try:
        from discovery import aspects  # noqa: F401
        from discovery.segmenter import WEIGHTS
    except ImportError:
        return False
    return WEIGHTS.exists()


@pytest.fixture
def worker(settings, tmp_path, transactional_db):
    """A real worker on the index queue, in this process; indexing (with the real encoder) runs
    when the product has it, else the job is done once imported."""
    settings.INDEX_DIR = tmp_path / "index"
    settings.INDEX_AFTER_IMPORT = _has_indexing()
    search._index_set.cache_clear()
    with start_worker(app, queues=["index"], perform_ping_check=False, concurrency=1, pool="solo"):
        yield
    search._index_set.cache_clear()


def sign_up(web, username: str) -> None:
    web.goto("/accounts/signup/")
    web.fill("input[name=username]", username)
    web.fill("input[name=password1]", "a long pass phrase 42")
    web.fill("input[name=password2]", "a long pass phrase 42")
    web.click("form.stacked button[type=submit]")
    web.wait_for_selector(f"header nav >> text={username}")


def test_it_signs_up_uploads_and_watches_the_import_finish(web, worker):
    sign_up(web, "erin")
    web.click("header nav >> text=Imports")
    web.click("text=Import a file")
    web.set_input_files("input[type=file]", str(FIXTURES / "import" / "mixed.jsonl"))
    web.click("form.stacked button[type=submit]")
    web.wait_for_url("**/imports/*/")
    screenshot(web, "import-started")
    web.wait_for_selector("#import-job[data-status=done], #import-job[data-status=failed]", timeout=120_000)
    assert web.locator("#import-status").inner_text() == "Done", web.locator("#import-job").inner_text()
    assert "4 created" in web.locator("#import-counts").inner_text()
    assert web.locator("table.failures tbody tr").count() == 3
    assert "missing title" in web.locator("table.failures").inner_text()
    screenshot(web, "import-finished")
    job = ImportJob.objects.get()
    assert job.owner.username == "erin" and job.status == JobStatus.DONE
    web.click("text=← Your imports")
    assert web.locator("table.jobs", has_text="mixed.jsonl").count() == 1
    assert not web.errors


def test_it_hides_a_job_from_another_user(web, alice, bob):
    job = ImportJob.objects.create(owner=alice, path="/nowhere", filename="alices-secret.jsonl")
    web.goto("/accounts/login/")
    web.fill("input[name=username]", "bob")
    web.fill("input[name=password]", "correct horse battery")
    web.click("form.stacked button[type=submit]")
    web.wait_for_selector("header nav >> text=bob")
    response = web.goto(f"/imports/{job.pk}/")
    assert response.status == 404
    assert "alices-secret" not in web.content()
    screenshot(web, "job-of-another-user-404")
    web.goto("/imports/")
    assert "alices-secret" not in web.content()
