"""Research idea generation grounded in methodology inspirations and pushed toward novelty.

1. Inspirations for the problem (discovery.inspiration: MIR-style, through the learned ideation
   transitions of Navigating Ideation Space).
2. Verbalized Sampling (Zhang et al. 2025, "Verbalized Sampling: How to Mitigate Mode Collapse and
   Unlock LLM Diversity"): one request for n ideas *with their probabilities*, so the model lays
   out a distribution instead of repeating its single most likely idea n times. `mode="plain"`
   asks n times for one idea, each time from another inspiration (the baseline
   discovery.bench.ideas compares against). On an engine that decodes sequences together (the
   Int8 engine) the verbalized request becomes n replies decoded in one batch, each held to its
   own inspiration (Writer.together): a 1.5B model on 2 cores then writes five ideas in about
   the time of two.
3. The model must write JSON of a fixed schema (title, problem, method, expected_findings: all
   required, none empty), by constrained decoding (inference.structured.json_object), and each
   idea must pass the coherence filter (discovery.coherence: on the user's problem, using its
   inspiration's method, no chat filler, no echo) before it is ranked.
4. Each idea is scored by the Decomposed Novelty Assessment (discovery.novelty). SciMON (Wang et
   al. 2024, "SciMON: Scientific Inspiration Machines Optimized for Novelty") regenerates an idea
   while it sits too close to an existing paper, showing the model that paper; closeness here is
   the ideation-space pair similarity min(cos problem, cos method) of the nearest paper > 0.6
   (SciMON's cosine threshold), since the problem alone is the user's and always close.
5. Ideas are returned ranked by calibrated novelty, each with the inspirations it used.

The model (SmolLM2-135M in Int8) is tiny and untrusted: a cited inspiration number is checked, an
idea that cites none is held to the inspiration its method is closest to, and a missing or
rejected idea is filled from a template over an inspiration (source="template"); the result
counts the LLM ideas dropped, by reason.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from discovery.coherence import Coherence, CoherenceConfig
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
    tokens_per_idea: int = 110  # the four fields of FIELDS, sentence-long each, take 60-110 tokens
    attempts: int = 2  # extra requests for ideas the first reply did not deliver
    timeout_s: float = 30.0  # per idea asked for: a verbalized request for n ideas gets n times it
    budget_s: float = 60.0  # LLM time for a run's ideas before templates fill the rest
    regenerate_s: float = 25.0  # LLM time for SciMON's regenerations after that; an idea still too
    # close when it is spent keeps its flag (a 1.5B model on 2 cores takes ~25 s per regeneration)
    mode: str = "verbalized"  # or "plain"
    seed: int = 0
    coherence: CoherenceConfig = field(default_factory=CoherenceConfig)


@dataclass
class GeneratedIdea:
    problem: str
    method: str
    findings: str
    probability: float | None  # the model's own verbalized probability (None in plain mode)
    inspirations: list[Any]  # ids of the inspiring papers
    source: str = "llm"  # "llm" or "template" (the model gave nothing that passed the coherence filter)
    rounds: int = 0  # regenerations it took
    too_close: list[dict] = field(default_factory=list)  # papers it was pushed away from
    scores: dict[str, float] = field(default_factory=dict)  # calibrated novelty per aspect + overall
    verdict: str = ""
    nearest: dict = field(default_factory=dict)  # {"id", "title", "similarity"}: closest pair paper
    assessment: dict = field(default_factory=dict)  # novelty.Assessment.to_dict()
    title: str = ""
    coherence: dict = field(default_factory=dict)  # {"problem", "method"}: cosines the filter passed

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
    written: int = 0  # ideas the LLM was asked for, regenerations included
    dropped: dict[str, int] = field(default_factory=dict)  # LLM ideas not kept, by reason (coherence.REASONS,
    # "no_reply": no schema-valid JSON in time)

    def sources(self) -> dict[str, int]:
        return dict(Counter(i.source for i in self.ideas))


Stage = Callable[[str, int, int], None]  # (stage, done, total)

# ---------------------------------------------------------------------------------------------
# prompts and the JSON the model must write (inference.structured constrained decoding)

SYSTEM = "You propose concrete research ideas. Be brief and specific."
# (minLength, maxLength, what the model is told): lengths keep a 135M model's run-on strings short
FIELDS = {"title": (3, 80, "a short name for the idea"),
          "problem": (10, 200, "the research problem, in one sentence"),
          "method": (15, 260, "what to do: the paper's method applied to the problem"),
          "expected_findings": (10, 200, "what the experiments should show")}


def idea_schema(choose: bool = False, probability: bool = False) -> dict:
    """One idea; `choose` adds the number of the inspiration it uses (first, so the model picks a
    method before describing it), `probability` the verbalized probability (last)."""
    props = {"inspiration": {"type": "string", "minLength": 1, "maxLength": 2}} if choose else {}
    props |= {k: {"type": "string", "minLength": lo, "maxLength": hi, "description": why}
              for k, (lo, hi, why) in FIELDS.items()}
    if probability:
        props["probability"] = {"type": "string", "minLength": 1, "maxLength": 5}
    return {"type": "object", "required": list(props), "properties": props}


def batch_schema(n: int, inspiration: int | None = None) -> dict:
    """A verbalized reply of n ideas; `inspiration` (1-based) writes the first idea's number for
    the model, the start of one of the replies decoded together (Writer.together)."""
    item = idea_schema(choose=True, probability=True)
    if inspiration is not None:
        item["properties"]["inspiration"] = {"type": "string", "const": str(inspiration)}
    return {"type": "object", "required": ["ideas"], "properties": {"ideas": {
        "type": "array", "minItems": n, "maxItems": n, "items": item}}}


def _method_of(f: Inspiration) -> str:
    return f.method_sentence or f.title


def _listing(inspirations: list[Inspiration]) -> str:
    return "\n".join(f"[{i + 1}] {_method_of(f)}"[:300] for i, f in enumerate(inspirations))


def _messages(problem: str, constraints: str, methods: str, ask: str) -> list[dict]:
    extra = f"Constraints: {constraints}\n" if constraints.strip() else ""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Problem: {problem}\n{extra}{methods}\n{ask}"}]


_FIELD_NOTE = "Write JSON with: " + "; ".join(f"{k}: {why}" for k, (_, _, why) in FIELDS.items()) + "."


def verbalized_prompt(problem: str, constraints: str, inspirations: list[Inspiration], n: int) -> list[dict]:
    ask = (f"Write {n} different ideas that solve the problem, each using one method from the list "
           f"(inspiration: its number), with the probability (0 to 1) of each idea. Include unlikely ideas "
           f"too. {_FIELD_NOTE}")
    return _messages(problem, constraints, "Methods from papers:\n" + _listing(inspirations), ask)


def plain_prompt(problem: str, constraints: str, inspiration: Inspiration) -> list[dict]:
    method = f"Method of the paper \"{inspiration.title}\": {_method_of(inspiration)}"[:400]
    return _messages(problem, constraints, method,
                     f"Write one idea that solves the problem with this method. {_FIELD_NOTE}")


def regenerate_prompt(problem: str, constraints: str, inspirations: list[Inspiration], idea: GeneratedIdea,
                      close_title: str, close_text: str) -> list[dict]:
    ask = (f"This idea already exists: {idea.method}\nIt is too close to the paper \"{close_title}\": "
           f"{close_text[:300]}\nWrite one different idea with another method from the list (inspiration: "
           f"its number). {_FIELD_NOTE}")
    return _messages(problem, constraints, "Methods from papers:\n" + _listing(inspirations), ask)


_PROB = re.compile(r"(\d*\.\d+|\d+(?:\.\d+)?\s*%|[01])")


def _probability(text: str) -> float | None:
    m = _PROB.search(text or "")
    if not m:
        return None
    raw = m.group(1).replace(" ", "")
    value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    return value if 0.0 <= value <= 1.0 else None


def _cited(obj: dict, n_inspirations: int) -> list[int]:
    """The inspiration number the model chose, as an index; [] when it is not one of the list."""
    m = re.search(r"\d+", obj.get("inspiration", ""))
    i = int(m.group()) - 1 if m else -1
    return [i] if 0 <= i < n_inspirations else []


# ---------------------------------------------------------------------------------------------
# generation and the coherence filter


class Writer:
    """Asks the engine for ideas and keeps those that pass the coherence filter; `dropped` counts
    the rest by reason ("no_reply": the model gave no schema-valid JSON in time)."""

    def __init__(self, engine, problem: str, constraints: str, inspirations: list[Inspiration], cfg: IdeaConfig):
        self.engine, self.problem, self.constraints, self.cfg = engine, problem, constraints, cfg
        self.inspirations = inspirations
        self.judge = Coherence(problem, [_method_of(f) for f in inspirations], cfg.coherence)
        self.dropped: Counter = Counter()
        self.written = 0  # ideas the model wrote (or failed to write), kept or not

    def ask(self, messages: list[dict], schema: dict, ideas: int, seed: int,
            deadline: float = float("inf")) -> dict | None:
        from inference import GenerationError, GenerationTimeout
        from inference.structured import json_object, whole_items

        timeout = min(self.cfg.timeout_s * ideas, deadline - time.monotonic())
        try:
            return json_object(self.engine, messages, schema, max_new_tokens=self.cfg.tokens_per_idea * ideas,
                               temperature=self.cfg.temperature, top_p=self.cfg.top_p, seed=seed,
                               timeout_s=max(timeout, 1e-3))
        except GenerationTimeout as exc:
            # a batch cut by the budget keeps the ideas it finished: a 1.5B model on 2 cores writes
            # two or three of five in 60 s, and the whole batch would otherwise be lost
            done = whole_items(exc.partial, "ideas")
            return {"ideas": done} if done else None
        except GenerationError:  # the caller fills the gap
            return None

    def accept(self, obj: dict, cited: list[int], probability: float | None) -> GeneratedIdea | None:
        self.written += 1
        fields = [obj["problem"].strip(), obj["method"].strip(), obj["expected_findings"].strip()]
        verdict = self.judge.judge(*fields, cited)
        if verdict.reason:
            self.dropped[verdict.reason] += 1
            return None
        self.judge.keep(verdict)
        return GeneratedIdea(*fields, probability, [self.inspirations[verdict.inspiration].id],
                             title=obj["title"].strip(), coherence=verdict.scores())

    def failed(self, ideas: int) -> None:
        self.written += ideas
        self.dropped["no_reply"] += ideas

    def together(self, want: int, seed: int, deadline: float, used: set[int]) -> list[GeneratedIdea]:
        """The verbalized request as `want` replies decoded together (inference.structured.
        json_objects), each the first idea of the batch with its inspiration number written for
        the model: the methods not used yet, in rank order. One forward carries a token of every
        reply, so five ideas cost about the time of two written one after another."""
        from inference.structured import json_objects

        order = [k for k in range(len(self.inspirations)) if k not in used]
        order += [k for k in range(len(self.inspirations)) if k in used]
        picks = [order[j % len(order)] for j in range(want)]
        timeout = min(self.cfg.timeout_s * want, deadline - time.monotonic())
        replies = json_objects(self.engine, verbalized_prompt(self.problem, self.constraints, self.inspirations, want),
                               [batch_schema(1, k + 1) for k in picks], max_new_tokens=self.cfg.tokens_per_idea,
                               temperature=self.cfg.temperature, top_p=self.cfg.top_p,
                               seeds=[seed * 1000 + j for j in range(want)], timeout_s=max(timeout, 1e-3))
        found = []
        for k, reply in zip(picks, replies):
            if reply is None:
                self.failed(1)
                continue
            o = reply["ideas"][0]
            found.append(self.accept(o, [k], _probability(o["probability"])))
        return [g for g in found if g]

    def verbalized(self, want: int, seed: int, deadline: float) -> list[GeneratedIdea]:
        obj = self.ask(verbalized_prompt(self.problem, self.constraints, self.inspirations, want),
                       batch_schema(want), want, seed, deadline)
        if obj is None:
            self.failed(want)
            return []
        if len(obj["ideas"]) < want:
            self.failed(want - len(obj["ideas"]))
        found = [self.accept(o, _cited(o, len(self.inspirations)), _probability(o["probability"]))
                 for o in obj["ideas"]]
        return [g for g in found if g]

    def plain(self, k: int, seed: int, deadline: float) -> list[GeneratedIdea]:
        """One idea from inspiration k (round robin, so a retry tries another method)."""
        j = k % len(self.inspirations)
        obj = self.ask(plain_prompt(self.problem, self.constraints, self.inspirations[j]), idea_schema(), 1, seed,
                       deadline)
        if obj is None:
            self.failed(1)
            return []
        found = self.accept(obj, [j], None)
        return [found] if found else []


def template_idea(problem: str, inspiration: Inspiration) -> GeneratedIdea:
    method = f"Adapt the method of \"{inspiration.title}\" to this problem: {inspiration.method_sentence}".strip()
    # no findings: a generic sentence would sit far from every paper and so score as novel
    return GeneratedIdea(problem, method, "", None, [inspiration.id], source="template",
                         title=f"{inspiration.title} for this problem"[:FIELDS["title"][1]])


def sample_ideas(engine, problem: str, constraints: str, inspirations: list[Inspiration], n: int,
                 cfg: IdeaConfig, writer: Writer | None = None) -> list[GeneratedIdea]:
    """n ideas: from the model (verbalized: n per request, with probabilities; plain: one per
    request), those that pass the coherence filter, topped up by `attempts` extra requests within
    budget_s, then by templates over the inspirations."""
    from inference.structured import decodes_together

    writer = writer or Writer(engine, problem, constraints, inspirations, cfg)
    together = cfg.mode == "verbalized" and decodes_together(engine)
    ideas: list[GeneratedIdea] = []
    requests, start = 0, time.monotonic()
    deadline = start + cfg.budget_s
    budget = (1 + cfg.attempts) if cfg.mode == "verbalized" else n * (1 + cfg.attempts)
    while len(ideas) < n and requests < budget and time.monotonic() < deadline:
        # ask only for what the time left can hold at the pace so far: a request cut by the
        # deadline returns nothing. Replies decoded together take about as long for one idea as
        # for five, so their pace is per request.
        spent, left = time.monotonic() - start, deadline - time.monotonic()
        if together:
            fits = n if not requests or left >= spent / requests else 0
        else:
            fits = int(left / (spent / writer.written)) if writer.written and spent else n
        want = min(n - len(ideas), fits) if cfg.mode == "verbalized" else min(1, fits)
        if want < 1:
            break
        seed = cfg.seed + requests
        if cfg.mode == "plain":
            got = writer.plain(requests, seed, deadline)
        elif together:
            used = {k for k, f in enumerate(inspirations) if any(f.id in i.inspirations for i in ideas)}
            got = writer.together(want, seed, deadline, used)
        else:
            got = writer.verbalized(want, seed, deadline)
        ideas += got[:n - len(ideas)]
        requests += 1
    used = {i for idea in ideas for i in idea.inspirations}
    spare = [f for f in inspirations if f.id not in used] or inspirations  # methods no idea uses yet first
    for k in range(n - len(ideas)):
        idea = template_idea(problem, spare[k % len(spare)])
        at = inspirations.index(spare[k % len(spare)])
        idea.coherence = writer.judge.judge(idea.problem, idea.method, "", [at]).scores()
        ideas.append(idea)
    return ideas


def score(corpus, idea: GeneratedIdea) -> None:
    """Attach the novelty assessment and the nearest problem+method pair paper."""
    result = assess(corpus.index_set, idea.idea(), corpus.calibration, cfg=NoveltyConfig(k=3),
                    vectors=idea_vectors(idea.idea()))
    top = result.evidence[COMBO][0]
    idea.scores, idea.verdict, idea.assessment = result.scores, result.verdict, result.to_dict()
    idea.nearest = {"id": top.id, "title": corpus.titles([top.id]).get(top.id, ""),
                    "similarity": round(top.similarity, 4)}


def push_away(writer: Writer, corpus, idea: GeneratedIdea, seed: int,
              deadline: float = float("inf")) -> GeneratedIdea:
    """SciMON's loop: while the nearest paper is too close, show it and ask for another idea; a
    new idea replaces the old only when it passes the coherence filter. No request starts after
    the deadline, and none runs past it."""
    cfg, inspirations = writer.cfg, writer.inspirations
    while idea.nearest["similarity"] > cfg.too_close and idea.rounds < cfg.max_rounds \
            and time.monotonic() < deadline:
        close = dict(idea.nearest)
        sentences = corpus.sentences_of([close["id"]]).get(close["id"], [])
        close_text = " ".join(t for t, a in sentences if a == "method") or " ".join(t for t, _ in sentences)
        prompt = regenerate_prompt(writer.problem, writer.constraints, inspirations, idea, close["title"], close_text)
        obj = writer.ask(prompt, idea_schema(choose=True), 1, seed + 1000 * (idea.rounds + 1), deadline)
        fresh = writer.accept(obj, _cited(obj, len(inspirations)), idea.probability) if obj else writer.failed(1)
        history = idea.too_close + [close]
        if fresh:
            idea = fresh
            score(corpus, idea)
        idea.rounds, idea.too_close = len(history), history
    return idea


def rank(ideas: list[GeneratedIdea], too_close: float) -> list[GeneratedIdea]:
    """Ideas clear of existing papers first, then by calibrated novelty (overall, then method).
    Only ideas that passed the coherence filter (or templates) get here, so distance from the
    corpus is not won by text that is about nothing."""
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
    writer = Writer(engine, problem, constraints, inspirations, cfg)
    ideas = sample_ideas(engine, problem, constraints, inspirations, n, cfg, writer)
    t = _lap(timings, "generating", t)
    deadline = time.monotonic() + cfg.regenerate_s
    for i, idea in enumerate(ideas):
        on_stage("assessing", i, n)
        score(corpus, idea)
        ideas[i] = push_away(writer, corpus, idea, cfg.seed + i, deadline)
    _lap(timings, "assessing", t)
    on_stage("ranking", n, n)
    return IdeasResult(problem, constraints, inspirations, rank(ideas, cfg.too_close), timings,
                       written=writer.written, dropped=dict(writer.dropped))


def _lap(timings: dict, stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = round((now - since) * 1000, 1)
    return now
