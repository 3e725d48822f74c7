"""Research idea generation grounded in methodology inspirations and pushed toward novelty.

1. Inspirations for the problem (discovery.inspiration: MIR-style, through the learned ideation
   transitions of Navigating Ideation Space).
2. Verbalized Sampling (Zhang et al. 2025, "Verbalized Sampling: How to Mitigate Mode Collapse and
   Unlock LLM Diversity"): one request for n ideas *with their probabilities*, so the model lays
   out a distribution instead of repeating its single most likely idea n times. `mode="plain"`
   asks n times for one idea (the baseline discovery.bench.ideas compares against).
3. Each idea is scored by the Decomposed Novelty Assessment (discovery.novelty). SciMON (Wang et
   al. 2024, "SciMON: Scientific Inspiration Machines Optimized for Novelty") regenerates an idea
   while it sits too close to an existing paper, showing the model that paper; closeness here is
   the ideation-space pair similarity min(cos problem, cos method) of the nearest paper > 0.6
   (SciMON's cosine threshold), since the problem alone is the user's and always close.
4. Ideas are returned ranked by calibrated novelty, each with the inspirations it used.

The model (SmolLM2-135M in Int8) is tiny and untrusted: the reply is parsed leniently, cited
inspiration numbers are checked, an idea that cites none gets the inspiration its method is
closest to, and a missing idea is filled from a template over an inspiration (source="template").
"""
from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from discovery import encoder
from discovery.inspiration import Inspiration, InspirationConfig, inspire
from discovery.novelty import COMBO, Idea, NoveltyConfig, assess, idea_vectors

MODES = ("verbalized", "plain")


@dataclass
class IdeaConfig:
    n: int = 5  # ideas returned
    inspirations: int = 6  # inspirations shown to the model (a 135M model loses track of more)
    too_close: float = 0.6  # SciMON's cosine: regenerate above it
    max_rounds: int = 2  # regenerations per idea before it is kept as is, flagged
    temperature: float = 0.9  # same for both modes, so the bench compares prompts only
    top_p: float = 0.95
    tokens_per_idea: int = 70  # "Idea k [j] (p): Method: ... Expected: ..." fits in ~60 tokens
    attempts: int = 2  # extra requests for ideas the first reply did not deliver
    timeout_s: float = 40.0  # per LLM call
    mode: str = "verbalized"  # or "plain"
    seed: int = 0


@dataclass
class GeneratedIdea:
    problem: str
    method: str
    findings: str
    probability: float | None  # the model's own verbalized probability (None in plain mode)
    inspirations: list[Any]  # ids of the inspiring papers
    source: str = "llm"  # "llm" or "template" (the model gave nothing usable)
    rounds: int = 0  # regenerations it took
    too_close: list[dict] = field(default_factory=list)  # papers it was pushed away from
    scores: dict[str, float] = field(default_factory=dict)  # calibrated novelty per aspect + overall
    verdict: str = ""
    nearest: dict = field(default_factory=dict)  # {"id", "title", "similarity"}: closest pair paper
    assessment: dict = field(default_factory=dict)  # novelty.Assessment.to_dict()

    def idea(self) -> Idea:
        return Idea(self.problem, self.method, self.findings)

    def to_dict(self, with_assessment: bool = False) -> dict:
        d = asdict(self)
        if not with_assessment:
            d.pop("assessment")
        return d


@dataclass
class IdeasResult:
    problem: str
    constraints: str
    inspirations: list[Inspiration]
    ideas: list[GeneratedIdea]  # best first
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage


Stage = Callable[[str, int, int], None]  # (stage, done, total)

# ---------------------------------------------------------------------------------------------
# prompts and parsing

SYSTEM = "You propose concrete research ideas. Be brief."
FORMAT = "Idea {k} [inspiration number] ({p}): Method: <what to do>. Expected: <what it should show>."


def _listing(inspirations: list[Inspiration]) -> str:
    return "\n".join(f"[{i + 1}] {f.method_sentence or f.title}"[:300] for i, f in enumerate(inspirations))


def _header(problem: str, constraints: str, inspirations: list[Inspiration]) -> str:
    extra = f"Constraints: {constraints}\n" if constraints.strip() else ""
    return f"Problem: {problem}\n{extra}Methods from papers:\n{_listing(inspirations)}\n"


def _messages(problem: str, constraints: str, inspirations: list[Inspiration], ask: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": _header(problem, constraints, inspirations) + ask}]


def verbalized_prompt(problem: str, constraints: str, inspirations: list[Inspiration], n: int) -> list[dict]:
    ask = (f"Write {n} different ideas that solve the problem, each using a method from the list, with the "
           f"probability (0 to 1) of each idea. Include unlikely ideas too. One line per idea:\n"
           + FORMAT.format(k=1, p="probability"))
    return _messages(problem, constraints, inspirations, ask)


def plain_prompt(problem: str, constraints: str, inspirations: list[Inspiration]) -> list[dict]:
    ask = ("Write one idea that solves the problem using a method from the list. One line:\n"
           + FORMAT.format(k=1, p="0.5"))
    return _messages(problem, constraints, inspirations, ask)


def regenerate_prompt(problem: str, constraints: str, inspirations: list[Inspiration], idea: GeneratedIdea,
                      close_title: str, close_text: str) -> list[dict]:
    ask = (f"This idea already exists: {idea.method}\nIt is too close to the paper \"{close_title}\": "
           f"{close_text[:300]}\nWrite one different idea with another method from the list. One line:\n"
           + FORMAT.format(k=1, p="0.5"))
    return _messages(problem, constraints, inspirations, ask)


# "Idea 3 ..." as asked, or the numbered list "3. ..." / "3) ..." the model often writes instead
_IDEA_SPLIT = re.compile(r"(?:^|\n)\s*(?:\*\*)?\s*(?:Idea\s*\d+|\d+[.)])\s*", re.IGNORECASE)
_PROB = re.compile(r"\(\s*(?:p(?:robability)?\s*[=:]?\s*)?(\d*\.\d+|\d+(?:\.\d+)?\s*%|[01])\s*\)", re.IGNORECASE)


def _probability(text: str) -> float | None:
    m = _PROB.search(text)
    if not m:
        return None
    raw = m.group(1).replace(" ", "")
    value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    return value if 0.0 <= value <= 1.0 else None


def parse_ideas(text: str, n_inspirations: int) -> list[dict]:
    """Lenient parse of "Idea k [j] (p): Method: ... Expected: ..." blocks; only inspiration
    numbers that exist survive, a block without a usable method is dropped."""
    parts = _IDEA_SPLIT.split("\n" + text)
    blocks = [b for b in (parts[1:] if len(parts) > 1 else parts) if b.strip()]  # [0]: any preamble
    out = []
    for block in blocks:
        head, _, body = block.partition(":") if re.match(r"^[^:]{0,40}:", block) else ("", "", block)
        cited = [int(x) - 1 for x in re.findall(r"\[(\d+)\]", block)]
        method, _, findings = re.split(r"\bMethod\s*:\s*", body, maxsplit=1, flags=re.I)[-1].partition("Expected:")
        method = re.sub(r"\s+", " ", _PROB.sub("", method)).strip(" .-*")
        if len(method.split()) < 4:
            continue
        out.append({"method": method, "findings": re.sub(r"\s+", " ", findings).strip(" .-*"),
                    "probability": _probability(head or block),
                    "inspirations": list(dict.fromkeys(i for i in cited if 0 <= i < n_inspirations))})
    return out


# ---------------------------------------------------------------------------------------------
# generation


def ground(parsed: dict, inspirations: list[Inspiration]) -> list[int]:
    """Inspiration indices the idea rests on: those it cites, else the one closest to its method."""
    if parsed["inspirations"]:
        return parsed["inspirations"]
    texts = [f.method_sentence or f.title for f in inspirations]
    vecs = encoder.encode([parsed["method"]] + texts)
    return [int(np.argmax(vecs[1:] @ vecs[0]))]


def to_idea(parsed: dict, problem: str, inspirations: list[Inspiration], mode: str) -> GeneratedIdea:
    used = ground(parsed, inspirations)
    return GeneratedIdea(problem, parsed["method"], parsed["findings"],
                         parsed["probability"] if mode == "verbalized" else None, [inspirations[i].id for i in used])


def template_idea(problem: str, inspiration: Inspiration) -> GeneratedIdea:
    method = f"Adapt the method of \"{inspiration.title}\" to this problem: {inspiration.method_sentence}".strip()
    return GeneratedIdea(problem, method, "", None, [inspiration.id], source="template")


def _chat(engine, messages: list[dict], tokens: int, cfg: IdeaConfig, seed: int) -> str:
    from inference import GenerationError

    try:
        return engine.chat(messages, max_new_tokens=tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                           seed=seed, timeout_s=cfg.timeout_s)
    except GenerationError:  # includes the timeout: the caller fills the gap
        return ""


def sample_ideas(engine, problem: str, constraints: str, inspirations: list[Inspiration], n: int,
                 cfg: IdeaConfig) -> list[GeneratedIdea]:
    """n ideas from the model: verbalized (n per request, with probabilities) or plain (one per
    request), topped up by `attempts` extra requests, then by templates."""
    ideas: list[GeneratedIdea] = []
    requests = 0
    budget = (1 + cfg.attempts) if cfg.mode == "verbalized" else n * (1 + cfg.attempts)
    while len(ideas) < n and requests < budget:
        want = n - len(ideas)
        if cfg.mode == "verbalized":
            text = _chat(engine, verbalized_prompt(problem, constraints, inspirations, want),
                         cfg.tokens_per_idea * want, cfg, cfg.seed + requests)
        else:
            text = _chat(engine, plain_prompt(problem, constraints, inspirations), cfg.tokens_per_idea, cfg,
                         cfg.seed + requests)
        parsed = parse_ideas(text, len(inspirations))[:want if cfg.mode == "verbalized" else 1]
        ideas += [to_idea(p, problem, inspirations, cfg.mode) for p in parsed]
        requests += 1
    for i in range(len(ideas), n):
        ideas.append(template_idea(problem, inspirations[i % len(inspirations)]))
    return ideas


def score(corpus, idea: GeneratedIdea) -> None:
    """Attach the novelty assessment and the nearest problem+method pair paper."""
    result = assess(corpus.index_set, idea.idea(), corpus.calibration, cfg=NoveltyConfig(k=3),
                    vectors=idea_vectors(idea.idea()))
    top = result.evidence[COMBO][0]
    idea.scores, idea.verdict, idea.assessment = result.scores, result.verdict, result.to_dict()
    idea.nearest = {"id": top.id, "title": corpus.titles([top.id]).get(top.id, ""),
                    "similarity": round(top.similarity, 4)}


def push_away(engine, corpus, idea: GeneratedIdea, problem: str, constraints: str,
              inspirations: list[Inspiration], cfg: IdeaConfig, seed: int) -> GeneratedIdea:
    """SciMON's loop: while the nearest paper is too close, show it and ask for another idea."""
    while idea.nearest["similarity"] > cfg.too_close and idea.rounds < cfg.max_rounds:
        close = dict(idea.nearest)
        sentences = corpus.sentences_of([close["id"]]).get(close["id"], [])
        close_text = " ".join(t for t, a in sentences if a == "method") or " ".join(t for t, _ in sentences)
        text = _chat(engine, regenerate_prompt(problem, constraints, inspirations, idea, close["title"], close_text),
                     cfg.tokens_per_idea, cfg, seed + 1000 * (idea.rounds + 1))
        parsed = parse_ideas(text, len(inspirations))[:1]
        history = idea.too_close + [close]
        if parsed:
            fresh = to_idea(parsed[0], problem, inspirations, cfg.mode)
            fresh.probability = fresh.probability if fresh.probability is not None else idea.probability
            idea = fresh
        idea.rounds, idea.too_close = len(history), history
        score(corpus, idea)
    return idea


def rank(ideas: list[GeneratedIdea], too_close: float) -> list[GeneratedIdea]:
    """Ideas clear of existing papers first, then by calibrated novelty (overall, then method)."""
    return sorted(ideas, key=lambda i: (i.nearest.get("similarity", 0) > too_close,
                                        -i.scores.get("overall", 0), -i.scores.get("method", 0)))


def generate(corpus, problem: str, *, n: int | None = None, constraints: str = "", engine=None,
             cfg: IdeaConfig | None = None, inspiration_cfg: InspirationConfig | None = None,
             on_stage: Stage = lambda stage, done, total: None) -> IdeasResult:
    """Ideas for `problem` over `corpus` (anything with index_set, calibration, titles(ids) and
    sentences_of(ids), e.g. discovery.standalone.Standalone)."""
    cfg = cfg or IdeaConfig()
    n = n or cfg.n
    if not problem.strip():
        raise ValueError("describe the research problem first")
    if engine is None:
        from inference import load_engine

        engine = load_engine()
    timings, t = {}, time.perf_counter()
    on_stage("inspiring", 0, 1)
    inspirations = inspire(corpus.index_set, problem, sentences_of=corpus.sentences_of,
                           cfg=inspiration_cfg or InspirationConfig(k=cfg.inspirations))
    if not inspirations:
        raise ValueError("no papers are indexed to draw inspiration from")
    titles = corpus.titles([f.id for f in inspirations])
    for f in inspirations:
        f.title = titles.get(f.id, f.title)
    t = _lap(timings, "inspiring", t)
    on_stage("generating", 0, n)
    ideas = sample_ideas(engine, problem, constraints, inspirations, n, cfg)
    t = _lap(timings, "generating", t)
    for i, idea in enumerate(ideas):
        on_stage("assessing", i, n)
        score(corpus, idea)
        ideas[i] = push_away(engine, corpus, idea, problem, constraints, inspirations, cfg, cfg.seed + i)
    _lap(timings, "assessing", t)
    on_stage("ranking", n, n)
    return IdeasResult(problem, constraints, inspirations, rank(ideas, cfg.too_close), timings)


def _lap(timings: dict, stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = round((now - since) * 1000, 1)
    return now
