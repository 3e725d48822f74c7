"""Command line: `python -m inference generate "prompt"` (streams), `python -m inference bench`
and `python -m inference profile` (where a decoded token's time goes)."""
import argparse
import json
import logging
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m inference")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="stream a chat reply to one prompt")
    g.add_argument("prompt")
    g.add_argument("--system", default=None)
    g.add_argument("--backend", default=None, help="int8 | fp32 | bnb_int8 | stub (default: LLM_BACKEND or int8)")
    g.add_argument("--max-new-tokens", type=int, default=256)
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--top-p", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=None)
    g.add_argument("--stop", action="append", default=None)
    g.add_argument("--timeout", type=float, default=120)
    g.add_argument("--threads", type=int, default=None)
    sub.add_parser("profile", help="per-stage CPU time of one decoded token in the int8 engine")
    b = sub.add_parser("bench", help="fp32 vs int8 vs bitsandbytes vs dynamic int8")
    b.add_argument("--json", default=None, help="write the results here")
    b.add_argument("--threads", type=int, default=1, help="torch threads for every engine (default 1)")
    b.add_argument("--new-tokens", type=int, default=64)
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--engines", default=None, help="comma-separated subset of fp32,int8,bnb_int8,dynamic_int8")
    b.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child process: measure one engine
    b.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.cmd == "generate":
        return generate(args)
    if args.cmd == "profile":
        from .bench import profile

        profile.main()
        return 0
    from . import bench

    cfg = bench.BenchConfig(threads=args.threads, new_tokens=args.new_tokens, repeats=args.repeats)
    if args.one:
        result = bench.measure(args.one, cfg)
        with open(args.out, "w") as f:
            json.dump(result, f)
        return 0
    bench.main(cfg, args.engines.split(",") if args.engines else bench.ENGINES, args.json)
    return 0


def generate(args) -> int:
    import torch

    from . import GenerationError, load_engine

    if args.threads:
        torch.set_num_threads(args.threads)
    engine = load_engine(args.backend)
    messages = ([{"role": "system", "content": args.system}] if args.system else []) + \
               [{"role": "user", "content": args.prompt}]
    try:
        engine.chat(messages, max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                    seed=args.seed, stop=args.stop, timeout_s=args.timeout,
                    on_token=lambda piece: print(piece, end="", flush=True))
    except GenerationError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
