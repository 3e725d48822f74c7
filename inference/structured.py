"""JSON output that matches a JSON Schema: ask, extract, repair, validate, retry, then fail clearly.

A 135M model often wraps JSON in prose or code fences, leaves a trailing comma or stops before the
closing brace. We repair those mechanically; a schema violation is sent back to the model with the
validator's message, `retries` times, before giving up with GenerationError.
"""
import hashlib
import json
import re
import time
from dataclasses import dataclass

import jsonschema_rs


def schema_prompt(schema: dict) -> str:
    """A small model follows an example far better than a schema, so it gets both."""
    example = json.dumps(minimal_instance(schema))
    notes = "".join(f"\n- {k}: {v['description']}" for k, v in schema.get("properties", {}).items()
                    if isinstance(v, dict) and v.get("description"))
    return (f"Reply with only a JSON object shaped like this example: {example}{notes}\n"
            f"It must validate against this JSON Schema: {json.dumps(schema, separators=(',', ':'))}")


def extract_json(text: str):
    """The first JSON object in text, repaired if needed; raises ValueError when there is none."""
    text = re.sub(r"```(?:json)?", "", text)
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the reply")
    body = text[start:]
    try:
        return json.JSONDecoder().raw_decode(body)[0]
    except json.JSONDecodeError:
        return json.loads(repair(body))


def repair(body: str) -> str:
    """Drop trailing commas and close what a truncated reply left open (strings, lists, objects)."""
    out, stack, in_str, esc = [], [], False, False
    for ch in body:
        out.append(ch)
        if in_str:
            esc, in_str = (not esc and ch == "\\"), in_str and not (ch == '"' and not esc)
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
            if not stack:
                break
    text = "".join(out) + ('"' if in_str else "")
    text = re.sub(r",\s*$", "", text.rstrip())
    text += "".join(reversed(stack))
    return re.sub(r",\s*([}\]])", r"\1", text)


def chat_json(chat, messages: list[dict], schema: dict, max_new_tokens: int, retries: int, error_cls, **sampling):
    """Ask `chat` for JSON matching schema; dict on success, error_cls with the last problem otherwise.
    The first attempt is free-form; retries write the keys and punctuation themselves and let the
    model fill in one value at a time (see guided_object)."""
    validator = jsonschema_rs.validator_for(schema)
    convo = [{"role": "system", "content": schema_prompt(schema)}] + [m for m in messages if m["role"] != "system"]
    if messages and messages[0]["role"] == "system":
        convo[0]["content"] = messages[0]["content"] + "\n\n" + convo[0]["content"]
    problem = ""
    for attempt in range(retries + 1):
        try:
            if attempt == 0 or not schema.get("properties"):
                obj = extract_json(chat(convo, max_new_tokens=max_new_tokens, assistant_prefix="{", **sampling))
            else:
                obj = guided_object(chat, convo, schema, max_new_tokens, **sampling)
        except ValueError as exc:
            problem = f"not JSON ({exc})"
            continue
        errors = [e.message for e in validator.iter_errors(obj)]
        if not errors:
            return obj
        problem = "does not match the schema: " + "; ".join(errors[:3])
    raise error_cls(f"no schema-valid JSON after {retries + 1} attempts; last reply {problem}")


def guided_object(chat, convo: list[dict], schema: dict, max_new_tokens: int, **sampling) -> dict:
    """Build the object key by key: the prefix holds the JSON so far, the model writes one value,
    stopped by the character that ends it. Values of other types are left to the repair step."""
    text = "{"
    budget = max(16, max_new_tokens // max(1, len(schema["properties"])))
    for i, (key, sub) in enumerate(schema["properties"].items()):
        text += (", " if i else "") + json.dumps(key) + ": "
        kind = sub.get("type") if isinstance(sub, dict) else None
        opener, stop, closer = {"string": ('"', ['"', "\n"], '"'), "array": ("[", ["]"], "]"),
                                "integer": ("", [",", "}", "\n"], ""), "number": ("", [",", "}", "\n"], ""),
                                "boolean": ("", [",", "}", "\n"], "")}.get(kind, ("", ["\n"], ""))
        if kind == "array" and sub.get("items", {}).get("type") == "string":
            opener, stop, closer = '["', ["]", "\n\n"], "]"
        if "enum" in sub:
            text += json.dumps(sub["enum"][0])
            continue
        text = chat(convo, max_new_tokens=budget, assistant_prefix=text + opener, stop=stop, **sampling)
        text = text.rstrip() + closer
    return coerce(extract_json(text + "}"), schema)


def coerce(obj: dict, schema: dict) -> dict:
    """Small models write 1 or "yes" for true; map the unambiguous cases onto the schema's type."""
    truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    for key, sub in schema.get("properties", {}).items():
        value = obj.get(key)
        if isinstance(sub, dict) and sub.get("type") == "boolean" and str(value).lower() in truth:
            obj[key] = truth[str(value).lower()]
    return obj


def whole_items(partial: str, key: str) -> list[dict]:
    """The objects of the array under `key` that a cut-off constrained reply finished: the
    values of a reply cut by its timeout up to the last complete item."""
    start = partial.find(json.dumps(key) + ": [")
    if start < 0:
        return []
    pos, items, decoder = start + len(json.dumps(key)) + 3, [], json.JSONDecoder()
    while True:
        pos = len(partial) - len(partial[pos:].lstrip(", "))
        try:
            item, pos = decoder.raw_decode(partial, pos)
        except json.JSONDecodeError:
            return items
        if isinstance(item, dict):
            items.append(item)


def minimal_instance(schema: dict, seed: str | None = None):
    """A deterministic value valid against simple schemas (type, properties, required, items,
    enum, const, min/max bounds); strings are derived from seed so different prompts differ,
    or are "..." without one (the example shown to the model)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return minimal_instance(schema[key][0], seed)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(props.get(k, {}), seed and f"{seed}/{k}") for k in props}
    if kind == "array":
        n = schema.get("minItems", 1)
        return [minimal_instance(schema.get("items", {}), seed and f"{seed}/{i}") for i in range(n)]
    if kind in ("integer", "number"):
        lo = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        return int(lo) if kind == "integer" else float(lo)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = "..." if seed is None else "stub-" + hashlib.sha256(seed.encode()).hexdigest()[:8]
    lo, hi = schema.get("minLength", 0), schema.get("maxLength", len(text))
    return (text * (lo // len(text) + 1))[:max(lo, min(hi, len(text)))]


# ---------------------------------------------------------------------------------------------
# constrained decoding: the output can only be a JSON object of the schema
#
# A schema of objects (fixed keys, in the order of `properties`), strings and fixed-length arrays
# compiles to literal text and string fields in between (a string const is literal text too).
# The literals are forced (fed to the model as tokens, never sampled); inside a string only tokens free of '"', '\' and control characters
# may be sampled, or a token that closes the string ('"' and what follows must begin the next
# literal). Every string is then valid JSON without escapes, so no reply can fail to parse, and
# maxLength is kept by masking tokens longer than the room left. The per-token tables are built
# once per tokenizer; a step's mask is two vector operations over the vocabulary.

class Unsupported(ValueError):
    """The schema has a part constrained decoding does not handle (numbers, enums, free arrays)."""


@dataclass
class Field:
    min_length: int  # characters, after stripping the spaces a model puts around a value
    max_length: int | None
    follows: str = ""  # the literal after the string: '"' then the next keys' punctuation


def compile_schema(schema: dict) -> list:
    """Literal strings and Fields in output order, adjacent literals merged."""
    parts: list = []

    def lit(text: str):
        if parts and isinstance(parts[-1], str):
            parts[-1] += text
        else:
            parts.append(text)

    def walk(s: dict):
        kind = s.get("type")
        if kind == "object" and s.get("properties"):
            lit("{")
            for i, (key, sub) in enumerate(s["properties"].items()):
                lit((", " if i else "") + json.dumps(key) + ": ")
                walk(sub)
            lit("}")
        elif isinstance(s.get("const"), str):  # written for the model, e.g. the inspiration a reply must use
            lit(json.dumps(s["const"]))
        elif kind == "string" and not ({"enum", "const", "pattern", "format"} & s.keys()):
            lit('"')
            parts.append(Field(max(1, s.get("minLength", 1)), s.get("maxLength")))
            lit('"')
        elif kind == "array" and s.get("minItems") and s.get("maxItems", s["minItems"]) == s["minItems"]:
            lit("[")
            for i in range(s["minItems"]):
                lit(", " if i else "")
                walk(s.get("items", {}))
            lit("]")
        else:
            raise Unsupported(f"constrained decoding does not handle {json.dumps(s)[:80]}")

    walk(schema)
    for i, part in enumerate(parts):
        if isinstance(part, Field):
            part.follows = parts[i + 1]
    return parts


class TokenTable:
    """What every token of a vocabulary may do inside a JSON string, computed once per tokenizer."""

    def __init__(self, tok, size: int):
        import torch

        n = min(size, len(tok))
        texts = tok.batch_decode([[i] for i in range(n)], skip_special_tokens=False,
                                 clean_up_tokenization_spaces=False) + [""] * (size - n)
        special = set(tok.all_special_ids)
        self.texts = texts
        self.clean = torch.tensor([bool(t) and i not in special and _plain(t) for i, t in enumerate(texts)])
        self.length = torch.tensor([len(t) for t in texts])
        # tokens holding a quote whose text before it may end a string: the candidates to close one
        self.quoted = [(i, t[:t.index('"')], t[t.index('"'):]) for i, t in enumerate(texts)
                       if i not in special and '"' in t and _plain(t[:t.index('"')])]

    def closers(self, follows: str, room: int | None) -> dict[int, tuple[str, str]]:
        """Tokens that end the string and begin `follows`: id -> (text before the quote, rest)."""
        return {i: (before, after) for i, before, after in self.quoted
                if follows.startswith(after) and (room is None or len(before) <= room)}


def _plain(text: str) -> bool:
    return '"' not in text and "\\" not in text and all(ord(c) >= 32 and c != "\x7f" for c in text)


_TABLES: dict[tuple[int, int], tuple[object, TokenTable]] = {}


def token_table(tok, size: int) -> TokenTable:
    key = (id(tok), size)
    if key not in _TABLES or _TABLES[key][0] is not tok:  # the tokenizer is kept so its id stays its own
        _TABLES[key] = (tok, TokenTable(tok, size))
    return _TABLES[key][1]


def json_object(engine, messages: list[dict], schema: dict, max_new_tokens: int = 256, temperature: float = 0.0,
                top_p: float = 1.0, seed: int | None = None, timeout_s: float | None = 60) -> dict:
    """A schema-valid object: constrained decoding on an engine with a step model, else the
    engine's own chat_json (the stub and test stand-ins have no step model; neither do schemas
    with parts constrained decoding does not handle)."""
    sampling = dict(temperature=temperature, top_p=top_p, seed=seed, timeout_s=timeout_s)
    try:
        parts = compile_schema(schema)
    except Unsupported:
        parts = None
    if parts is None or not hasattr(engine, "steps"):
        return engine.chat_json(messages, schema=schema, max_new_tokens=max_new_tokens, **sampling)
    return constrained(engine, engine.prompt_ids(messages), parts, schema, max_new_tokens, **sampling)


def json_objects(engine, messages: list[dict], schemas: list[dict], max_new_tokens: int = 256,
                 temperature: float = 0.0, top_p: float = 1.0, seeds: list[int] | None = None,
                 timeout_s: float | None = 60) -> list[dict | None]:
    """One reply per schema to the same prompt, each as json_object would write it with its
    seed; None where a reply failed or the timeout cut it. On an engine whose step model decodes
    sequences together (`steps.batch`), the replies share one prefill and one forward per
    token; elsewhere they are written one after another within the same timeout."""
    seeds = seeds if seeds is not None else [None] * len(schemas)
    deadline = time.monotonic() + timeout_s if timeout_s else float("inf")
    try:
        parts = [compile_schema(s) for s in schemas]
    except Unsupported:
        parts = None
    if parts is None or not decodes_together(engine):
        return [_one_of_many(engine, messages, schema, max_new_tokens, temperature, top_p, seed, deadline)
                for schema, seed in zip(schemas, seeds)]
    from .decoding import GenerationError, Sampling

    ids = engine.prompt_ids(messages)
    try:
        seqs = [_Sequence(engine, p, Sampling(temperature, top_p, seed), _budget(engine, ids, p, max_new_tokens))
                for p, seed in zip(parts, seeds)]
    except GenerationError:  # the prompt leaves no room for a reply: each fails as json_object's would
        return [None] * len(schemas)
    with engine.lock:
        _drive_batch(engine, ids, seqs, deadline)
    return [seq.result(schema) for seq, schema in zip(seqs, schemas)]


def decodes_together(engine) -> bool:
    """Whether the engine's step model decodes several sequences in one forward (Int8Steps)."""
    return hasattr(getattr(engine, "steps", None), "batch")


def _one_of_many(engine, messages, schema, max_new_tokens, temperature, top_p, seed, deadline) -> dict | None:
    from .decoding import GenerationError

    left = deadline - time.monotonic()
    if left <= 0:
        return None
    try:
        return json_object(engine, messages, schema, max_new_tokens, temperature, top_p, seed,
                           None if left == float("inf") else left)
    except GenerationError:  # GenerationTimeout included
        return None


def _budget(engine, ids: list[int], parts: list, max_new_tokens: int) -> int:
    """Tokens the values may take: the request's, within what the context leaves."""
    from .decoding import GenerationError

    n_fields = sum(isinstance(p, Field) for p in parts)
    forced = sum(len(engine.tok(p, add_special_tokens=False).input_ids) for p in parts if isinstance(p, str))
    left = min(max_new_tokens, engine.steps.max_seq - len(ids) - forced)
    if left < n_fields:
        raise GenerationError(f"prompt of {len(ids)} tokens leaves no room for the reply in the "
                              f"{engine.steps.max_seq}-token context")
    return left


def constrained(engine, ids: list[int], parts: list, schema: dict, max_new_tokens: int, temperature: float,
                top_p: float, seed: int | None, timeout_s: float | None) -> dict:
    """Decodes `parts` (compile_schema) after the prompt `ids`; the object, or GenerationError."""
    from .decoding import GenerationError, GenerationTimeout, Sampling

    seq = _Sequence(engine, parts, Sampling(temperature, top_p, seed), _budget(engine, ids, parts, max_new_tokens))
    deadline = time.monotonic() + timeout_s if timeout_s else float("inf")
    with engine.lock:
        run = seq.run()
        logits = engine.steps.prefill(list(ids) + next(run))  # the prompt and the first literal at once
        try:
            while True:
                tokens = run.send(logits)
                if time.monotonic() > deadline:
                    raise GenerationTimeout(f"{engine.name}: constrained generation passed its timeout_s",
                                            partial=seq.out)
                logits = _feed(engine.steps, tokens, logits)
        except StopIteration:
            pass
    errors = seq.errors(schema)
    if errors:  # only minLength can fail: the token budget ran out before a value was written
        raise GenerationError("constrained reply does not match the schema: " + "; ".join(errors[:3]))
    return seq.value


def _fit(value: str, max_length: int | None) -> str:
    """The value without surrounding spaces, cut at a word boundary to fit max_length."""
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        cut = value[:max_length]
        value = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip()
    return value


def _feed(steps, tokens: list[int], logits):
    """The logits after `tokens`: a forced literal goes in blocks where the step model verifies
    them (each row as its own step computes it), else a step per token."""
    if not tokens:
        return logits
    if len(tokens) == 1 or not hasattr(steps, "verify"):
        for tid in tokens:
            logits = steps.step(tid)
        return logits
    for at in range(0, len(tokens), steps.max_block):
        logits = steps.verify(tokens[at:at + steps.max_block])[-1]
    return logits


def _drive_batch(engine, ids: list[int], seqs: list["_Sequence"], deadline: float) -> None:
    """Runs the sequences in lockstep over `engine.steps.batch`: the prompt, plus the tokens
    every sequence's first literal begins with, is prefilled once; then each forward carries
    the next tokens of every unfinished sequence. At the deadline the unfinished ones stop."""
    batch = engine.steps.batch(len(seqs))
    runs = [seq.run() for seq in seqs]
    first = [next(run) for run in runs]
    shared = 0
    while all(len(f) > shared for f in first) and len({f[shared] for f in first}) == 1:
        shared += 1
    logits = batch.prefill(list(ids) + first[0][:shared])
    pending = {b: f[shared:] for b, f in enumerate(first)}
    last = {b: logits for b in pending}
    while pending:
        if time.monotonic() > deadline:
            return
        last |= batch.feed(pending)
        for b in list(pending):
            try:
                pending[b] = runs[b].send(last[b])
            except StopIteration:
                seqs[b].done = True
                del pending[b]


class _Sequence:
    """One constrained reply as a coroutine: run() yields the tokens to feed next (forced
    literals, or the token just sampled) and is sent the logits that follow them. Tokens are
    fed lazily, when the next logits are needed, so nothing after the last sampled token is
    run. `out` holds the JSON written so far, which is what a timeout keeps."""

    def __init__(self, engine, parts: list, sampling, left: int):
        import torch

        self.engine, self.parts, self.sampling, self.left = engine, parts, sampling, left
        self.gen = torch.Generator().manual_seed(sampling.seed) if sampling.seed is not None else None
        self.out, self.done, self.table = "", False, None

    @property
    def value(self) -> dict:
        # the closing punctuation after the last value is written but never fed: nothing follows it
        return json.loads(self.out)

    def errors(self, schema: dict) -> list[str]:
        return [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(self.value)]

    def result(self, schema: dict) -> dict | None:
        return self.value if self.done and not self.errors(schema) else None

    def run(self):
        fields_left = sum(isinstance(p, Field) for p in self.parts)
        left, unfed, pending = self.left, self.parts[0], []
        for part in self.parts:
            if isinstance(part, str):
                self.out += part
                continue
            pending += self._tokens(unfed)
            value, unfed, pending, used = yield from self._string(part, max(1, left // fields_left), pending)
            left, fields_left = left - used, fields_left - 1
            self.out += _fit(value, part.max_length)
        self.done = True

    def _tokens(self, text: str) -> list[int]:
        return self.engine.tok(text, add_special_tokens=False).input_ids if text else []

    def _string(self, field: Field, cap: int, pending: list[int]):
        """Samples one string value of at most `cap` tokens; returns it, what is left to force of
        the literal after it (all of it, unless a closing token already began it), the tokens not
        fed yet and the tokens sampled."""
        ids, text, used, closers, close_ids = [], "", 0, None, None
        while used < cap:
            written = len(text.strip()) >= field.min_length
            room = None if field.max_length is None else field.max_length - len(text)
            if room is not None and room <= 0 and written:
                break
            logits = yield pending
            pending = []
            if self.table is None:
                self.table = token_table(self.engine.tok, logits.shape[-1])
            if closers is None:
                closers = self.table.closers(field.follows, field.max_length)
                close_ids = torch_long(sorted(closers))
            table = self.table
            allowed = table.clean.clone() if room is None else table.clean & (table.length <= room)
            if written:
                allowed[close_ids] = True
            if not bool(allowed.any()):
                break
            tid = self._sample(logits, allowed)
            used += 1
            pending = [tid]
            if tid in closers:
                before, after = closers[tid]
                return text + before, field.follows[len(after):], pending, used
            ids.append(tid)
            text = self.engine.tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return text, field.follows, pending, used

    def _sample(self, logits, allowed) -> int:
        from .decoding import next_token

        masked = logits.float().masked_fill(~allowed[:logits.shape[-1]], float("-inf"))
        return next_token(masked, self.sampling, self.gen)


def torch_long(values: list[int]):
    import torch

    return torch.tensor(values, dtype=torch.long)
