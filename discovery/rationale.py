"""The rationale of a novelty report: the local LLM explains a verdict that the Decomposed Novelty
Assessment (novelty.py) already made; it never judges. It may cite only the retrieved evidence,
as [n]. Every bracket in its text is checked against the evidence list before anything is saved:
a citation outside the list (or any other bracketed token) is removed, and a text left without a
valid sentence is regenerated with another seed. If the LLM fails, times out or keeps producing
nothing usable, the report carries a deterministic summary built from the assessment, and says so.

Then every sentence is checked for grounding (discovery.grounding): each [n] must be supported
by paper n's own sentences, its numbers and names must be in its sources, a quoted title must be
a cited paper's, and it must agree with the verdict. Failing sentences are dropped; when fewer
than `min_sentences` pass (or none cites a paper), the next attempt runs, and in the end the
rationale is *extractive*: the evidence papers' closest sentences, quoted, each with its [n].
The report says which one it shows (`source`: "llm", "extractive", or "summary" when no
sentences of the evidence are at hand).

An engine that decodes under a JSON schema (one with a step model: the Int8 engine and the
transformers baselines) writes the rationale as one claim per evidence paper, keyed by its [n]
(claims_prompt): the key forces the citation, which the 1.5B model's free text never wrote. Other
engines (stand-ins, remote ones) write free text. Both go through the same checks.

The default model (SmolLM2-135M-Instruct, Int8) is small: the prompt is short and structured,
and its output is treated as untrusted text (templates escape it; it is truncated and checked).
"""
from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

from discovery import ASPECTS, grounding, settings
from discovery.novelty import Assessment, SentencesOf

BRACKET = re.compile(r"\[([^\[\]]*)\]")
CITATION_LIST = re.compile(r"\s*\d+(\s*[,;]\s*\d+)*\s*")


@dataclass
class RationaleConfig:
    max_new_tokens: int = 160  # 3-4 sentences; the 135M model rambles past that
    temperature: float = 0.3  # a little variety so that a regeneration is not the same text
    top_p: float = 0.9
    # all attempts together (DISCOVERY_RATIONALE_S): a report's p50 target is 20 s; retrieval ~3 s at 49k
    budget_s: float = field(default_factory=lambda: settings.rationale_budget_s())
    attempts: int = 2  # generations tried (within the budget) before the deterministic summary
    max_chars: int = 1200  # longer output is cut at a sentence end
    title_chars: int = 80  # evidence titles are cut to keep the prompt short
    prompt_k: int = 2  # evidence papers per aspect listed in the prompt: prefill time grows with it
    min_sentences: int = 2  # grounded sentences an LLM rationale needs to be shown
    quote_chars: int = 220  # an evidence sentence quoted in the prompt or the extractive rationale
    claims: int = 3  # papers a constrained rationale makes one claim about, each cited
    claim_chars: int = 170  # one sentence: ~35 tokens, so three claims fit a 1.5B's budget


@dataclass
class Rationale:
    text: str
    source: str  # "llm", "extractive" (quoted evidence) or "summary" (no evidence text at hand)
    cited: list[int]  # paper ids cited in `text`, in [n] order of first citation
    note: str = ""  # why the summary was used, or what was removed from the LLM's text
    removed: int = 0  # invalid citations removed from the LLM's text
    attempts: int = 0
    raw: list[str] = field(default_factory=list)  # the LLM's unchecked outputs, for audit
    dropped: list[dict] = field(default_factory=list)  # {"sentence", "reasons"}: failed the grounding checks

    def to_dict(self) -> dict:
        return asdict(self)


def evidence_numbers(assessment: Assessment) -> dict[int, int]:
    """[n] -> paper id, numbered in first-seen order over the evidence."""
    return {n: pid for n, pid in enumerate(assessment.cited_ids(), start=1)}


def check_citations(text: str, numbers: dict[int, int]) -> tuple[str, int]:
    """(text with only valid [n] citations left, how many bracket groups or numbers were
    removed). A group like [2, 9] keeps its valid numbers; anything else in brackets goes."""
    removed = 0

    def fix(match: re.Match) -> str:
        nonlocal removed
        inner = match.group(1)
        if not CITATION_LIST.fullmatch(inner):
            removed += 1
            return ""
        nums = [int(n) for n in re.findall(r"\d+", inner)]
        valid = [n for n in dict.fromkeys(nums) if n in numbers]
        removed += len(nums) - len(valid)
        return "".join(f"\x02{n}\x03" for n in valid)  # protected from the stray-bracket pass

    cleaned = BRACKET.sub(fix, text).replace("[", "").replace("]", "")  # unbalanced leftovers
    cleaned = cleaned.replace("\x02", "[").replace("\x03", "]")
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, removed


def cited_numbers(text: str) -> list[int]:
    return list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", text)))


def invalid_citations(text: str, numbers: dict[int, int]) -> list[str]:
    """What must never be saved: any bracket that is not a valid [n] citation."""
    rest = re.sub(r"\[(\d+)\]", lambda m: "" if int(m.group(1)) in numbers else m.group(0), text)
    return re.findall(r"\[[^\[\]]*\]?|\]", rest)


def drop_listing(text: str) -> str:
    """Lines that only echo the prompt's paper list ("[2] Some title") are not an explanation,
    and the model pairs numbers with the wrong titles in them."""
    return "\n".join(line for line in text.splitlines() if not re.match(r"\s*(\[\d+\]\s*)+[\"\w]", line)
                     or re.search(r"[.!?]\s*$", line) and len(line.split()) > 12)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind(".\n"))
    return head[:end + 1] if end > 0 else head.rsplit(" ", 1)[0] + "…"


def given_aspects(assessment: Assessment) -> list[str]:
    """The aspects the idea states. An empty one (no expected findings) still has a score, from
    the whole idea standing in for it, but the verdict leaves it out and so does the rationale."""
    return [a for a in ASPECTS if getattr(assessment.idea, a).strip()]


def prompt(assessment: Assessment, titles: dict[int, str], cfg: RationaleConfig) -> list[dict]:
    numbers = evidence_numbers(assessment)
    shown = {e.id for group in assessment.evidence.values() for e in group[:cfg.prompt_k]}
    said = _best_sentences(assessment)
    # one line, not a list: the 135M model otherwise copies the list back instead of explaining;
    # each paper's closest sentence gives it something true to say about the paper
    listing = "; ".join(f"[{n}] \"{_plain(titles.get(pid, 'paper %d' % pid))[:cfg.title_chars]}\""
                        + (f" says: {_plain(said[pid])[:cfg.quote_chars]}" if pid in said else "")
                        for n, pid in numbers.items() if pid in shown)
    idea = assessment.idea
    scores = ", ".join(f"{a} {assessment.scores[a]:.2f}" for a in given_aspects(assessment))
    user = (f"Idea problem: {idea.problem[:300]}\nIdea method: {idea.method[:300]}\n"
            f"Verdict: {assessment.verdict_label}.\nNovelty scores (0 known, 1 new): {scores}.\n"
            f"Related papers: {listing}.\n\n"
            "In 3 sentences, explain the verdict. Cite related papers only as [1], [2] etc. from the list.")
    return [{"role": "system", "content": "You explain novelty assessments of research ideas briefly and factually."},
            {"role": "user", "content": user}]


def claim_papers(assessment: Assessment, cfg: RationaleConfig) -> list[int]:
    """[n] of the papers a constrained rationale speaks about: those the verdict rests on first,
    then each given aspect's closest; only papers with a sentence the prompt can quote."""
    said = _best_sentences(assessment)
    ordered = list(assessment.overlapping) + [e.id for rank in range(cfg.prompt_k) for a in given_aspects(assessment)
                                              for e in assessment.evidence[a][rank:rank + 1]]
    numbers = {pid: n for n, pid in evidence_numbers(assessment).items()}
    return [numbers[pid] for pid in dict.fromkeys(ordered) if pid in said][:cfg.claims]


def claims_prompt(assessment: Assessment, titles: dict[int, str], cfg: RationaleConfig) -> tuple[list[dict], dict]:
    """(messages, schema) for a rationale decoded as one claim per paper, keyed by its [n]: the
    key forces the citation, which free text from the 1.5B model never wrote, and the quoted
    sentence gives the claim something true to rest on."""
    numbers, said = evidence_numbers(assessment), _best_sentences(assessment)
    chosen = claim_papers(assessment, cfg)
    listing = "\n".join(f"[{n}] \"{_plain(titles.get(numbers[n], 'paper %d' % numbers[n]))[:cfg.title_chars]}\" "
                        f"says: {_plain(said[numbers[n]])[:cfg.quote_chars]}" for n in chosen)
    idea = assessment.idea
    user = (f"Idea problem: {idea.problem[:300]}\nIdea method: {idea.method[:300]}\n"
            f"Verdict: {assessment.verdict_label}.\n\nRelated papers:\n{listing}\n\n"
            "For each related paper, write one sentence on what that paper does or finds that bears on the idea, "
            "in the paper's own words. Do not repeat its title, and do not add facts that its sentence does not state.")
    schema = {"type": "object", "required": [f"[{n}]" for n in chosen],
              "properties": {f"[{n}]": {"type": "string", "minLength": 20, "maxLength": cfg.claim_chars} for n in chosen}}
    return [{"role": "system", "content": "You explain novelty assessments of research ideas briefly and factually."},
            {"role": "user", "content": user}], schema


TRAILING = re.compile(r"(\s+\b(a|an|the|of|and|or|to|in|on|for|with|by|as|which|that|its|their|is|are|from)\b)+$", re.I)


def _whole(claim: str, limit: int) -> str:
    """A claim cut at the length limit ends mid-clause ("..., which is relevant to the idea of a"):
    back to its last comma when that keeps most of it, and never on a function word."""
    claim = claim.strip().rstrip(".;:, ")
    if len(claim) >= 0.9 * limit and claim.rfind(", ") > 0.5 * len(claim):
        claim = claim[:claim.rfind(", ")]
    return TRAILING.sub("", claim).rstrip(".;:, ")


def claims_text(claims: dict, limit: int) -> str:
    """{"[n]": claim} -> "claim [n]. claim [m].": each sentence ends with its citation."""
    whole = {key: _whole(value, limit) for key, value in claims.items()}
    return " ".join(f"{claim} {key}." for key, claim in whole.items() if claim)


def _plain(title: str) -> str:
    """Brackets in a title ("[Re] ...") would read as citations."""
    return title.replace("[", "(").replace("]", ")")


def _best_sentences(assessment: Assessment) -> dict[int, str]:
    """Paper id -> its sentence closest to the idea (the first aspect's that has one)."""
    out: dict[int, str] = {}
    for group in assessment.evidence.values():
        for e in group:
            if e.sentences and e.id not in out:
                out[e.id] = e.sentences[0]
    return out


def sources(assessment: Assessment, titles: dict[int, str], sentences_of: SentencesOf | None) -> dict[int, grounding.Source]:
    """[n] -> what a citation of n may rest on: the paper's indexed sentences when at hand, else
    the evidence sentences attached to the assessment, and its title."""
    numbers = evidence_numbers(assessment)
    stored = sentences_of(list(numbers.values())) if sentences_of else {}
    attached: dict[int, list[str]] = {}
    for group in assessment.evidence.values():
        for e in group:
            attached.setdefault(e.id, [])
            attached[e.id] += [t for t in e.sentences if t not in attached[e.id]]
    return {n: grounding.Source(titles.get(pid, ""), [t for t, _ in stored.get(pid, [])] or attached.get(pid, []))
            for n, pid in numbers.items()}


def extractive(assessment: Assessment, titles: dict[int, str], cfg: RationaleConfig) -> str:
    """The verdict, then per given aspect the closest paper's closest sentence, quoted and cited:
    true by construction. Without evidence sentences, the similarity summary."""
    if not _best_sentences(assessment):
        return summary(assessment, titles)
    numbers = {pid: n for n, pid in evidence_numbers(assessment).items()}
    parts, quoted = [f"Verdict: {assessment.verdict_label}."], set()
    for aspect in given_aspects(assessment):
        top = next((e for e in assessment.evidence[aspect] if e.sentences), None)
        if top is None or (top.id, top.sentences[0]) in quoted:
            continue
        quoted.add((top.id, top.sentences[0]))
        title = _plain(titles.get(top.id, f"paper {top.id}"))[:cfg.title_chars]
        parts.append(f"{aspect.capitalize()} (novelty {assessment.scores[aspect]:.2f}): the closest paper, "
                     f"\"{title}\" [{numbers[top.id]}], says: \u201c{_cut(top.sentences[0], cfg.quote_chars)}\u201d")
    if assessment.overlapping:
        parts.append(f"The verdict rests on {''.join(f'[{numbers[p]}]' for p in assessment.overlapping)}.")
    return " ".join(parts)


def summary(assessment: Assessment, titles: dict[int, str]) -> str:
    """The deterministic rationale: verdict, per given aspect the nearest paper and the score."""
    titles = {pid: _plain(t) for pid, t in titles.items()}
    numbers = {pid: n for n, pid in evidence_numbers(assessment).items()}
    parts = [f"Verdict: {assessment.verdict_label}."]
    given = given_aspects(assessment)
    for aspect in ASPECTS:
        if aspect not in given:
            parts.append(f"{aspect.capitalize()}: none given, left out of the verdict.")
            continue
        top = assessment.evidence[aspect][0]
        parts.append(f"{aspect.capitalize()}: closest to \"{titles.get(top.id, top.id)}\" [{numbers[top.id]}] "
                     f"(similarity {top.similarity:.2f}, novelty {assessment.scores[aspect]:.2f}).")
    if assessment.overlapping:
        refs = "".join(f"[{numbers[p]}]" for p in assessment.overlapping)
        parts.append(f"The verdict rests on {refs}.")
    return " ".join(parts)


def _generate(engine, messages: list[dict], cfg: RationaleConfig, seed: int, timeout_s: float) -> tuple[str, str]:
    """(text, note). On a timeout the text streamed so far is kept, cut at its last full
    sentence: on a slow machine a partial rationale still beats none."""
    from inference import GenerationTimeout

    pieces: list[str] = []
    try:
        return engine.chat(messages, max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                           top_p=cfg.top_p, seed=seed, timeout_s=timeout_s, on_token=pieces.append), ""
    except GenerationTimeout:
        partial = "".join(pieces)
        end = partial.rfind(".")
        return partial[:end + 1], f"the LLM timed out after {timeout_s:.0f} s; its text was cut"


def _generate_claims(engine, assessment: Assessment, titles: dict[int, str], cfg: RationaleConfig, seed: int,
                     timeout_s: float, greedy: bool) -> tuple[str, str]:
    """(text, note) of a constrained rationale; a timeout keeps nothing (a cut claim is no claim)."""
    from inference import GenerationTimeout
    from inference.structured import json_object

    messages, schema = claims_prompt(assessment, titles, cfg)
    if not schema["properties"]:
        return "", "no evidence sentence to make a claim about"
    try:
        # greedy first: the claims paraphrase their quotes, and sampling only adds drift
        claims = json_object(engine, messages, schema, max_new_tokens=cfg.max_new_tokens,
                             temperature=0.0 if greedy else cfg.temperature, top_p=cfg.top_p,
                             seed=seed, timeout_s=timeout_s)
    except GenerationTimeout:
        return "", f"the LLM timed out after {timeout_s:.0f} s"
    return claims_text(claims, cfg.claim_chars), ""


def _draft(engine, assessment: Assessment, titles: dict[int, str], cfg: RationaleConfig, attempt: int, seed: int,
           timeout_s: float) -> tuple[str, str]:
    """An engine that decodes under a schema (a step model) writes cited claims; any other engine
    (a remote or stand-in one) writes free text, and the checks below treat both alike."""
    if hasattr(engine, "steps"):
        return _generate_claims(engine, assessment, titles, cfg, seed + attempt, timeout_s, greedy=attempt == 0)
    return _generate(engine, prompt(assessment, titles, cfg), cfg, seed + attempt, timeout_s)


def grounded(text: str, assessment: Assessment, srcs: dict[int, grounding.Source]) -> tuple[str, list[dict]]:
    """(the sentences of `text` that pass every grounding check, joined; the dropped ones)."""
    checks = grounding.check(text, srcs, assessment.idea.text(), assessment.verdict)
    kept = [c.sentence for c in checks if c.ok]
    return " ".join(kept), [{"sentence": c.sentence, "reasons": c.reasons} for c in checks if not c.ok]


def write(assessment: Assessment, titles: dict[int, str], *, engine=None, cfg: RationaleConfig | None = None,
          seed: int = 0, sentences_of: SentencesOf | None = None) -> Rationale:
    """An LLM rationale whose citations are valid and whose sentences are grounded, or the
    extractive one."""
    cfg = cfg or RationaleConfig()
    numbers = evidence_numbers(assessment)
    srcs = None
    raw, dropped, removed_total, failure = [], [], 0, "the LLM produced no usable text"
    deadline = time.monotonic() + cfg.budget_s
    for attempt in range(cfg.attempts):
        timeout_s = deadline - time.monotonic()
        if timeout_s < 1.0:
            failure = f"the LLM used up its {cfg.budget_s:.0f} s budget"
            break
        try:
            if engine is None:
                from inference import load_engine

                engine = load_engine()
            text, note = _draft(engine, assessment, titles, cfg, attempt, seed, timeout_s)
        except Exception as exc:  # GenerationError, a model that fails to load, ...
            failure = f"the LLM failed: {type(exc).__name__}: {str(exc)[:200]}"
            break
        raw.append(text)
        cleaned, removed = check_citations(_cut(drop_listing(text).strip(), cfg.max_chars), numbers)
        removed_total += removed
        srcs = srcs if srcs is not None else sources(assessment, titles, sentences_of)
        kept, failed = grounded(cleaned, assessment, srcs)
        dropped += failed
        if len(grounding.split(kept)) >= cfg.min_sentences and cited_numbers(kept):
            notes = [note] + ([f"{removed} invalid citation(s) removed"] if removed else []) + \
                    ([f"{len(failed)} sentence(s) that failed the grounding checks removed"] if failed else [])
            return Rationale(kept, "llm", [numbers[n] for n in cited_numbers(kept)],
                             "; ".join(n for n in notes if n), removed, attempt + 1, raw, dropped)
        failure = note or (f"{len(failed)} of its sentences failed the grounding checks" if failed
                           else failure)
    text = extractive(assessment, titles, cfg)
    source = "extractive" if _best_sentences(assessment) else "summary"
    shown = "the evidence papers' closest sentences" if source == "extractive" else "a deterministic summary"
    return Rationale(text, source, [numbers[n] for n in cited_numbers(text)],
                     f"Shows {shown}: {failure}.", removed_total, len(raw), raw, dropped)
