"""The web project's shape, read from the source (an AST walk, nothing imported): the web never
imports the worker (tasks are sent by name), no import cycles between its modules or between
its apps, and every job type has a capped number of attempts."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEBAPP = ROOT / "webapp"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    names = set()
    package = (module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]).split(".")
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def graph() -> dict[str, set[str]]:
    files = [p for p in WEBAPP.rglob("*.py") if "migrations" not in p.parts]
    modules = {module_name(p): p for p in files}
    return {name: {m for m in imported(path) if m in modules and m != name} for name, path in modules.items()}


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph (as a path), or [] when it has none (depth-first, three colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


def app_of(module: str) -> str:
    """webapp.<app> for a module inside an app package; the project modules (settings, http ...) as they are."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module


def test_no_module_of_webapp_imports_the_worker():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in imported(p) if m.split(".")[0] == "worker")
                 for p in WEBAPP.rglob("*.py")}
    assert not {k: v for k, v in offenders.items() if v}


def test_webapp_modules_import_each_other_without_cycles():
    assert cycle(graph()) == []


def test_the_web_apps_import_each_other_without_cycles():
    apps: dict[str, set[str]] = {}
    for module, targets in graph().items():
        apps.setdefault(app_of(module), set()).update(app_of(t) for t in targets if app_of(t) != app_of(module))
    assert cycle(apps) == []


def test_the_api_root_imports_the_apps_routers_and_no_app_imports_the_root():
    importers = {m for m, targets in graph().items() if "webapp.api.api" in targets}
    assert importers <= {"webapp.urls"}


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.django_db
def test_every_job_type_has_a_capped_number_of_attempts_and_a_task():
    from webapp.jobs.lifecycle import job_models

    models = {m._meta.label: m for m in job_models()}
    assert set(models) == {"imports.ImportJob", "reports.NoveltyReport", "ideas.IdeaRun", "feeds.Harvest", "maps.FieldMap"}
    for model in models.values():
        assert isinstance(model.max_attempts, int) and 0 < model.max_attempts <= 10, model
        assert model.task_name and model.progress_url_name, model


# Modules allowed to touch the environment: the typed readers, and the entry points that name the
# settings module (the launcher also starts the private Redis and passes the environment on).
# (the launcher and the fault script's worker processes pass the environment on to what they start)
ENV_READERS = {"webapp/env.py", "webapp/launcher.py", "webapp/wsgi.py", "worker/celery.py", "webapp/faults/workers.py",
               "webapp/feeds/bench.py"}


def test_settings_are_read_from_the_environment_only_in_the_settings_module():
    def reads_settings(path: Path) -> bool:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                return True
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "getattr" and node.args
                    and getattr(node.args[0], "id", "") == "settings"):
                return True  # getattr(settings, "X", default): a setting settings.py does not define
        return False

    files = [*WEBAPP.rglob("*.py"), *(ROOT / "worker").rglob("*.py")]
    readers = {str(p.relative_to(ROOT)) for p in files if reads_settings(p)}
    assert readers <= ENV_READERS
