"""`python -m inference profile`: where one decoded token's time goes in the int8 engine.

Real decode steps are run with a timer around every stage (so the weights stream from memory as
they do in production, not from a cache warmed by repeating one layer), in process CPU time at one
thread, so that a loaded machine still gives the single-thread figure. "Python glue" is the whole
step, timed without the timers, minus the stages; each stage includes its own Python call.
"""
import collections
import time

import torch

from inference import int8 as q8
from inference import model as model_module
from inference import models
from inference.loading import load_int8


def breakdown(pos: int = 200, steps: int = 30) -> list[tuple[str, float]]:
    """(stage, CPU seconds per token) for each stage summed over layers, then the whole step."""
    torch.set_num_threads(1)
    m, _ = load_int8(models.model_path())
    prompt = torch.arange(pos) % 1000 + 100
    m.forward(prompt, 0)
    names = {id(m.head): "final rmsnorm + int8 head (49152 x 576)"}
    for L in m.layers:
        names.update({id(L.qkv): "rmsnorm + q|k|v int8 matmul", id(L.o): "o int8 matmul + residual",
                      id(L.gate_up): "rmsnorm + gate|up int8 matmul",
                      id(L.down): "SwiGLU + down int8 matmul + residual"})
    spent = collections.Counter()

    def timed(name, fn):
        def run(*args, **kw):
            t = time.process_time()
            out = fn(*args, **kw)
            spent[name if name else names[id(args[1])]] += time.process_time() - t
            return out
        return run

    def decode(n):
        t = time.process_time()
        for i in range(n):
            m.forward(prompt[i:i + 1], pos + i)
        return (time.process_time() - t) / n

    whole = decode(steps)
    linear, rope, attend, embed = model_module.q8.int8_linear, m._rope, m._attend, m.embed
    model_module.q8 = type("q8", (), {"int8_linear": staticmethod(timed(None, q8.int8_linear))})
    m._rope, m._attend = timed("rope + KV cache append", rope), timed(f"attention (~{pos} positions)", attend)
    m.embed = timed("embed (int8 row dequant)", embed)
    try:
        decode(steps)
    finally:
        model_module.q8, m._rope, m._attend, m.embed = q8, rope, attend, embed
    stages = [(k, v / steps) for k, v in spent.items()]
    stages.append(("Python glue (whole step - stages)", whole - sum(t for _, t in stages)))
    stages.append((f"whole decode step ({len(m.layers)} layers)", whole))
    return stages


def main() -> None:
    stages = breakdown()
    whole = stages[-1][1]
    print("| stage | ms per token | share |\n|---|---|---|")
    for name, t in stages:
        print(f"| {name} | {1e3 * t:.2f} | {100 * t / whole:.0f}% |")
    print(f"single-thread CPU-time rate: {1 / whole:.1f} tok/s")
