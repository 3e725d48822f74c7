"""The map-of-the-field job: queued after a publish, built from the index and the papers'
sentences, stored per index version; its reads (clusters, gap map, a cluster's papers, an idea)."""
import numpy as np
import pytest

from tests.ui.field_corpus import PROBLEMS, VARIANTS, make_field_papers, map_field
from webapp.jobs import lifecycle
from webapp.jobs.models import JobStatus
from webapp.maps import selectors, services
from webapp.maps.models import FieldMap
from webapp.papers.models import IndexState, Paper

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    sent = []
    monkeypatch.setattr(lifecycle, "task_send", lambda name, *args: sent.append((name, *args)))
    from webapp.maps import signals
    monkeypatch.setattr(signals, "task_send", lambda name, *args: sent.append((name, *args)))
    return sent


@pytest.fixture
def mapped(settings, tmp_path, monkeypatch):
    papers = make_field_papers()
    job = map_field(papers, settings, tmp_path, monkeypatch)
    selectors._load.cache_clear()
    yield papers, job
    selectors._load.cache_clear()


def test_it_builds_and_stores_the_map_of_the_published_version(mapped):
    papers, job = mapped
    assert job.status == JobStatus.DONE and job.error == ""
    assert job.index_version == IndexState.current().version and job.index_count == len(papers)
    assert job.build_s is not None and set(job.data["spaces"]) == {"paper", "problem", "method", "findings"}


def test_it_labels_the_problem_families_by_their_words(mapped):
    clusters = selectors.map_clusters(space="problem", level=1)["clusters"]
    assert len(clusters) == 4 and sum(c["size"] for c in clusters) == len(mapped[0])
    families = [set(f"{text} {' '.join(VARIANTS)}".lower().split()) for _, text in PROBLEMS]
    matched = [[i for i, words in enumerate(families) if set(" ".join(c["terms"]).split()) <= words] for c in clusters]
    assert sorted(m[0] for m in matched if len(m) == 1) == [0, 1, 2, 3], (matched, [c["label"] for c in clusters])


def test_the_gap_map_ranks_the_left_out_combination_first(mapped):
    gaps = selectors.gap_map(level=1)
    top = gaps["under_explored"][0]
    assert "folding" in top["problem_label"] or "protein" in top["problem_label"]
    assert "diffusion" in top["method_label"] or "denoising" in top["method_label"]
    assert top["observed"] == 0 and len(top["nearest"]) == 5
    assert sum(map(sum, gaps["counts"])) == len(mapped[0]) and len(gaps["history"][0][0]) == len(gaps["periods"])


def test_a_cluster_lists_its_papers_nearest_its_centre(mapped):
    top = selectors.map_clusters(space="method", level=1)["clusters"][0]
    detail = selectors.cluster_detail(space="method", cluster_id=top["id"])
    assert len(detail["papers"]) == min(top["size"], selectors.PAPERS_SHOWN)
    assert detail["children"] and all(c["parent"] == top["id"] for c in detail["children"])
    assert selectors.cluster_detail(space="method", cluster_id="99") is None


def test_an_idea_falls_in_the_families_of_its_words(mapped, monkeypatch):
    from discovery import novelty
    from tests.fakes import fake_encode

    monkeypatch.setattr("discovery.encoder.encode", fake_encode)
    idea = novelty.Idea("Forecasting urban traffic congestion on road networks is hard.",
                        "We apply denoising diffusion models with score sampling.", "")
    place = selectors.idea_place(vectors=novelty.idea_vectors(idea))
    problem = [c for c in selectors.map_clusters(space="problem", level=1)["clusters"] if c["id"] == place["problem"][0]][0]
    method = [c for c in selectors.map_clusters(space="method", level=1)["clusters"] if c["id"] == place["method"][0]][0]
    titles = lambda c: [Paper.objects.get(pk=i).title for i in c["representatives"]]  # noqa: E731
    assert all("traffic" in t for t in titles(problem)) and all(t.startswith("Diffusion") for t in titles(method))


def test_a_request_for_a_mapped_version_queues_nothing(mapped, _no_broker):
    _, job = mapped
    assert services.fieldmap_request(version=job.index_version).pk == job.pk
    assert FieldMap.objects.count() == 1


def test_a_failed_map_is_queued_again(mapped):
    _, job = mapped
    FieldMap.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    again = services.fieldmap_request(version=job.index_version)
    assert again.pk != job.pk and again.status == JobStatus.QUEUED


def test_a_job_for_a_replaced_version_fails_with_the_reason(mapped):
    _, job = mapped
    old = FieldMap.objects.create(index_version=job.index_version - 1 if job.index_version > 1 else 999)
    services.fieldmap_run(job_id=old.pk)
    old.refresh_from_db()
    assert old.status == JobStatus.FAILED and "replaced by" in old.error


def test_publishing_an_index_version_queues_its_map(db, _no_broker, django_capture_on_commit_callbacks):
    from webapp.papers.indexing import index_published

    with django_capture_on_commit_callbacks(execute=True):
        index_published.send(sender=IndexState, version=7)
    assert ("maps.fieldmap_build", 7) in _no_broker


def test_nothing_is_queued_before_a_first_publish(db):
    assert services.fieldmap_request() is None
    assert selectors.fieldmap_loaded() is None
    assert selectors.gap_map(level=1)["counts"] == [] and selectors.map_clusters(space="paper")["clusters"] == []


def test_the_stored_arrays_give_each_paper_one_cluster_per_level(mapped):
    members = selectors.map_members(space="problem")
    assert sorted(members["ids"]) == sorted(p.pk for p in mapped[0])
    assert len(members["levels"]) == 2 and all(len(level) == len(members["ids"]) for level in members["levels"])
    assert np.unique(members["levels"][0]).tolist() == [0, 1, 2, 3]


def test_the_command_builds_the_published_version_s_map(settings, tmp_path, monkeypatch, capsys):
    from django.core.management import CommandError, call_command

    from tests.ui.corpus import index_corpus
    from tests.ui.field_corpus import CONFIG

    with pytest.raises(CommandError, match="nothing is published"):
        call_command("fieldmap_build")
    papers = make_field_papers()
    index_corpus(papers, settings, tmp_path, monkeypatch)
    monkeypatch.setattr(services, "CONFIG", CONFIG)
    call_command("fieldmap_build")
    assert f"{len(papers)} papers" in capsys.readouterr().out
    assert FieldMap.objects.get().status == JobStatus.DONE
