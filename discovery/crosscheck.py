"""The optional LLM cross-check of a novelty judgement: the approach of the novelty-detection
paper (Liu et al., 2025: retrieve the closest prior ideas, let an LLM judge the idea against
them), as a second opinion beside the learned scorer, never instead of it.

The idea and each of the scorer's three best-covering prior items go to the LLM, one pair per
prompt, asking whether the item already states the idea; the answer is read off the logits of
that prefill, as the log-odds of "Yes" against "No", and the highest over the items is the
margin. No token is generated, so the check costs three forward passes over ~150 tokens and
cannot write anything false.

That margin is joined with the scorer's logit by a logistic model with two weights and a bias,
fitted per LLM on novelty_dev's dev half (`python -m discovery.train.crosscheck --model NAME
--save`); the training command saves weights only when the check raises the dev half's AUROC. A
model without saved weights is not asked, so the default 135M model (which the fit did not
justify) and the stand-ins leave every score as the scorer gives it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WEIGHTS = Path(__file__).resolve().parent / "weights" / "crosscheck.json"
ITEMS = 3  # prior items shown: the scorer's best-covering ones (subsets and paraphrases hide there)
ITEM_CHARS = 400  # an abstract's opening; novelty_dev's items are one sentence


@dataclass(frozen=True)
class Weights:
    bias: float
    scorer: float  # on logit(p not novel) of the scorer
    llm: float  # on the LLM's log-odds that a prior item contains the idea
    meta: dict

    def p_not_novel(self, p_scorer: float, margin: float) -> float:
        p = min(max(p_scorer, 1e-6), 1 - 1e-6)
        z = self.bias + self.scorer * math.log(p / (1 - p)) + self.llm * margin
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=1)
def _all(path: Path = WEIGHTS) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def weights_for(model_name: str) -> Weights | None:
    """The fitted weights of this LLM, or None: the cross-check is then not used."""
    raw = _all().get(model_name)
    return Weights(raw["bias"], raw["scorer"], raw["llm"], raw.get("meta", {})) if raw else None


def messages(idea: str, item: str) -> list[dict]:
    """One prior item at a time: a 1.5B model shown a list of three answered at chance (session 9,
    AUROC 53 / 56 alone on novelty_dev)."""
    user = (f"Idea A: {idea.strip()[:600]}\n\nIdea B (published earlier): {item.strip()[:ITEM_CHARS]}\n\n"
            "Does idea B already state idea A, in the same or other words, or as part of a broader claim? "
            "Answer Yes or No.")
    return [{"role": "system", "content": "You are a careful reviewer who judges whether research ideas are novel."},
            {"role": "user", "content": user}]


def _answer_ids(tok) -> tuple[list[int], list[int]]:
    """First tokens of the spellings of Yes and No an assistant turn may open with."""
    def first(words):
        return sorted({tok(w, add_special_tokens=False).input_ids[0] for w in words})
    return first(["Yes", " Yes", "yes"]), first(["No", " No", "no"])


def margin(engine, idea: str, items: list[str]) -> float:
    """Over the items, the highest log p(Yes) - log p(No) of the LLM's first answer token (each
    summed over its spellings): the idea is known when one item states it."""
    import torch

    yes, no = _answer_ids(engine.tok)
    best = -math.inf
    for item in items:
        ids = engine.prompt_ids(messages(idea, item))
        if len(ids) >= engine.steps.max_seq:
            raise ValueError(f"the cross-check prompt has {len(ids)} tokens, over the model's context")
        with engine.lock:
            logp = torch.log_softmax(engine.steps.prefill(ids).float(), dim=-1)
        best = max(best, float(torch.logsumexp(logp[yes], 0) - torch.logsumexp(logp[no], 0)))
    return best


class CrossCheck:
    """A second opinion bound to one engine and its weights: p(not novel) -> p(not novel)."""

    def __init__(self, engine, weights: Weights):
        self.engine, self.weights = engine, weights

    def __call__(self, idea: str, items: list[str], p_scorer: float) -> tuple[float, float]:
        """(the joined p(not novel), the LLM's margin)."""
        m = margin(self.engine, idea, items[:ITEMS])
        return self.weights.p_not_novel(p_scorer, m), m


def configured() -> CrossCheck | None:
    """The cross-check of the configured LLM when it has fitted weights (DISCOVERY_CROSSCHECK=0
    turns it off); None otherwise, without loading any model."""
    from discovery import settings
    from inference import load_engine
    from inference import settings as llm_settings

    if not settings.crosscheck_enabled():
        return None
    w = weights_for(llm_settings.model_name() or "")
    if w is None:
        return None
    engine = load_engine()
    return CrossCheck(engine, w) if hasattr(engine, "steps") else None
