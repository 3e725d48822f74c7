"""JSON output that matches a JSON Schema: ask, extract, repair, validate, retry, then fail clearly.

A 135M model often wraps JSON in prose or code fences, leaves a trailing comma or stops before the
closing brace. We repair those mechanically; a schema violation is sent back to the model with the
validator's message, `retries` times, before giving up with GenerationError.
"""
import hashlib
import json
import re

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
