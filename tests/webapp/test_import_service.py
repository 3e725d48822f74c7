import shutil

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.conftest import FIXTURES
from webapp.imports import services
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper

MIXED = FIXTURES / "import" / "mixed.jsonl"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_indexing(settings):
    settings.INDEX_AFTER_IMPORT = False


def run_import(path, **kwargs):
    job = services.import_job_create(path=str(path), enqueue=False, **kwargs)
    return services.import_job_run(job_id=job.pk)


def test_it_keeps_good_records_and_names_the_three_broken_ones():
    job = run_import(MIXED)
    assert job.status == JobStatus.DONE
    assert (job.created, job.failed) == (4, 3)
    assert Paper.objects.count() == 4
    locations = sorted(f["location"] for f in job.failures)
    assert locations == ["line 3", "line 4", "line 6"]
    assert any("title" in f["reason"] for f in job.failures)
    assert job.done == job.total == 7


def test_it_creates_nothing_on_a_second_import():
    run_import(MIXED)
    again = run_import(MIXED)
    assert (again.created, again.updated, again.skipped) == (0, 0, 4)
    assert Paper.objects.count() == 4


def test_it_fills_in_a_paper_that_changed(tmp_path):
    run_import(MIXED)
    changed = tmp_path / "changed.jsonl"
    changed.write_text('{"title": "Graph Networks for Chemistry", "abstract": "A new abstract.", "year": 2019}\n')
    job = run_import(changed)
    assert (job.created, job.updated) == (0, 1)
    assert Paper.objects.get(title="Graph Networks for Chemistry").abstract == "A new abstract."


def test_it_resumes_after_a_worker_died_half_way(settings):
    settings.IMPORT_BATCH_SIZE = 2
    job = services.import_job_create(path=str(MIXED), enqueue=False)

    def die_after_first_batch(_job):
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        services.import_job_run(job_id=job.pk, on_batch=die_after_first_batch)
    job.refresh_from_db()
    assert (job.status, job.done) == (JobStatus.RUNNING, 2)  # whole batches only
    assert Paper.objects.count() == 2

    # While the dead worker's heartbeat is fresh nobody else may take the job...
    assert services.import_job_run(job_id=job.pk) is None
    # ...once it is stale, a retry finishes it without importing anything twice.
    ImportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timezone.timedelta(hours=1))
    job = services.import_job_run(job_id=job.pk)
    assert (job.status, job.created, job.failed, job.done) == (JobStatus.DONE, 4, 3, 7)
    assert Paper.objects.count() == 4


def test_a_finished_job_is_not_run_again():
    job = run_import(MIXED)
    assert services.import_job_run(job_id=job.pk) is None


def test_it_rejects_an_unknown_format_and_a_missing_file(tmp_path):
    with pytest.raises(services.ImportRejected, match="unknown format 'docx'"):
        services.import_job_create(path=str(MIXED), fmt="docx", enqueue=False)
    with pytest.raises(services.ImportRejected, match="no such readable file"):
        services.import_job_create(path=str(tmp_path / "nope.jsonl"), enqueue=False)


def test_it_fails_the_job_when_the_format_cannot_be_told(tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 8)
    job = run_import(blob)
    assert job.status == JobStatus.FAILED
    assert "blob.bin" in job.error


def test_the_command_imports_and_prints_a_summary(capsys):
    call_command("import_papers", str(MIXED))
    out = capsys.readouterr().out
    assert "4 created, 0 updated, 0 unchanged, 3 failed" in out
    assert "line 3" in out


def test_the_command_exits_non_zero_on_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="no such readable file"):
        call_command("import_papers", str(tmp_path / "missing.csv"))


def test_it_imports_a_gzipped_demo_corpus(tmp_path):
    import gzip

    from webapp.launcher import DEMO_CORPUS

    packed = tmp_path / "seed.txt.gz"
    with open(DEMO_CORPUS, "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    job = run_import(packed)
    assert (job.created, job.failed) == (119, 0)
    assert Paper.objects.filter(title__startswith="LLM.int8()").exists()
