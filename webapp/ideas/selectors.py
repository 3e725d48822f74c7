"""Reads for inspiration and idea runs: inspirations for a problem (synchronous: no LLM), one run
(its owner only), a user's runs, the run with papers and reports resolved, and its exports."""
from __future__ import annotations

import json

from django.http import Http404

from webapp.ideas.models import IdeaRun
from webapp.papers.models import Paper


def inspirations_for(*, problem: str, k: int = 8, exclude: tuple = ()) -> list[dict]:
    """Ranked methodology sources for a problem, each with its Paper and why it was chosen;
    papers in `exclude` (the paper the problem came from) are left out."""
    from discovery.inspiration import InspirationConfig, inspire
    from webapp.ideas.services import site_corpus

    corpus = site_corpus()
    found = inspire(corpus.index_set, problem, cfg=InspirationConfig(k=k), sentences_of=corpus.sentences_of,
                    exclude=set(exclude))
    papers = Paper.objects.in_bulk([f.id for f in found])
    return [f.to_dict() | {"paper": papers.get(f.id), "title": papers[f.id].title if f.id in papers else ""}
            for f in found]


def idea_run_get(*, run_id: int, user) -> IdeaRun:
    """The run if `user` owns it; anyone else gets the same 404 as for a missing run."""
    try:
        return IdeaRun.objects.get(pk=run_id, owner=user)
    except IdeaRun.DoesNotExist:
        raise Http404("no such idea run") from None


def idea_runs_of(*, user):
    return IdeaRun.objects.filter(owner=user)


def idea_run_view(run: IdeaRun) -> dict:
    """The ideas with their inspiring papers resolved (a paper deleted since keeps its id)."""
    inspirations = {f["id"]: f for f in run.inspirations}
    ids = set(inspirations) | {i for idea in run.ideas for i in idea["inspirations"]}
    ids |= {idea["nearest"].get("id") for idea in run.ideas if idea.get("nearest")}
    papers = Paper.objects.in_bulk([i for i in ids if i is not None])
    ideas = [idea | {"rank": n + 1,
                     "inspired_by": [{"id": i, "paper": papers.get(i), "why": inspirations.get(i, {})}
                                     for i in idea["inspirations"]],
                     "nearest_paper": papers.get(idea.get("nearest", {}).get("id")),
                     "percent": round(100 * idea.get("scores", {}).get("overall", 0))}
             for n, idea in enumerate(run.ideas)]
    return {"ideas": ideas, "inspirations": [f | {"paper": papers.get(f["id"])} for f in run.inspirations],
            "dropped": [f"{count} {DROP_LABELS.get(reason, reason)}"
                        for reason, count in run.screening.get("dropped", {}).items() if count]}


# discovery.coherence.REASONS, and the run's "no reply in time"
DROP_LABELS = {"filler": "chat filler", "echo": "echoing the problem", "off_problem": "off the problem",
               "off_method": "off the inspiration's method", "duplicate": "duplicates", "no_reply": "not written in time"}


def idea_run_json(run: IdeaRun) -> str:
    return json.dumps({"id": run.pk, "status": run.status, "problem": run.problem, "constraints": run.constraints,
                       "ideas": run.ideas, "inspirations": run.inspirations, "index_version": run.index_version,
                       "timings": run.timings, "screening": run.screening}, indent=1)


def idea_run_markdown(run: IdeaRun) -> str:
    view = idea_run_view(run)
    lines = [f"# Research ideas {run.pk}", "", f"**Problem:** {run.problem}"]
    if run.constraints:
        lines.append(f"**Constraints:** {run.constraints}")
    if not run.ideas:
        return "\n".join(lines + ["", f"Status: {run.status}. {run.error}"]) + "\n"
    for idea in view["ideas"]:
        lines += ["", f"## {idea['rank']}. {idea['method']}", ""]
        if idea["findings"]:
            lines.append(f"- **Expected findings:** {idea['findings']}")
        scores = ", ".join(f"{k} {v:.2f}" for k, v in idea.get("scores", {}).items())
        lines.append(f"- **Novelty (0 = known, 1 = new):** {scores}")
        if idea.get("nearest"):
            lines.append(f"- **Nearest paper:** {idea['nearest'].get('title') or idea['nearest']['id']} "
                         f"(problem+method similarity {idea['nearest']['similarity']:.2f})")
        lines += [f"- **Inspired by:** {i['paper'].title if i['paper'] else i['id']}"
                  + (f" — “{i['why'].get('method_sentence')}”" if i["why"].get("method_sentence") else "")
                  for i in idea["inspired_by"]]
        if idea.get("rounds"):
            lines.append(f"- Regenerated {idea['rounds']} time(s) away from papers it was too close to.")
    return "\n".join(lines) + "\n"
