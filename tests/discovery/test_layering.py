"""The packages' layering, read from the source with ast (no module is imported): the discovery
and inference libraries import none of their scripts (cli/, train/, bench/, __main__) and nothing
of the web app, and no two modules import each other, directly or round a longer loop."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("discovery", "inference")
SCRIPTS = ("discovery.cli", "discovery.train", "discovery.bench", "inference.bench")
WEB = ("django", "webapp", "worker")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def is_script(name: str) -> bool:
    return within(name, SCRIPTS) or name.endswith("__main__")


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `name` imports, at its top or inside a function; `from a import b` counts as
    a.b where that is a module, else as a."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return out


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imported(name, path, known) if m in known and m != name}
            for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_it_keeps_the_libraries_free_of_their_scripts_and_of_the_web_app():
    known = modules()
    wrong = {name: sorted(m for m in imported(name, path, known) if is_script(m) or within(m, WEB))
             for name, path in known.items() if not is_script(name)}
    assert {name: bad for name, bad in wrong.items() if bad} == {}


def test_it_finds_no_import_cycle_among_discovery_and_inference():
    assert cycles(import_graph()) == []


def test_it_would_report_a_cycle_and_a_library_importing_a_script():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert is_script("discovery.train.segmenter") and is_script("inference.__main__")
    assert not is_script("discovery.training") and within("django.db", WEB)
