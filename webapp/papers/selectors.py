"""Reads for papers: one paper, counts, titles and labelled sentences by id, an abstract as
labelled sentences for the pages, venue and linked identifiers, BibTeX."""
from __future__ import annotations

import re
from urllib.parse import quote

from django.http import Http404

from webapp.papers.models import Paper

ASPECT_LABELS = {"problem": "Problem", "method": "Method", "findings": "Findings", "other": "Context"}


def paper_get(*, paper_id: int) -> Paper:
    try:
        return Paper.objects.get(pk=paper_id)
    except Paper.DoesNotExist:
        raise Http404("no such paper") from None


def paper_count() -> int:
    return Paper.objects.count()


def paper_titles(ids) -> dict[int, str]:
    return dict(Paper.objects.filter(pk__in=list(ids)).values_list("pk", "title"))


def paper_sentences(ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Paper id -> its indexed sentences as (text, aspect), the shape discovery's scorers read."""
    rows = Paper.objects.filter(pk__in=ids).values_list("pk", "segmentation")
    return {pk: [(s["text"], s.get("aspect", "other")) for s in seg] for pk, seg in rows}


def abstract_sentences(paper: Paper, highlight: str = "") -> list[dict]:
    """The abstract as [{text, aspect, label, highlight}]: the indexed segmentation when there
    is one, else the whole abstract as one unlabelled piece. Templates escape `text`."""
    pieces = paper.segmentation or ([{"text": paper.abstract, "aspect": "other"}] if paper.abstract else [])
    return [{"text": p["text"], "aspect": p.get("aspect", "other"),
             "label": ASPECT_LABELS.get(p.get("aspect"), "Context"),
             "highlight": bool(highlight) and (highlight == "all" or p.get("aspect") == highlight)}
            for p in pieces]


def paper_meta(paper: Paper) -> list[dict]:
    """The paper's venue, year and identifiers as [{label, text, href}], only those it has, so
    the page joins them without stray separators. A URL links only when it is http(s): imported
    records may carry `javascript:` or other schemes."""
    parts = [{"label": "", "text": paper.venue, "href": ""}, {"label": "", "text": str(paper.year or ""), "href": ""}]
    if paper.doi:
        parts.append({"label": "DOI", "text": paper.doi, "href": "https://doi.org/" + quote(paper.doi, safe="/")})
    if paper.arxiv_id:
        parts.append({"label": "arXiv", "text": paper.arxiv_id,
                      "href": "https://arxiv.org/abs/" + quote(paper.arxiv_id, safe="/")})
    if re.match(r"https?://", paper.url or "", re.IGNORECASE):
        parts.append({"label": "", "text": "source", "href": paper.url})
    return [part for part in parts if part["text"]]


def _bibtex_value(text: str) -> str:
    # Braces must balance inside {...}; backslashes would start LaTeX commands.
    return text.replace("\\", "").replace("{", "(").replace("}", ")")


def bibtex_key(paper: Paper) -> str:
    first = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anon"
    word = next((w for w in re.findall(r"[A-Za-z]+", paper.title) if len(w) > 3), "paper")
    return re.sub(r"[^a-z0-9]", "", f"{first}{paper.year or ''}{word}".lower()) or f"paper{paper.pk}"


def paper_bibtex(paper: Paper) -> str:
    fields = {"title": paper.title, "author": " and ".join(paper.authors), "year": str(paper.year or ""),
              "booktitle": paper.venue, "doi": paper.doi, "eprint": paper.arxiv_id, "url": paper.url,
              "abstract": paper.abstract}
    body = ",\n".join(f"  {name} = {{{_bibtex_value(value)}}}" for name, value in fields.items() if value)
    kind = "inproceedings" if paper.venue else "misc"
    return f"@{kind}{{{bibtex_key(paper)},\n{body}\n}}\n"
