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
    return ("Reply with one JSON object and nothing else. It must match this JSON Schema:\n"
            + json.dumps(schema, separators=(",", ":")))


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
    """Ask `chat` for JSON matching schema; dict on success, error_cls with the last problem otherwise."""
    validator = jsonschema_rs.validator_for(schema)
    convo = [{"role": "system", "content": schema_prompt(schema)}] + [m for m in messages if m["role"] != "system"]
    if messages and messages[0]["role"] == "system":
        convo[0]["content"] = messages[0]["content"] + "\n\n" + convo[0]["content"]
    problem = ""
    for _ in range(retries + 1):
        reply = chat(convo, max_new_tokens=max_new_tokens, **sampling)
        try:
            obj = extract_json(reply)
        except ValueError as exc:
            problem = f"not JSON ({exc})"
        else:
            errors = [e.message for e in validator.iter_errors(obj)]
            if not errors:
                return obj
            problem = "does not match the schema: " + "; ".join(errors[:3])
        convo = convo + [{"role": "assistant", "content": reply},
                         {"role": "user", "content": f"That reply is {problem}. Reply again with only the JSON object."}]
    raise error_cls(f"no schema-valid JSON after {retries + 1} attempts; last reply {problem}")


def minimal_instance(schema: dict, seed: str = ""):
    """A deterministic value valid against simple schemas (type, properties, required, items,
    enum, const, min/max bounds); strings are derived from seed so different prompts differ."""
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
        return {k: minimal_instance(props.get(k, {}), f"{seed}/{k}") for k in props}
    if kind == "array":
        n = schema.get("minItems", 1)
        return [minimal_instance(schema.get("items", {}), f"{seed}/{i}") for i in range(n)]
    if kind in ("integer", "number"):
        lo = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        return int(lo) if kind == "integer" else float(lo)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = "stub-" + hashlib.sha256(seed.encode()).hexdigest()[:8]
    lo, hi = schema.get("minLength", 0), schema.get("maxLength", len(text))
    return (text * (lo // len(text) + 1))[:max(lo, min(hi, len(text)))]
