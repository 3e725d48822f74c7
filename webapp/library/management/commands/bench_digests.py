"""send_digests as the site runs it (queries, the stored idea vectors, ranking, stored rows,
rendered mails through the locmem backend), for N readers on a corpus. It WRITES to the database
of DATA_DIR (readers, their libraries, the papers' created_at), so run it on a copy:

    cp -r var/bench49k /tmp/digest49k && DATA_DIR=/tmp/digest49k python manage.py migrate
    DATA_DIR=/tmp/digest49k INDEX_DIR=var/bench49k/index python manage.py bench_digests --users 1000 --new 2000

The libraries are discovery.bench.digest's (two collections of 25 nearest papers of a topic, an
idea from the 51st paper's problem and method sentences); the `--new` newest papers are the window.
"""
from __future__ import annotations

import os
import time

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from discovery.bench.digest import make_readers
from webapp.library import watch
from webapp.library.digests import digests_send
from webapp.library.models import Collection, CollectionPaper, SavedIdea
from webapp.papers import search
from webapp.papers.models import Paper

PREFIX = "bench-reader-"


def setup(users: int, new: int, seed: int) -> int:
    idx = search.index_set()
    new_ids = np.sort(idx.ids)[-new:]
    now = timezone.now()
    Paper.objects.update(created_at=now - timezone.timedelta(days=30))
    Paper.objects.filter(pk__in=new_ids.tolist()).update(created_at=now - timezone.timedelta(hours=1))
    get_user_model().objects.filter(username__startswith=PREFIX).delete()
    readers = make_readers(idx, new_ids, users, 50, seed)
    people = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"{PREFIX}{u}", email=f"{PREFIX}{u}@example.org") for u in range(users)])
    collections = Collection.objects.bulk_create([Collection(owner=people[u], name=f"topic {k}")
                                                  for u in range(users) for k in range(2)])
    entries, ideas = [], []
    for u, (cols, _) in enumerate(readers):
        for k, c in enumerate(cols):
            entries += [CollectionPaper(collection=collections[2 * u + k], paper_id=int(i)) for i in c.ids]
    CollectionPaper.objects.bulk_create(entries, batch_size=5000)
    idea_papers = _idea_papers(idx, readers)
    rows = dict(Paper.objects.filter(pk__in=idea_papers).values_list("pk", "segmentation"))
    for u, pid in enumerate(idea_papers):
        seg = rows.get(pid, [])
        text = {a: " ".join(s["text"] for s in seg if s.get("aspect") == a) for a in ("problem", "method")}
        ideas.append(SavedIdea(owner=people[u], title=f"idea {u}", problem=text["problem"] or "an idea",
                               method=text["method"], watch=False))
    for idea in SavedIdea.objects.bulk_create(ideas):
        watch.idea_vectors(idea)  # as the worker stores them when the idea is saved (library.watch_idea)
    return len(entries)


def _idea_papers(idx, readers) -> list[int]:
    """The paper each reader's idea was taken from (its vectors are that paper's)."""
    found = []
    for _, ideas in readers:
        vec = ideas[0].vectors["paper"]
        _, ids = idx.search("paper", vec, 1)
        found.append(int(ids[0][0]))
    return found


class Command(BaseCommand):
    help = "Time send_digests for N readers (writes readers into the database: run it on a copy)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--new", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, users=1000, new=2000, seed=0, **options):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        t0 = time.perf_counter()
        entries = setup(users, new, seed)
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(f"setup: {users} readers, {entries} saved papers, {users} ideas in "
                          f"{time.perf_counter() - t0:.1f} s (database {engine}, load {os.getloadavg()[0]:.1f})")
        t1, c1 = time.perf_counter(), time.process_time()
        run = digests_send()
        wall, cpu = time.perf_counter() - t1, time.process_time() - c1
        picks = [d.items.count() for d in run.built]
        self.stdout.write(f"send_digests: {wall:.1f} s wall, {cpu:.1f} s CPU; {len(run.built)} digests built, "
                          f"{run.sent} mailed, {run.failed} failed, {run.skipped} with nothing new; picks p50 "
                          f"{int(np.median(picks)) if picks else 0}; load {os.getloadavg()[0]:.1f}")
