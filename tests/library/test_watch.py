"""Novelty watch: a saved idea's first reading, then an alert with the paper, the aspect and the
before / after scores when a paper planted next to it is indexed; the history chart; the alert
in the digest."""
import numpy as np
import pytest

from webapp.library import digests, watch
from webapp.library.models import AlertKind, IdeaNovelty, SavedIdea, WatchAlert
from webapp.papers import search
from webapp.papers.models import IndexState, Paper

pytestmark = pytest.mark.django_db

# Words the tiny corpus does not use, so that the idea starts out novel (stand-in encoder: bag of words).
IDEA = {"problem": "Glacier melt rates under warming are unknown",
        "method": "Kriging glacier elevation from satellite tiles"}
PLANTED = ("Glacier melt from satellites",
           "Glacier melt rates under warming are unknown. Kriging glacier elevation from satellite tiles. "
           "Melt doubled since 1990.")


@pytest.fixture(autouse=True)
def same_space(monkeypatch):
    """The stand-in corpus vectors never went through the trained aspect heads; the idea's must not either."""
    monkeypatch.setattr("discovery.aspects.apply_heads", lambda vectors, cfg=None: vectors)


def plant(title: str, abstract: str) -> Paper:
    """Index one more paper into a new version, as a publish would (stand-in vectors)."""
    from discovery.index import IndexSet
    from tests.ui.corpus import _fake_vectors

    paper = Paper.objects.create(title=title, abstract=abstract, year=2025, fingerprint=f"planted:{title}")
    idx = IndexSet.open(search.index_set().root)
    idx.add([paper.pk], _fake_vectors([paper]), texts=[f"{title}\n{abstract}"], years=[2025], venues=[""])
    IndexState.objects.filter(pk=IndexState.current().pk).update(version=idx.save())
    search._index_set.cache_clear()
    return paper


def test_a_paper_planted_next_to_a_saved_idea_raises_an_alert(corpus, alice, client):
    idea = SavedIdea.objects.create(owner=alice, title="Glaciers <b>", **IDEA)
    first = watch.watch_idea(idea_id=idea.pk)
    assert first.index_version == search.index_set().version and not watch.watch_run()  # no change, no alert
    paper = plant(*PLANTED)
    alerts = watch.watch_run(version=search.index_set().version)
    assert {a.aspect for a in alerts} == {"problem", "method"}  # no findings stated: not watched
    for alert in alerts:
        assert alert.paper_id == paper.pk and alert.kind == AlertKind.DROP
        assert alert.before - alert.after >= watch.DROP_ALERT
    assert IdeaNovelty.objects.filter(idea=idea).count() == 2
    assert not watch.watch_run()  # the same version again: no second alert
    client.force_login(alice)
    page = client.get(f"/library/ideas/{idea.pk}/").text
    assert 'id="novelty-chart"' in page and page.count("<polyline") == 3 and PLANTED[0] in page
    assert "Glaciers &lt;b&gt;" in page


def test_an_unrelated_paper_raises_no_alert(corpus, alice):
    idea = SavedIdea.objects.create(owner=alice, title="Glaciers", **IDEA)
    watch.watch_idea(idea_id=idea.pk)
    plant("Protein docking with lattices", "Docking proteins is slow. We use lattice search. It is faster.")
    assert watch.watch_run() == []


def test_an_unwatched_idea_is_not_reassessed(corpus, alice):
    idea = SavedIdea.objects.create(owner=alice, title="Glaciers", watch=False, **IDEA)
    plant(*PLANTED)
    watch.watch_run()
    assert not IdeaNovelty.objects.filter(idea=idea).exists()


def test_the_alert_goes_into_the_next_digest_once(corpus, alice):
    from django.core import mail

    idea = SavedIdea.objects.create(owner=alice, title="Glaciers", **IDEA)
    watch.watch_idea(idea_id=idea.pk)
    plant(*PLANTED)
    watch.watch_run()
    run = digests.digests_send()
    digest = run.built[0]
    assert WatchAlert.objects.filter(digest=digest).count() == 2
    assert "novelty dropped" in mail.outbox[0].body and PLANTED[0] in mail.outbox[0].body
    assert "novelty alert" in mail.outbox[0].subject


def test_the_chart_scales_novelty_into_the_box():
    from webapp.library.selectors import novelty_chart

    history = [IdeaNovelty(index_version=v, scores={"problem": s, "method": 1.0}) for v, s in ((1, 0.9), (2, 0.1))]
    chart = novelty_chart(history)
    problem = next(line for line in chart["lines"] if line["aspect"] == "problem")
    (x0, y0), (x1, y1) = (tuple(map(float, p.split(","))) for p in problem["points"].split())
    assert x0 < x1 and y0 < y1  # novelty fell: the line goes down the screen
    assert chart["top"] <= min(y0, y1) and max(y0, y1) <= chart["bottom"]
    assert [v for _, v in chart["versions"]] == [1, 2] and np.isclose(chart["top"], 24)
