"""Digests: for every reader who is due (daily or weekly), the papers indexed into the corpus
since their last digest, ranked against their library by discovery.digest, with a reason for
every pick and the novelty-watch alerts not yet delivered; stored (the /digest/ page and the Atom
feed read the rows), then mailed through Django's e-mail backend. A mail the backend refused is
recorded as failed with its error, never as sent, and is tried again by the next run."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from discovery import SPACES
from webapp.library import watch
from webapp.library.models import (Collection, Digest, DigestItem, DigestSettings, DigestStatus, Frequency, SavedIdea,
                                   WatchAlert)
from webapp.papers import search
from webapp.papers.models import Paper

log = logging.getLogger(__name__)
PERIODS = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}
# Beat runs the job once a day; a digest mailed a few minutes later yesterday is still due today.
DUE_SLACK = timedelta(hours=1)
UNSUBSCRIBE_SALT = "library.digest.unsubscribe"
RESEND_WITHIN = timedelta(days=3)
CHUNK = 100  # readers ranked together: their classifiers come from one matrix product


@dataclass
class DigestRun:
    built: list[Digest] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # due, but nothing new for them
    preview: list[tuple[str, list[str]]] = field(default_factory=list)  # dry run: (user, reasons)


def settings_of(user) -> DigestSettings:
    return DigestSettings.objects.get_or_create(user=user)[0]


def unsubscribe_token(user) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_user(token: str):
    """The user a signed token names, or None for a forged or mangled one."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)["u"]
    except (signing.BadSignature, KeyError, TypeError):
        return None
    return get_user_model().objects.filter(pk=pk).first()


def _readers():
    """Users with something to rank against: a collection with papers, or a saved idea."""
    users = get_user_model().objects.filter(Q(collections__entries__isnull=False) | Q(saved_ideas__isnull=False))
    return users.filter(is_active=True).distinct()


def _due(user, now, force: bool = False):
    """The start of the reader's window when their digest is due (or `force`), else None: the end
    of their last digest's window, else one period back. Off is off, even with `force`."""
    prefs = settings_of(user)
    if prefs.frequency == Frequency.OFF:
        return None
    period = PERIODS[prefs.frequency]
    last = Digest.objects.filter(user=user).order_by("-until").values_list("until", flat=True).first()
    if last is None:
        return now - period
    return last if force or now - last >= period - DUE_SLACK else None


def digests_send(*, dry_run: bool = False, now=None, force: bool = False) -> DigestRun:
    """Build, store and mail the digests of every reader who is due (`force`: every reader).
    `dry_run` builds and reports only: nothing is stored, mailed or marked delivered."""
    run, now = DigestRun(), now or timezone.now()
    if not dry_run:
        _resend_failed(run, now)
    due = [(u, since) for u in _readers() if (since := _due(u, now, force)) is not None]
    idx = search.index_set()
    if not due or len(idx) < 2:
        return run
    window = _new_papers(idx, min(since for _, since in due), now)
    model = _shared_model(idx, window)
    from threadpoolctl import threadpool_limits

    # Ranking one reader is small matrix work: BLAS threads only spin against the other processes
    # of a worker machine (discovery.bench.digest: 71 ms CPU per reader with 2 threads, 16 with 1).
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(due), CHUNK):
            _send_chunk(due[start:start + CHUNK], window, model, idx, run, dry_run, now)
    return run


def _send_chunk(due, window, model, idx, run: DigestRun, dry_run: bool, now) -> None:
    """Readers whose collections' classifiers are fitted together (discovery.digest.collection_weights)."""
    from discovery import digest

    sources = {user.pk: _sources(user, idx) for user, _ in due}
    weights = digest.collection_weights([c for cols, _ in sources.values() for c in cols], model.negatives,
                                        digest.DigestConfig())
    for user, since in due:
        collections, ideas = sources[user.pk]
        picks = digest.rank(digest.NewPapers(window.ids, window.vectors), collections=collections, ideas=ideas,
                            negatives=model.negatives, gate=model.gate, transition=model.transition,
                            allowed=window.created > since.timestamp(), weights=weights)
        alerts = list(WatchAlert.objects.filter(idea__owner=user, digest=None).select_related("idea", "paper"))
        if not picks and not alerts:
            run.skipped += 1
            continue
        nearest = [p.nearest_id for p in picks if p.nearest_id]
        saved = dict(Paper.objects.filter(pk__in=nearest).values_list("pk", "title"))
        reasons = [reason_of(p, saved) for p in picks]
        if dry_run:
            titles = dict(Paper.objects.filter(pk__in=[p.paper_id for p in picks]).values_list("pk", "title"))
            lines = [f"{titles.get(p.paper_id, '')} | {r}" for p, r in zip(picks, reasons)]
            run.preview.append((user.username, lines + [alert_line(a) for a in alerts]))
            continue
        stored = _store(user, since, window, idx.version, picks, reasons, alerts)
        run.built.append(stored)
        _deliver(stored, run, now)


@dataclass
class Window:
    ids: np.ndarray  # new papers in the index, created in the window
    created: np.ndarray  # their created_at as POSIX seconds
    until: object  # the window's end: now, or just before the first paper still being indexed
    vectors: dict[str, np.ndarray]


def _new_papers(idx, since, now) -> Window:
    """Papers created after `since` that are in the published index. A paper created in the
    window but not indexed yet ends the window just before it, so the next digest has it."""
    rows = list(Paper.objects.filter(created_at__gt=since, created_at__lte=now).values_list("pk", "created_at"))
    ids = np.asarray([pk for pk, _ in rows], np.int64)
    indexed = idx.meta.rows(ids) >= 0 if len(ids) else np.zeros(0, bool)
    waiting = [created for (_, created), ok in zip(rows, indexed) if not ok]
    until = min(waiting) - timedelta(microseconds=1) if waiting else now
    keep = [i for i, ((_, created), ok) in enumerate(zip(rows, indexed)) if ok and created <= until]
    ids = ids[keep]
    created = np.asarray([rows[i][1].timestamp() for i in keep], np.float64)
    vectors = {s: idx.reconstruct(s, ids) for s in SPACES}
    return Window(ids, created, until, vectors)


@dataclass
class SharedModel:
    negatives: object
    gate: object
    transition: object


def _shared_model(idx, window: Window) -> SharedModel:
    from discovery import digest, transitions

    cfg = digest.DigestConfig()
    neg_ids = digest.sample_negatives(idx.ids, cfg)
    negatives = digest.Negatives.fit({s: idx.reconstruct(s, neg_ids) for s in SPACES}, cfg)
    gate = digest.Gate.from_calibration(search.index_calibration(idx).nn, cfg)
    return SharedModel(negatives, gate, transitions.default())


def _sources(user, idx):
    """The reader's collections (their papers in the index) and ideas, as discovery.digest reads them."""
    from discovery import digest

    collections = []
    for c in Collection.objects.filter(owner=user).prefetch_related("entries"):
        ids = np.asarray([e.paper_id for e in c.entries.all()], np.int64)
        ids = ids[idx.meta.rows(ids) >= 0] if len(ids) else ids
        if len(ids):
            collections.append(digest.Collection(c.pk, c.name, ids, {a: idx.reconstruct(a, ids) for a in SPACES[1:]}))
    ideas = [digest.IdeaSource(i.pk, i.title, watch.idea_vectors(i), bool(i.findings.strip()))
             for i in SavedIdea.objects.filter(owner=user)]
    return collections, ideas


REASONS = {("collection", "problem"): "Same problem as your collection “{name}”",
           ("collection", "method"): "Same kind of method as your collection “{name}”",
           ("collection", "findings"): "Findings like those in your collection “{name}”",
           ("idea", "method"): "A new method for the problem of your idea “{name}”",
           ("idea", "findings"): "Findings that bear on your idea “{name}”"}


def reason_of(pick, titles: dict[int, str]) -> str:
    """The pick's reason line (plain text; every page and mail escapes it); `titles` holds the
    saved papers the picks are closest to."""
    head = REASONS[(pick.source, pick.aspect)].format(name=pick.name)
    if pick.source == "collection":
        nearest = titles.get(pick.nearest_id, "")
        return f"{head}: close to “{nearest[:120]}” ({pick.aspect} similarity {pick.similarity:.2f})"
    space = "problem" if pick.aspect == "method" else "findings"
    return f"{head} ({space} similarity {pick.similarity:.2f})"


def alert_line(alert: WatchAlert) -> str:
    what = "novelty dropped" if alert.kind == "drop" else "new nearest prior work"
    title = alert.paper.title[:120] if alert.paper else "a removed paper"
    return (f"Your idea “{alert.idea.title}”: {alert.aspect} {what}, {alert.before:.2f} → {alert.after:.2f}, "
            f"by “{title}”")


def _store(user, since, window: Window, version: int, picks, reasons, alerts) -> Digest:
    with transaction.atomic():
        digest = Digest.objects.create(user=user, since=since, until=window.until, index_version=version)
        DigestItem.objects.bulk_create([DigestItem(digest=digest, paper_id=p.paper_id, rank=i + 1, aspect=p.aspect,
                                                   reason=r, score=round(p.score, 4))
                                        for i, (p, r) in enumerate(zip(picks, reasons))])
        WatchAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(digest=digest)
    return digest


def _deliver(digest: Digest, run: DigestRun, now) -> None:
    """Mail the digest if its reader has an address; a backend error is stored, not hidden."""
    if not digest.user.email:
        return
    try:
        digest_mail(digest).send()
    except Exception as exc:  # refused connection, DNS, TLS, authentication: whatever the backend raises
        log.exception("digest %s for user %s could not be mailed", digest.pk, digest.user_id)
        error = f"{type(exc).__name__}: {exc}"[:500]
        Digest.objects.filter(pk=digest.pk).update(status=DigestStatus.FAILED, error=error)
        run.failed += 1
        return
    Digest.objects.filter(pk=digest.pk).update(status=DigestStatus.SENT, sent_at=now, error="")
    run.sent += 1


def _resend_failed(run: DigestRun, now) -> None:
    for digest in Digest.objects.filter(status=DigestStatus.FAILED, created_at__gte=now - RESEND_WITHIN,
                                        user__digest_settings__frequency__in=list(PERIODS)).select_related("user"):
        _deliver(digest, run, now)


def digest_mail(digest: Digest) -> EmailMultiAlternatives:
    """The digest as a mail: plain text and HTML (templates escape every paper's text), with a
    one-click unsubscribe (RFC 8058: List-Unsubscribe and List-Unsubscribe-Post)."""
    unsubscribe = settings.SITE_URL + reverse("digest-unsubscribe", args=[unsubscribe_token(digest.user)])
    context = {"digest": digest, "items": list(digest.items.select_related("paper")),
               "alerts": [alert_line(a) for a in digest.alerts.select_related("idea", "paper")],
               "site_url": settings.SITE_URL, "unsubscribe_url": unsubscribe}
    count = len(context["items"])
    subject = f"Ideation Space: {count} new paper{'s' if count != 1 else ''} for you"
    if context["alerts"]:
        subject += f", {len(context['alerts'])} novelty alert{'s' if len(context['alerts']) != 1 else ''}"
    mail = EmailMultiAlternatives(subject, render_to_string("library/mail/digest.txt", context),
                                  settings.DEFAULT_FROM_EMAIL, [digest.user.email],
                                  headers={"List-Unsubscribe": f"<{unsubscribe}>",
                                           "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    mail.attach_alternative(render_to_string("library/mail/digest.html", context), "text/html")
    return mail
