"""A corpus with a known field structure for the map-of-the-field tests: four problem families
x four method families, four papers per combination, one combination left out (protein folding
x diffusion models) although diffusion is used on every other problem. Indexed like
tests/ui/corpus.py (first three sentences = problem, method, findings; the stand-in encoder),
then mapped by the real job with a configuration sized for 60 papers."""
from __future__ import annotations

from discovery import fieldmap, gaps, hierarchy
from tests.ui.corpus import index_corpus
from webapp.maps import services
from webapp.maps.models import FieldMap
from webapp.papers.models import Paper

PROBLEMS = [("protein folding", "Predicting protein folding structure from residue sequences is hard"),
            ("traffic forecasting", "Forecasting urban traffic congestion on road networks is hard"),
            ("speech recognition", "Recognising spoken speech audio in noisy rooms is hard"),
            ("credit fraud", "Detecting credit card fraud in bank transactions is hard")]
METHODS = [("graph networks", "We apply message passing graph networks over nodes"),
           ("transformers", "We apply transformer attention layers over tokens"),
           ("random forests", "We apply random forest decision trees over features"),
           ("diffusion models", "We apply denoising diffusion models with score sampling")]
MISSING = (0, 3)
VARIANTS = ["", " in practice", " at scale", " with little data"]
CONFIG = fieldmap.FieldMapConfig(hierarchy=hierarchy.HierarchyConfig(branching=(4, 2), min_size=4),
                                 gaps=gaps.GapConfig(min_family=5, min_expected=2.0))


def make_field_papers() -> list[Paper]:
    papers = []
    for i, (pname, problem) in enumerate(PROBLEMS):
        for j, (mname, method) in enumerate(METHODS):
            if (i, j) == MISSING:
                continue
            for k, variant in enumerate(VARIANTS):
                papers.append(Paper.objects.create(
                    title=f"{mname.capitalize()} for {pname}{variant}", year=2014 + (i + j + k) % 10,
                    abstract=f"{problem}{variant}. {method}{variant}. Results improve accuracy by {k + 2} points.",
                    venue="Venue", fingerprint=f"field:{i}:{j}:{k}"))
    return papers


def map_field(papers, settings, tmp_path, monkeypatch) -> FieldMap:
    index_corpus(papers, settings, tmp_path, monkeypatch)
    monkeypatch.setattr(services, "CONFIG", CONFIG)
    job = services.fieldmap_request()
    return services.fieldmap_run(job_id=job.pk)
