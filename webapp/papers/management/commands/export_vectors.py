"""manage.py export_vectors --out FILE.npz: the stored ideation-space vectors, for offline
training and evaluation (e.g. `python -m discovery.train.transitions --vectors FILE.npz`)."""
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand
from tqdm import tqdm

from webapp.papers.indexing import SPACES
from webapp.papers.models import PaperVectors


class Command(BaseCommand):
    help = "Write every paper's stored vectors (float16) with its source id and year to an .npz file."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True)

    def handle(self, *args, out, **options):
        rows = PaperVectors.objects.select_related("paper").order_by("paper_id")
        ids, years, vectors = [], [], {s: [] for s in SPACES}
        for row in tqdm(rows.iterator(chunk_size=5000), total=rows.count(), unit="paper",
                        disable=options["verbosity"] == 0):
            ids.append(row.paper.source_id or str(row.paper_id))
            years.append(row.paper.year or 0)
            for space in SPACES:
                vectors[space].append(np.frombuffer(getattr(row, f"{space}_vec"), dtype=np.float16))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        np.savez(out, ids=np.array(ids), year=np.array(years, dtype=np.int16),
                 **{s: np.stack(v) if v else np.zeros((0, 384), np.float16) for s, v in vectors.items()})
        self.stdout.write(f"{len(ids)} papers written to {out}")
