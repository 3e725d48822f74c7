"""Browser views of the corpus: search, a paper's page, its BibTeX, the map's points. Parse input
with a form, call one selector, render; they work without JavaScript (the map's page is
webapp.site's, since it also places a user's novelty report)."""
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.text import Truncator
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from discovery import ASPECTS
from webapp.http import Refused, add_server_timing, rate_check, refused_render, server_timing
from webapp.papers import forms, map, search, selectors

PER_PAGE = 10  # results per page; each costs a highlighted abstract to render


@require_GET
@server_timing
def home(request):
    form = forms.SearchForm(request.GET or None)
    context = {"form": form, "page": None, "results": []}
    if not form.is_valid() or not form.cleaned_data["q"]:
        # the corpus size only on the landing page: a COUNT(*) per search would cost more than it says
        context["status"] = search.index_status()
        context["paper_count"] = context["status"]["papers"]
        return render(request, "papers/home.html", context, status=400 if form.errors else 200)
    try:
        rate_check("search", request)
    except Refused as exc:  # the page, with the reason where results would be; not a JSON body
        form.add_error(None, f"{exc}.")
        return refused_render(request, "papers/home.html", context, exc)
    data = form.cleaned_data
    page = search.paper_search(q=data["q"], aspect=data["aspect"], year_min=data["year_min"],
                               year_max=data["year_max"], venue=data["venue"] or None,
                               page=data["page"] or 1, per_page=PER_PAGE, sort=data["sort"] or "relevance")
    context["page"], context["first_rank"] = page, (page.page - 1) * page.per_page + 1
    context["results"] = [_result(hit, data["aspect"]) for hit in page.hits]
    response = render(request, "papers/home.html", context)
    add_server_timing(response, "search", page.timings.get("total", 0.0))
    return response


def _result(hit, aspect: str) -> dict:
    """A result card: the matched aspect's sentences shown, the whole abstract on demand (all of
    it shown when the paper has no sentence of that aspect)."""
    sentences = selectors.abstract_sentences(hit.paper, highlight=hit.matched if aspect == "all" else aspect)
    paper = hit.paper
    # authors, venue, year: only the parts the record has, so no separator stands alone
    byline = [Truncator(", ".join(paper.authors)).chars(160), paper.venue, str(paper.year or "")]
    return {"hit": hit, "sentences": sentences, "shown": [s for s in sentences if s["highlight"]] or sentences,
            "byline": [part for part in byline if part]}


@require_GET
@server_timing
def paper_detail(request, paper_id: int):
    paper = selectors.paper_get(paper_id=paper_id)
    similar = [{"aspect": a, "label": selectors.ASPECT_LABELS[a],
                "hits": search.papers_similar(paper=paper, aspect=a, k=8)} for a in ASPECTS]
    return render(request, "papers/paper.html", {"paper": paper, "meta": selectors.paper_meta(paper),
                                                 "sentences": selectors.abstract_sentences(paper),
                                                 "similar": similar, "bibtex": selectors.paper_bibtex(paper)})


@require_GET
def paper_bibtex(request, paper_id: int):
    paper = selectors.paper_get(paper_id=paper_id)
    response = HttpResponse(selectors.paper_bibtex(paper), content_type="application/x-bibtex; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{selectors.bibtex_key(paper)}.bib"'
    return response


@require_GET
@gzip_page
@cache_control(max_age=300)
def map_points(request, space: str):
    return JsonResponse(map.map_points(space=space))

