"""Reads for novelty reports: one report (its owner only), a user's reports, the report's
evidence as Paper rows, and its exports (Markdown, JSON, BibTeX of the cited papers)."""
from __future__ import annotations

import json
import re

from django.http import Http404

from discovery import ASPECTS
from discovery.novelty import COMBO, VERDICTS
from webapp.papers.models import Paper
from webapp.papers.selectors import paper_bibtex
from webapp.reports.models import NoveltyReport

GROUPS = ASPECTS + (COMBO,)
GROUP_LABELS = {"problem": "Problem", "method": "Method", "findings": "Expected findings",
                COMBO: "Problem and method together"}


def report_get(*, report_id: int, user) -> NoveltyReport:
    """The report if `user` owns it; anyone else gets the same 404 as for a missing report."""
    try:
        return NoveltyReport.objects.get(pk=report_id, owner=user)
    except NoveltyReport.DoesNotExist:
        raise Http404("no such report") from None


def reports_of(*, user):
    return NoveltyReport.objects.filter(owner=user)


def report_rows(*, user, limit: int = 200) -> list[dict]:
    """The user's reports for the list: the verdict as words, and the method beside the
    problem, since the reports one idea run creates share their problem."""
    return [{"report": r, "verdict": VERDICTS.get(r.verdict, r.verdict)} for r in reports_of(user=user)[:limit]]


def _stored_numbers(report: NoveltyReport) -> dict[int, int]:
    """Paper id -> its [n] in the stored rationale text (rationale.evidence_numbers' order:
    first seen over the evidence groups, which reads out of order in the text). The groups are
    walked in the order they were written (GROUPS), not the stored dict's: PostgreSQL's jsonb
    does not keep key order."""
    seen: dict[int, int] = {}
    evidence = report.assessment.get("evidence", {})
    for group in GROUPS:
        for e in evidence.get(group, []):
            seen.setdefault(e["id"], len(seen) + 1)
    return seen


def report_numbers(report: NoveltyReport) -> dict[int, int]:
    """Paper id -> its [n] as shown: the rationale's citations in reading order first, then the
    rest of the evidence, so the text reads [1], [2], [3] and every page and export agrees."""
    order = [pid for pid in report.rationale.get("cited", []) if pid in _stored_numbers(report)]
    order += [pid for pid in _stored_numbers(report) if pid not in order]
    return {pid: n for n, pid in enumerate(order, start=1)}


def report_rationale_text(report: NoveltyReport) -> str:
    """The rationale with its stored [n] rewritten to report_numbers', each still naming the
    same paper."""
    paper_of = {n: pid for pid, n in _stored_numbers(report).items()}
    shown = report_numbers(report)

    def renumber(match: re.Match) -> str:
        pid = paper_of.get(int(match.group(1)))
        return f"[{shown[pid]}]" if pid is not None else match.group(0)

    return re.sub(r"\[(\d+)\]", renumber, report.rationale.get("text", ""))


def report_papers(report: NoveltyReport) -> dict[int, Paper]:
    return Paper.objects.in_bulk(list(report_numbers(report)))


def report_view(report: NoveltyReport) -> dict:
    """Everything the report page shows, with papers resolved (a paper deleted since is kept as
    its id only)."""
    a = report.assessment
    if not a:
        return {}
    numbers, papers = report_numbers(report), report_papers(report)
    absent = _absent_aspects(report)
    groups = [{"key": g, "label": GROUP_LABELS[g], "absent": g in absent,
               "score": None if g in absent else a["scores"].get(g, a["scores"]["overall"]),
               "hits": [{"n": numbers[e["id"]], "paper": papers.get(e["id"]), "id": e["id"],
                         "similarity": e["similarity"], "sentences": e.get("sentences", [])}
                        for e in a["evidence"][g]]}
              for g in GROUPS]
    references = [{"n": n, "id": pid, "paper": papers.get(pid)} for pid, n in numbers.items()]
    return {"verdict": VERDICTS.get(a["verdict"], a["verdict"]), "p_not_novel": a.get("p_not_novel"),
            "groups": groups, "references": references,
            "overlapping": [{"n": numbers[p], "paper": papers.get(p), "id": p} for p in a["overlapping"]],
            "scores": [{"key": k, "label": GROUP_LABELS.get(k, "Overall"), "value": None if k in absent else v,
                        "percent": 0 if k in absent else round(100 * v)} for k, v in a["scores"].items()],
            "cited": set(report.rationale.get("cited", [])), "rationale": report_rationale_text(report)}


def _absent_aspects(report: NoveltyReport) -> set[str]:
    """Aspects the user left empty: the assessment still carries a score for them (their vector
    stands in from the whole idea) but the verdict leaves them out, and so does the page."""
    return {a for a in ASPECTS if not getattr(report, a).strip()}


def report_json(report: NoveltyReport) -> str:
    numbers, papers = report_numbers(report), report_papers(report)
    refs = [{"n": n, "id": pid, "title": papers[pid].title if pid in papers else None,
             "year": papers[pid].year if pid in papers else None} for pid, n in numbers.items()]
    return json.dumps({"id": report.pk, "status": report.status, "as_of": report.as_of,
                       "idea": {a: getattr(report, a) for a in ASPECTS}, "assessment": report.assessment,
                       "rationale": {**report.rationale, "text": report_rationale_text(report)},
                       "references": refs, "index_version": report.index_version},
                      indent=1)


def report_markdown(report: NoveltyReport) -> str:
    view = report_view(report)
    if not view:
        return f"# Novelty report {report.pk}\n\nStatus: {report.status}. {report.error}\n"
    lines = [f"# Novelty report {report.pk}", "", f"**Verdict:** {view['verdict']}", ""]
    lines += [f"- **{a.title()}:** {getattr(report, a) or '—'}" for a in ASPECTS]
    if report.as_of:
        lines.append(f"- **Prior work up to:** {report.as_of}")
    lines += ["", "## Novelty scores (0 = known, 1 = new)", ""]
    lines += [f"- {s['label']}: " + ("absent (none given)" if s["value"] is None else f"{s['value']:.2f}")
              for s in view["scores"]]
    lines += ["", "## Rationale", "", view["rationale"]]
    if report.rationale.get("note"):
        lines += ["", f"_{report.rationale.get('note', '')}_"]
    for group in view["groups"]:
        lines += ["", f"## Nearest prior work: {group['label']}", ""]
        lines += [f"- [{h['n']}] {h['paper'].title if h['paper'] else h['id']} (similarity {h['similarity']:.2f})"
                  for h in group["hits"]]
    lines += ["", "## References", ""]
    lines += [f"[{r['n']}] {_cite(r['paper'])}" for r in view["references"]]
    return "\n".join(lines) + "\n"


def _cite(paper: Paper | None) -> str:
    if paper is None:
        return "(paper removed from the corpus)"
    who = ", ".join(paper.authors[:3]) + (" et al." if len(paper.authors) > 3 else "")
    return f"{who + '. ' if who else ''}{paper.title}. {paper.venue + ' ' if paper.venue else ''}{paper.year or ''}".strip()


def report_bibtex(report: NoveltyReport) -> str:
    """BibTeX of the papers the rationale cites (all evidence when it cites none)."""
    papers = report_papers(report)
    ids = report.rationale.get("cited") or list(report_numbers(report))
    return "\n".join(paper_bibtex(papers[i]) for i in ids if i in papers)
