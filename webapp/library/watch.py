"""Novelty watch: every saved idea that is watched is re-assessed (discovery.novelty, the report's
own deterministic assessment, without the LLM) against each published index version. An alert is
raised when an aspect's novelty drops by at least DROP_ALERT, or when a paper that arrived since
the last reading became the aspect's nearest prior work; it carries the paper, the aspect and the
before / after scores, and shows on the idea's page, in the next digest and in the Atom feed."""
from __future__ import annotations

import logging

import numpy as np
from django.db import IntegrityError, transaction

from discovery import ASPECTS, SPACES
from webapp.library.models import AlertKind, IdeaNovelty, SavedIdea, WatchAlert
from webapp.papers import indexing, search
from webapp.papers.models import Paper

log = logging.getLogger(__name__)
# Calibrated novelty is a share of corpus papers (0.9: further from prior work than 90% of papers
# are from theirs); a tenth of the corpus overtaking the idea is worth telling.
DROP_ALERT = 0.1


def _aspects(idea: SavedIdea) -> tuple[str, ...]:
    """Findings the idea does not state cannot lose novelty (their score is the whole idea's)."""
    return ASPECTS if idea.findings.strip() else ("problem", "method")


def idea_vectors(idea: SavedIdea) -> dict[str, np.ndarray]:
    """The idea's vector per space (discovery.novelty.idea_vectors, built like a paper's), stored
    on the row the first time and read from it after, while the encoder stays the same."""
    from discovery import novelty

    key = indexing.model_key()
    if not (idea.vectors and idea.vectors_key == key):
        vectors = novelty.idea_vectors(novelty.Idea(idea.problem, idea.method, idea.findings))
        data = np.stack([vectors[s] for s in SPACES]).astype(np.float16).tobytes()
        SavedIdea.objects.filter(pk=idea.pk).update(vectors=data, vectors_key=key)
        idea.vectors, idea.vectors_key = data, key
    flat = np.frombuffer(bytes(idea.vectors), dtype=np.float16).astype(np.float32)
    return dict(zip(SPACES, flat.reshape(len(SPACES), -1)))


def idea_reading(*, idea: SavedIdea, idx=None) -> IdeaNovelty:
    """The idea's novelty against the current index version, stored once per version."""
    from discovery import novelty

    idx = idx or search.index_set()
    existing = IdeaNovelty.objects.filter(idea=idea, index_version=idx.version).first()
    if existing:
        return existing
    result = novelty.assess(idx, novelty.Idea(idea.problem, idea.method, idea.findings), search.index_calibration(idx),
                            vectors=idea_vectors(idea))
    nearest = {a: [result.evidence[a][0].id, round(result.evidence[a][0].similarity, 4)] for a in ASPECTS}
    scores = {k: round(float(v), 4) for k, v in result.scores.items()}
    try:
        with transaction.atomic():
            return IdeaNovelty.objects.create(idea=idea, index_version=idx.version, scores=scores, nearest=nearest)
    except IntegrityError:  # a concurrent watch run stored this version first
        return IdeaNovelty.objects.get(idea=idea, index_version=idx.version)


def watch_idea(*, idea_id: int) -> IdeaNovelty | None:
    """The first reading of a newly saved idea: the baseline later alerts compare with."""
    idea = SavedIdea.objects.filter(pk=idea_id).first()
    idx = search.index_set()
    if idea is None or len(idx) < 2:
        return None
    return idea_reading(idea=idea, idx=idx)


def watch_run(*, version: int | None = None) -> list[WatchAlert]:
    """Re-assess every watched idea against the current index; returns the alerts raised."""
    idx = search.index_set()
    if len(idx) < 2:
        return []
    alerts = []
    for idea in SavedIdea.objects.filter(watch=True):
        previous = idea.novelty.filter(index_version__lt=idx.version).order_by("-index_version").first()
        try:
            reading = idea_reading(idea=idea, idx=idx)
        except ValueError as exc:  # nothing to compare with (an empty corpus)
            log.warning("novelty watch: idea %s not assessed: %s", idea.pk, exc)
            continue
        if previous is not None and not WatchAlert.objects.filter(idea=idea, index_version=idx.version).exists():
            alerts += idea_alerts(idea=idea, before=previous, after=reading)
    return alerts


def idea_alerts(*, idea: SavedIdea, before: IdeaNovelty, after: IdeaNovelty) -> list[WatchAlert]:
    new_ids = _arrived_since(before, [after.nearest[a][0] for a in _aspects(idea)])
    alerts = []
    for aspect in _aspects(idea):
        was, now = float(before.scores[aspect]), float(after.scores[aspect])
        paper_id = after.nearest[aspect][0]
        new_nearest = paper_id != before.nearest[aspect][0] and paper_id in new_ids
        if was - now >= DROP_ALERT or new_nearest:
            kind = AlertKind.DROP if was - now >= DROP_ALERT else AlertKind.NEAREST
            alerts.append(WatchAlert(idea=idea, paper_id=paper_id, aspect=aspect, kind=kind, before=was, after=now,
                                     index_version=after.index_version))
    return WatchAlert.objects.bulk_create(alerts)


def _arrived_since(reading: IdeaNovelty, ids: list[int]) -> set[int]:
    return set(Paper.objects.filter(pk__in=ids, created_at__gt=reading.assessed_at).values_list("pk", flat=True))
