"""Speculative decoding: greedy output token for token the plain one (both drafters, tiny random
Llama and Qwen2 models through the int8 engine), the same stops, budget, context end and
timeout; speculative sampling keeps the model's distribution (exact distribution of a Markov
chain against the empirical one)."""
import itertools

import pytest
import torch
from transformers import AutoModelForCausalLM, Qwen2Config

from inference import GenerationTimeout, loading
from inference import speculative
from inference.generate import Engine, HFSteps, Int8Steps, Output, Sampling, TextStream, plain_decode, token_probs
from inference.speculative import (ChainDrafter, LookupDrafter, ModelDrafter, Speculation, SpeculationError,
                                   from_settings, load_draft_steps)

from .test_architectures import SIZE, byte_tokenizer, tiny_model

PROMPTS = ["user: Explain why 'Sparse attention for long documents' and 'Sparse attention for long documents' "
           "are close.\nassistant:", "user: hello\nassistant:", "a"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spec")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loading, "cache_dir", lambda: folder / "cache")
        yield folder


def noisy_copy(src, folder, noise: float):
    """The model with noise on its weights: a draft that agrees often, not always."""
    model = AutoModelForCausalLM.from_pretrained(src).eval()
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * noise * p.std())
    model.save_pretrained(folder)
    byte_tokenizer().save_pretrained(folder)


@pytest.fixture(scope="module", params=["llama-tied", "qwen2"])
def family(request, cache):
    """(int8 model, tokenizer, draft model folder) of one family."""
    name = request.param
    tiny_model(name, cache / name)
    noisy_copy(cache / name, cache / f"{name}-draft", 0.3)
    model, tok = loading.load_int8(cache / name)
    return model, tok, cache / f"{name}-draft"


def engine(family, kind: str) -> Engine:
    model, tok, draft = family
    steps = Int8Steps(model)
    spec = {"plain": None, "lookup": lambda: Speculation(LookupDrafter()),
            "draft": lambda: Speculation(ModelDrafter(load_draft_steps(steps, tok, draft))),
            "auto": lambda: Speculation(ChainDrafter([LookupDrafter(min_ngram=2),
                                                      ModelDrafter(load_draft_steps(steps, tok, draft))]))}[kind]
    return Engine(steps, tok, "test", speculation=spec() if spec else None)


def run(e: Engine, prompt: str, **kw) -> tuple[str, list[str]]:
    pieces = []
    text = e.complete(e.tok(prompt).input_ids, kw.pop("max_new_tokens", 60), Sampling(), kw.pop("stop", []),
                      kw.pop("timeout_s", None), on_token=pieces.append)
    return text, pieces


def test_a_verified_block_is_bitwise_single_steps(family):
    model, tok, _ = family
    steps = Int8Steps(model)
    ids = tok(PROMPTS[0]).input_ids
    block = [5, 77, 120, 33, 33, 200, 9]
    steps.prefill(ids)
    one = torch.stack([steps.step(t) for t in block])
    steps.rewind(len(ids))
    assert torch.equal(steps.verify(block), one)
    steps.rewind(len(ids) + 2)  # a partial rollback, then the rest again
    assert torch.equal(steps.verify(block[2:]), one[2:])


@pytest.mark.parametrize("kind", ["lookup", "draft", "auto"])
def test_greedy_output_is_the_plain_greedy_output(family, kind):
    plain, spec = engine(family, "plain"), engine(family, kind)
    drafted = accepted = 0
    for prompt, n in itertools.product(PROMPTS, (1, 2, 5, 60)):
        want = run(plain, prompt, max_new_tokens=n)
        assert run(spec, prompt, max_new_tokens=n) == want, (prompt, n)
        assert spec.last_stats["tokens"] <= n
        drafted, accepted = drafted + spec.last_stats["drafted"], accepted + spec.last_stats["accepted"]
    assert accepted > 0 and accepted < drafted  # it did speculate, and some drafts were rejected
    assert spec.last_stats["drafter"] == kind


@pytest.mark.parametrize("kind", ["lookup", "draft"])
def test_stop_strings_end_the_text_where_plain_decoding_ends_it(family, kind):
    plain, spec = engine(family, "plain"), engine(family, kind)
    full, prompt = max((run(plain, p)[0], p) for p in PROMPTS)  # random models: some end early
    assert len(full) > 20
    for cut in (3, 11, len(full) // 2, len(full) - 2):
        stop = [full[cut:cut + 2], "never there \x00"]
        want = run(plain, prompt, stop=stop)
        assert want[0] == full[:full.index(stop[0])]
        assert run(spec, prompt, stop=stop) == want


def test_speculation_stops_at_the_end_of_the_context(cache):
    tiny_model("qwen2", cache / "short")
    model, tok = loading.load_int8(cache / "short", max_seq=40)
    plain = Engine(Int8Steps(model), tok, "t", speculation=None)
    spec = Engine(Int8Steps(model), tok, "t", speculation=Speculation(LookupDrafter()))
    ids = tok(PROMPTS[0][:30]).input_ids
    assert spec.complete(ids, 99, Sampling(), [], None) == plain.complete(ids, 99, Sampling(), [], None)
    assert spec.steps.pos <= 40 and spec.last_stats["tokens"] <= 40 - len(ids)
    assert spec.last_stats["drafted"] > 0


def test_the_timeout_is_raised_as_in_plain_decoding(family):
    for kind in ("plain", "lookup", "draft"):
        with pytest.raises(GenerationTimeout, match="after 1 tokens"):
            run(engine(family, kind), PROMPTS[0], timeout_s=1e-9)


def test_a_draft_model_of_another_vocabulary_is_refused(family, cache):
    model, tok, _ = family
    other = AutoModelForCausalLM.from_config(Qwen2Config(**{**SIZE, "vocab_size": 300})).eval()
    other.save_pretrained(cache / "vocab300")
    byte_tokenizer().save_pretrained(cache / "vocab300")
    with pytest.raises(SpeculationError, match="300 rows, the model's 260"):
        load_draft_steps(Int8Steps(model), tok, cache / "vocab300")


def test_the_settings_choose_the_drafter(family, monkeypatch):
    model, tok, draft = family
    steps = Int8Steps(model)
    monkeypatch.delenv("LLM_MODEL", raising=False)
    monkeypatch.delenv("LLM_DRAFT_MODEL", raising=False)
    monkeypatch.setenv("LLM_SPECULATE", "off")
    assert from_settings(steps, tok) is None
    monkeypatch.setenv("LLM_SPECULATE", "auto")
    assert isinstance(from_settings(steps, tok).drafter, LookupDrafter)  # no draft model: lookup
    monkeypatch.setenv("LLM_SPECULATE", "draft")
    with pytest.raises(SpeculationError, match="LLM_DRAFT_MODEL"):
        from_settings(steps, tok)
    monkeypatch.setenv("LLM_DRAFT_MODEL", str(draft))
    assert isinstance(from_settings(steps, tok).drafter, ModelDrafter)
    monkeypatch.setenv("LLM_SPECULATE", "auto")
    assert isinstance(from_settings(steps, tok).drafter, ChainDrafter)
    monkeypatch.setenv("LLM_DRAFT_TOKENS", "15")
    with pytest.raises(Exception, match="LLM_DRAFT_TOKENS"):
        from_settings(steps, tok)


def test_lookup_proposes_what_followed_the_latest_match():
    d = LookupDrafter(max_ngram=3)
    ctx = [1, 2, 3, 9, 1, 2, 3, 7, 8, 5, 1, 2, 3]
    d.start(ctx)
    assert d.propose(ctx, 4) == [7, 8, 5, 1]  # the 3-gram's latest earlier occurrence, not the first
    assert d.propose(ctx + [6], 4) == []      # 6 never seen before
    assert d.propose(ctx + [6, 2], 2) == [3, 6]  # 1-gram: what followed the latest earlier 2
    assert LookupDrafter(min_ngram=2).propose([4, 5, 6, 5], 3) == []


def test_hf_steps_verify_and_rewind_as_single_steps(cache):
    ref = tiny_model("qwen2", cache / "hf")
    steps = HFSteps(ref)
    ids = byte_tokenizer()(PROMPTS[1]).input_ids
    steps.prefill(ids)
    one = torch.stack([steps.step(t) for t in (4, 8, 15)])
    steps.rewind(len(ids))
    assert steps.pos == len(ids)
    assert torch.allclose(steps.verify([4, 8, 15]), one, atol=1e-4)


# Speculative sampling against the exact distribution: a Markov chain over 3 tokens, 2 tokens drawn.
CHAIN = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 0.3], [-0.5, 0.2, 0.9]])


class ChainSteps:
    """A step model whose next-token logits depend on the last token only."""
    max_seq, max_block = 64, 15

    def __init__(self):
        self.ctx = []

    @property
    def pos(self):
        return len(self.ctx)

    def prefill(self, ids):
        self.ctx = list(ids)
        return CHAIN[ids[-1]]

    def step(self, t):
        return self.verify([t])[-1]

    def verify(self, ids):
        self.ctx += ids
        return CHAIN[torch.tensor(ids)]

    def rewind(self, pos):
        self.ctx = self.ctx[:pos]


class FixedDrafter:
    name = "fixed"

    def __init__(self, tokens):
        self.tokens = tokens

    def start(self, ids):
        pass

    def propose(self, ctx, k):
        return self.tokens[:k]


class ChainTok:
    def decode(self, ids, skip_special_tokens=True):
        return "".join("abc"[i] for i in ids)


def exact(s: Sampling) -> dict[str, float]:
    """P(the 3 tokens after token 0) under the chain, as plain sampling draws them."""
    p = [token_probs(CHAIN[i], s) for i in range(3)]
    p = [x / x.sum() for x in p]
    return {"abc"[a] + "abc"[b] + "abc"[c]: float(p[0][a] * p[a][b] * p[b][c])
            for a in range(3) for b in range(3) for c in range(3)}


def sampled(spec, s: Sampling, n: int) -> dict[str, float]:
    gen, counts = torch.Generator().manual_seed(7), {}
    for _ in range(n):
        out = Output("t", TextStream(ChainTok(), []), set(), 3, None, lambda piece: None)
        if spec:
            spec.decode(ChainSteps(), [0], s, gen, out)
        else:
            plain_decode(ChainSteps(), [0], s, gen, out)
        counts[out.stream.text] = counts.get(out.stream.text, 0) + 1
    return {k: v / n for k, v in counts.items()}


def distance(got: dict, want: dict) -> float:
    return 0.5 * sum(abs(got.get(k, 0.0) - v) for k, v in want.items())


N, TV = 4000, 0.05  # at 4,000 draws the plain sampler's own distance is ~0.02


@pytest.mark.parametrize("s", [Sampling(temperature=1.0), Sampling(temperature=0.7, top_p=0.8)])
@pytest.mark.parametrize("draft", [[1, 1], [0, 2]])
def test_speculative_sampling_keeps_the_distribution(s, draft):
    spec = Speculation(FixedDrafter(draft), start_draft=2)
    assert distance(sampled(spec, s, N), exact(s)) < TV
    assert distance(sampled(None, s, N), exact(s)) < TV  # the check itself holds for plain sampling


def test_the_distribution_check_catches_a_wrong_acceptance_rule(monkeypatch):
    monkeypatch.setattr(speculative, "accepts", lambda logits, token, s, gen: True)  # drafts kept blindly
    s = Sampling(temperature=1.0)
    assert distance(sampled(Speculation(FixedDrafter([1, 1]), start_draft=2), s, N), exact(s)) > 2 * TV


def test_a_drafter_of_the_argmax_is_always_accepted_greedily():
    spec = Speculation(FixedDrafter([0, 0, 0, 0]), start_draft=4)
    out = Output("t", TextStream(ChainTok(), []), set(), 5, None, lambda piece: None)
    stats = spec.decode(ChainSteps(), [0], Sampling(), None, out)
    assert out.stream.text == "aaaaa" and stats.accepted == stats.drafted == 4 and stats.blocks == 1


def test_the_int8_threshold_setting_sets_the_run_time_threshold(family, monkeypatch):
    model, _, _ = family
    before = model.threshold
    monkeypatch.setenv("LLM_INT8_THRESHOLD", "6")
    try:
        assert Int8Steps(model).model.threshold == 6.0
    finally:
        model.threshold = before
    monkeypatch.delenv("LLM_INT8_THRESHOLD")
    assert Int8Steps(model).model.threshold == before
