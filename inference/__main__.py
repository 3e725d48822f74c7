"""Command line: `python -m inference generate "prompt"` (streams), `python -m inference bench`,
`python -m inference profile` (where a decoded token's time goes), `python -m inference ppl`
(one JSON line: perplexity of a text file) and `python -m inference models list|install NAME`.
--model (generate, ppl) takes what LLM_MODEL takes: a model name, a folder or a .gguf file."""
import argparse
import json
import logging
import os
import sys

from . import settings

settings.models_offline()


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
    g.add_argument("--model", default=None, help="a model name, folder or .gguf (default: LLM_MODEL)")
    g.add_argument("--speculate", default=None, choices=("auto", "lookup", "draft", "off"),
                   help="speculative decoding (default: LLM_SPECULATE or auto)")
    g.add_argument("--draft-model", default=None, help="the draft model (default: LLM_DRAFT_MODEL)")
    pp = sub.add_parser("ppl", help="perplexity of a text file, printed as one JSON line")
    pp.add_argument("--model", default=None, help="a model name, folder or .gguf (default: LLM_MODEL)")
    pp.add_argument("--text-file", required=True)
    pp.add_argument("--backend", default="int8", help="int8 | fp32 | bnb_int8 (default int8)")
    pp.add_argument("--tokens", type=int, default=512, help="score the first N tokens (default 512)")
    pp.add_argument("--threads", type=int, default=None)
    m = sub.add_parser("models", help="models known by name: list, or install one")
    m.add_argument("action", choices=("list", "install"))
    m.add_argument("name", nargs="?")
    sub.add_parser("profile", help="per-stage CPU time of one decoded token in the int8 engine")
    b = sub.add_parser("bench", help="fp32 vs int8 vs bitsandbytes vs dynamic int8")
    b.add_argument("--json", default=None, help="write the results here")
    b.add_argument("--threads", type=int, default=1, help="torch threads for every engine (default 1)")
    b.add_argument("--new-tokens", type=int, default=64)
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--ppl-tokens", type=int, default=2048, help="perplexity over this many tokens; 0: none")
    b.add_argument("--engines", default=None, help="comma-separated subset of fp32,int8,bnb_int8,dynamic_int8 "
                   "(the default) and int8_plain_loop,int8_lookup,int8_draft,int8_auto (speculative decoding)")
    b.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child process: measure one engine
    b.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if getattr(args, "model", None):
        os.environ["LLM_MODEL"] = args.model
    if getattr(args, "speculate", None):
        os.environ["LLM_SPECULATE"] = args.speculate
    if getattr(args, "draft_model", None):
        os.environ["LLM_DRAFT_MODEL"] = args.draft_model
    if args.cmd == "generate":
        return generate(args)
    if args.cmd == "ppl":
        return perplexity(args)
    if args.cmd == "models":
        return models(args)
    if args.cmd == "profile":
        from .bench import profile

        profile.main()
        return 0
    from . import bench

    cfg = bench.BenchConfig(threads=args.threads, new_tokens=args.new_tokens, repeats=args.repeats,
                            ppl_tokens=args.ppl_tokens)
    if args.one:
        result = bench.measure(args.one, cfg)
        with open(args.out, "w") as f:
            json.dump(result, f)
        return 0
    bench.main(cfg, args.engines.split(",") if args.engines else bench.ENGINES, args.json)
    return 0


def perplexity(args) -> int:
    import torch

    from . import models
    from .perplexity import text_perplexity

    if args.threads:
        torch.set_num_threads(args.threads)
    with open(args.text_file, encoding="utf-8") as f:
        text = f.read()
    print(json.dumps(text_perplexity(models.model_path(), text, args.backend, args.tokens)))
    return 0


def models(args) -> int:
    from . import models as registry

    if args.action == "list":
        for row in registry.model_list():
            size = f"{row['size_mb']} MB" if row["size_mb"] else "bundled"
            print(f"{row['name']:<20} {size:>9}  {row['installed'] or 'not installed'}\n{'':<20} {row['title']}")
        return 0
    if not args.name:
        print("models install NAME: one of " + ", ".join(registry.REGISTRY), file=sys.stderr)
        return 2
    print(registry.model_install(args.name, log=lambda msg: print(msg, file=sys.stderr)))
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
