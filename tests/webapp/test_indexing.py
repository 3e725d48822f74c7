"""Indexing service: segment + embed chunks, store vectors, publish to the on-disk indexes.
The encoder is the deterministic stand-in (tests/fakes.py); the segmenter, FAISS and the
database are real."""
import pytest

from discovery.index import IndexSet
from tests.conftest import FIXTURES
from tests.fakes import fake_encode
from webapp.imports import services
from webapp.papers import indexing, search
from webapp.imports.models import ImportJob
from webapp.jobs.models import JobStatus
from webapp.papers.models import Paper, PaperVectors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated_index(settings, tmp_path, monkeypatch):
    settings.INDEX_DIR = tmp_path / "index"
    settings.INDEX_AFTER_IMPORT = False
    monkeypatch.setattr("discovery.encoder.encode", fake_encode)
    search._index_set.cache_clear()
    yield
    search._index_set.cache_clear()


def import_mixed() -> ImportJob:
    job = services.import_job_create(path=str(FIXTURES / "import" / "mixed.jsonl"), enqueue=False)
    return services.import_job_run(job_id=job.pk)


def index_everything(job_id=None) -> int:
    services.import_index_chunk(ids=indexing.unindexed_ids(), job_id=job_id)
    version = services.import_index_publish()
    search._index_set.cache_clear()  # as a fresh web process would see it (others poll every second)
    return version


def test_it_stores_segmentation_and_vectors_and_publishes_them():
    import_mixed()
    version = index_everything()
    assert version >= 1 and PaperVectors.objects.count() == 4
    paper = Paper.objects.get(title="Sparse Attention for Long Documents")
    assert [s["text"] for s in paper.segmentation][0] == "We study long documents."
    assert {s["aspect"] for s in paper.segmentation} <= {"problem", "method", "findings", "other"}
    assert not paper.needs_indexing
    on_disk = IndexSet.open(search.settings.INDEX_DIR)
    assert sorted(on_disk.ids.tolist()) == sorted(Paper.objects.values_list("pk", flat=True))


def test_a_chunk_redelivered_after_a_crash_does_only_what_is_left():
    import_mixed()
    ids = indexing.unindexed_ids()
    assert indexing.papers_index_chunk(ids=ids[:2]) == 2
    assert indexing.papers_index_chunk(ids=ids) == 2  # the first two are already done


def test_search_finds_a_paper_by_its_words_in_every_aspect_view():
    import_mixed()
    index_everything()
    for aspect in ("all", "problem", "method", "findings"):
        page = search.paper_search(q="message passing molecules graphs", aspect=aspect)
        assert page.indexed and page.hits, aspect
        assert page.hits[0].paper.title == "Graph Networks for Chemistry", aspect


def test_search_filters_by_year():
    import_mixed()
    index_everything()
    page = search.paper_search(q="graphs documents passages", year_min=2020)  # the graph paper is from 2019
    assert page.hits and all(h.paper.year >= 2020 for h in page.hits)


def test_a_changed_paper_is_embedded_again_and_a_deleted_one_leaves_the_index(tmp_path):
    import_mixed()
    index_everything()
    changed = tmp_path / "changed.jsonl"
    changed.write_text('{"title": "Graph Networks for Chemistry", "abstract": "Proteins fold. We use diffusion."}\n')
    services.import_job_run(job_id=services.import_job_create(path=str(changed), enqueue=False).pk)
    assert indexing.unindexed_ids() == [Paper.objects.get(title="Graph Networks for Chemistry").pk]
    Paper.objects.filter(title="Sparse Attention for Long Documents").delete()
    index_everything()
    hits = search.paper_search(q="proteins fold diffusion").hits
    assert hits[0].paper.title == "Graph Networks for Chemistry"
    assert "Sparse Attention for Long Documents" not in [h.paper.title for h in hits]


def test_publishing_finishes_the_import_job_once_its_papers_are_in():
    job = import_mixed()
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.INDEXING, index_total=4, index_done=0)
    index_everything(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.index_done) == (JobStatus.DONE, 4)


def test_an_empty_query_and_an_empty_index_say_so():
    assert search.paper_search(q="anything").indexed is False
    import_mixed()
    index_everything()
    page = search.paper_search(q="   ")
    assert page.indexed and page.hits == []


def test_an_indexing_chunk_counts_its_progress_step_by_step(monkeypatch):
    """The bar moves within a chunk (issue 15.15: 0 / 400 for 70 s, then a jump)."""
    job = import_mixed()
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.INDEXING, index_total=4)
    monkeypatch.setattr(services, "INDEX_STEP", 1)
    seen = []
    index_step = indexing.papers_index_chunk

    def counted(*, ids):
        seen.append(ImportJob.objects.get(pk=job.pk).index_done)
        return index_step(ids=ids)

    monkeypatch.setattr(indexing, "papers_index_chunk", counted)
    assert services.import_index_chunk(ids=indexing.unindexed_ids(), job_id=job.pk)
    assert seen == [0, 1, 2, 3] and ImportJob.objects.get(pk=job.pk).index_done == 4


def test_a_fresh_worker_says_it_is_loading_the_encoder(monkeypatch):
    job = import_mixed()
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.INDEXING, index_total=4)
    monkeypatch.setattr(indexing, "_encoder_loaded", False)
    monkeypatch.setattr(indexing, "_kernels_unbuilt", lambda: True)
    stages = []
    monkeypatch.setattr(indexing, "papers_embed", lambda papers: stages.append(
        ImportJob.objects.get(pk=job.pk).stage_label) or ([[]] * len(papers), {}))
    monkeypatch.setattr(indexing, "_store", lambda *a: None)
    services.import_index_chunk(ids=indexing.unindexed_ids()[:1], job_id=job.pk)
    assert stages == ["Building the encoder's kernels (first start only)"]
    assert ImportJob.objects.get(pk=job.pk).stage == ""  # said while loading only
