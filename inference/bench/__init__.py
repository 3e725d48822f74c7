"""`python -m inference bench`: the int8 engine against fp32 eager, bitsandbytes LLM.int8() and
naive dynamic int8, on the same prompts and the same held-out text, one subprocess per engine
(so peak RSS is each engine's own). peak_rss_mb covers loading and generation (the baselines
dequantize the GGUF at load; the int8 engine reads its cache, which the parent builds first);
peak_rss_with_ppl_mb adds the 2,048-token perplexity forward and its [2048, 49152] logits.

decode tok/s   greedy, (N-1) / (time from the 1st to the Nth new token) on a ~200-token chat
               prompt; the baselines through transformers' generate (timed by a streamer), as a user
               would run them. Best of `repeats` runs (the machine is shared).
rationale tok/s  the same on a rationale-like prompt (5 paper titles listed, "explain the verdict"),
               where an answer copies the prompt and prompt lookup pays
int8_lookup, int8_draft, int8_auto  the int8 engine with speculative decoding (speculative.py:
               prompt lookup, the registered draft model or LLM_DRAFT_MODEL, both), through the
               engine's own decoding loop; their acceptance (share of drafts kept) and mean accepted
               length (drafts kept per verified block) are reported per prompt. Same weights as
               int8: no perplexity or prefill of their own.
prefill tok/s  one forward over a 500-token prompt
ttft_s         chat prompt in, first token out
ppl            perplexity of the first 2,048 tokens of seed_papers.txt, one full window
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import torch

from inference import models, settings

ENGINES = ("fp32", "int8", "bnb_int8", "dynamic_int8")
SPECULATIVE = {"int8_plain_loop": None, "int8_lookup": "lookup", "int8_draft": "draft", "int8_auto": "auto"}
PPL_TOKENS = 2048
PREFILL_TOKENS = 500


@dataclass
class BenchConfig:
    threads: int = 1          # torch threads for every engine; 1 keeps a shared machine's figures stable
    new_tokens: int = 64      # greedy tokens per decode measurement
    repeats: int = 3          # best of this many timings (on a shared machine the best is the least disturbed)
    ppl_tokens: int = PPL_TOKENS  # 0: no perplexity (a loaded machine, `ppl` measured apart)


def held_out_text() -> str:
    path = settings.shared_data_dir() / "seed_papers.txt"
    if not path.exists():
        raise SystemExit(f"{path} not found: set SHARED_DATA_DIR to the folder holding seed_papers.txt")
    return path.read_text()


def load(engine: str):
    """(step-model runner, tokenizer, weight bytes) for one engine."""
    from inference import baselines
    from inference.bench import baselines as bench_baselines
    from inference.generate import Int8Steps

    if engine == "int8":
        model, tok = models.load_int8_model()
        return Int8Runner(Int8Steps(model)), tok, model.nbytes()
    if engine in SPECULATIVE:
        from inference import speculative

        model, tok = models.load_int8_model()
        steps = Int8Steps(model)
        mode = SPECULATIVE[engine]
        spec = speculative.build(mode, steps, tok, settings.draft_tokens()) if mode else None
        return EngineRunner(steps, tok, spec), tok, model.nbytes()
    make = {"fp32": baselines.fp32_model, "bnb_int8": baselines.bnb_model,
            "dynamic_int8": bench_baselines.dynamic_int8_model}[engine]
    model, tok = make(models.model_path())
    return HFRunner(model), tok, bench_baselines.weight_bytes(model)


class Int8Runner:
    def __init__(self, steps):
        self.steps = steps

    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        return self.steps.model.forward(ids, 0, all_logits=True)

    def greedy(self, ids: list[int], n: int) -> tuple[list[int], list[float]]:
        """Tokens and the (wall, process CPU) times at which each became available."""
        out = [int(self.steps.prefill(ids).argmax())]
        stamps = [(time.perf_counter(), time.process_time())]
        while len(out) < n:
            out.append(int(self.steps.step(out[-1]).argmax()))
            stamps.append((time.perf_counter(), time.process_time()))
        return out, stamps


class EngineRunner(Int8Runner):
    """The engine's own decoding loop (plain_decode or Speculation.decode), stop ids ignored so
    that every run has its n tokens; `stats` keeps the latest speculation figures."""

    def __init__(self, steps, tok, speculation):
        super().__init__(steps)
        self.tok, self.speculation, self.stats = tok, speculation, {}

    def greedy(self, ids: list[int], n: int) -> tuple[list[int], list[float]]:
        from inference.generate import Output, Sampling, TextStream, plain_decode

        stamps, taken = [], []

        class Stamped(Output):
            def push(self, token_id: int) -> bool:
                over = super().push(token_id)
                taken.append(token_id)
                stamps.append((time.perf_counter(), time.process_time()))
                return over

        out = Stamped("bench", TextStream(self.tok, []), set(), n, None, lambda piece: None)
        if self.speculation is None:
            plain_decode(self.steps, ids, Sampling(), None, out)
        else:
            self.stats = self.speculation.decode(self.steps, ids, Sampling(), None, out).as_dict()
        return taken, stamps


def rationale_prompt(text: str) -> list[dict]:
    """A novelty-rationale prompt as discovery/rationale.py writes one: the idea, the verdict and
    5 related titles; the answer is expected to name them."""
    lines = text.splitlines()
    titles = [lines[i] for i in range(2, 12, 2)]
    idea = lines[13][:300]
    listing = "; ".join(f'[{n}] "{t[:80]}"' for n, t in enumerate(titles, start=1))
    user = (f"Idea problem: {idea}\nIdea method: {lines[15][:300]}\nVerdict: close to existing work.\n"
            f"Novelty scores (0 known, 1 new): problem 0.31, method 0.42.\nRelated papers: {listing}.\n\n"
            "In 3 sentences, explain the verdict. Name the related papers by their titles and cite them "
            "as [1], [2] etc. from the list.")
    return [{"role": "system", "content": "You explain novelty assessments of research ideas briefly and factually."},
            {"role": "user", "content": user}]


def chat_ids(tok, messages: list[dict]) -> list[int]:
    ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def decode_figures(runner, ids: list[int], cfg: "BenchConfig", prefix: str) -> dict:
    runs = [timed(runner, ids, cfg.new_tokens) for _ in range(cfg.repeats)]
    out = {f"{prefix}ttft_s": min(r[0] for r in runs), f"{prefix}decode_tok_s": max(r[1] for r in runs),
           f"{prefix}decode_tok_per_cpu_s": max(r[2] for r in runs)}
    stats = getattr(runner, "stats", None)
    if stats:
        out[f"{prefix}acceptance"] = stats["acceptance"]
        out[f"{prefix}mean_accepted"] = stats["mean_accepted"]
    return out


class Stamps:
    """A transformers streamer that only notes when each new token arrives."""

    def __init__(self):
        self.times, self.prompt_seen = [], False

    def put(self, value):
        if self.prompt_seen:
            self.times.append((time.perf_counter(), time.process_time()))
        self.prompt_seen = True

    def end(self):
        pass


class HFRunner:
    def __init__(self, model):
        self.model = model

    @torch.inference_mode()
    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(ids[None], use_cache=False).logits[0]

    @torch.inference_mode()
    def greedy(self, ids: list[int], n: int) -> tuple[list[int], list[float]]:
        stamps = Stamps()
        out = self.model.generate(torch.tensor([ids]), max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                  pad_token_id=self.model.config.eos_token_id, streamer=stamps)
        return out[0, len(ids):].tolist(), stamps.times


def timed(runner, ids: list[int], n: int) -> tuple[float, float, float]:
    """(time to first token, decode tok/s after it, decode tokens per CPU-second) for one greedy
    run. Per CPU-second is what a quiet machine would show at threads=1, whatever the load."""
    t = time.perf_counter()
    _, st = runner.greedy(ids, n)
    if n == 1:
        return st[0][0] - t, 0.0, 0.0
    return st[0][0] - t, (n - 1) / (st[-1][0] - st[0][0]), (n - 1) / (st[-1][1] - st[0][1])


def measure(engine: str, cfg: BenchConfig) -> dict:
    torch.set_num_threads(cfg.threads)
    t0 = time.perf_counter()
    runner, tok, wbytes = load(engine)
    load_s = time.perf_counter() - t0
    text = held_out_text()
    abstract = text.splitlines()[1]
    ask = [{"role": "user", "content": "Summarize this abstract in two sentences:\n" + abstract}]
    chat = chat_ids(tok, ask)
    rationale = chat_ids(tok, rationale_prompt(text))
    all_ids = tok(text).input_ids
    long_prompt = all_ids[PPL_TOKENS:PPL_TOKENS + PREFILL_TOKENS]
    runner.greedy(chat, 2)  # warm-up: first-call allocations, lazy inits
    result = {**decode_figures(runner, chat, cfg, ""), **decode_figures(runner, rationale, cfg, "rationale_")}
    result["sample"] = tok.decode(runner.greedy(chat, min(40, cfg.new_tokens))[0], skip_special_tokens=True)
    result["rationale_sample"] = tok.decode(runner.greedy(rationale, cfg.new_tokens)[0], skip_special_tokens=True)
    result.update(weights_mb=wbytes / 1e6, load_s=load_s, threads=cfg.threads,
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # load + generation
    if engine in SPECULATIVE:  # the int8 weights: their prefill and perplexity are int8's
        return result
    prefill = min(timed(runner, long_prompt, 1)[0] for _ in range(cfg.repeats))
    result.update(prefill_tok_s=PREFILL_TOKENS / prefill)
    if not cfg.ppl_tokens:
        return result
    ids = torch.tensor(all_ids[:cfg.ppl_tokens])
    with torch.inference_mode():
        logits = runner.logits(ids).float()
    ppl = torch.nn.functional.cross_entropy(logits[:-1], ids[1:]).exp().item()
    result.update(ppl=ppl,
                  peak_rss_with_ppl_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def run_child(engine: str, cfg: BenchConfig) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, "-m", "inference", "bench", "--one", engine, "--out", out,
           "--threads", str(cfg.threads), "--new-tokens", str(cfg.new_tokens), "--repeats", str(cfg.repeats),
           "--ppl-tokens", str(cfg.ppl_tokens)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if cfg.threads > 1:  # "use N threads" includes the int8 engine's one-token ops (settings.parallel_decode)
        env.setdefault("LLM_PARALLEL_DECODE", "1")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    try:
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(results: dict) -> str:
    cols = [("decode_tok_s", "decode tok/s", "{:.1f}"), ("decode_tok_per_cpu_s", "decode tok/CPU-s", "{:.1f}"),
            ("rationale_decode_tok_s", "rationale tok/s", "{:.1f}"),
            ("acceptance", "accepted", "{:.0%}"), ("mean_accepted", "per block", "{:.2f}"),
            ("rationale_acceptance", "rationale accepted", "{:.0%}"),
            ("rationale_mean_accepted", "rationale per block", "{:.2f}"),
            ("prefill_tok_s", "prefill tok/s", "{:.0f}"),
            ("ttft_s", "ttft s", "{:.3f}"), ("ppl", "ppl", "{:.2f}"), ("weights_mb", "weights MB", "{:.0f}"),
            ("peak_rss_mb", "peak RSS MB", "{:.0f}")]
    lines = ["| engine | " + " | ".join(c[1] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in results.items():
        cells = [fmt.format(r[k]) if k in r else r.get("error", "-") for k, _, fmt in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def speculation_verdict(r: dict) -> list[str]:
    if "decode_tok_s" not in r.get("int8", {}):
        return []
    base = r["int8"]
    return [f"{name}: decode {v['decode_tok_s'] / base['decode_tok_s']:.2f}x int8, rationale "
            f"{v['rationale_decode_tok_s'] / base['rationale_decode_tok_s']:.2f}x int8 (target >= 2x)"
            for name, v in r.items() if name in SPECULATIVE and "decode_tok_s" in v]


def verdict(r: dict) -> list[str]:
    if not all(k in r and "ppl" in r[k] for k in ENGINES):
        return ["verdict needs all four engines to have run"] + speculation_verdict(r)
    i8, fp = r["int8"], r["fp32"]
    return [f"int8 perplexity {100 * (i8['ppl'] / fp['ppl'] - 1):+.2f}% vs fp32 (target <= +1%)",
            f"int8 decode {i8['decode_tok_s'] / fp['decode_tok_s']:.2f}x fp32 (target >= 4x), "
            f"{i8['decode_tok_s'] / r['bnb_int8']['decode_tok_s']:.2f}x bitsandbytes, "
            f"{i8['decode_tok_s'] / r['dynamic_int8']['decode_tok_s']:.2f}x dynamic int8",
            f"int8 weights {i8['weights_mb'] / fp['weights_mb']:.2f}x fp32 (target <= 0.3x)"] + speculation_verdict(r)


def main(cfg: BenchConfig, engines=ENGINES, json_path: str | None = None) -> dict:
    print(f"building the int8 cache and kernels first; load average {load_average()}", flush=True)
    warm = "from inference import kernels, loading, models; kernels.ops(); loading.load_int8(models.model_path())"
    subprocess.run([sys.executable, "-c", warm], check=True, capture_output=True)
    results = {}
    for name in engines:
        results[name] = run_child(name, cfg)
        print(f"  {name}: {json.dumps({k: v for k, v in results[name].items() if 'sample' not in k})}", flush=True)
    report = {"config": asdict(cfg), "load_average_after": load_average(), "engines": results}
    print(table(results))
    for name, r in results.items():
        print(f"{name} greedy sample: {r.get('sample', '')[:100]!r}")
        print(f"{name} rationale sample: {r.get('rationale_sample', '')[:160]!r}")
    for line in verdict(results):
        print(line)
    print(f"load average (1, 5, 15 min): {report['load_average_after']} on {os.cpu_count()} cores")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(report, f, indent=2)
    return report
