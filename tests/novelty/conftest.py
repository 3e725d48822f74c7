"""A small real ideation-space index (119 arXiv papers of seed_papers.txt, real all-MiniLM-L6-v2),
built once per session through the CLI, as a user would."""
import os

import pytest

from tests.conftest import shared_file

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    import torch

    from discovery.cli import main

    torch.set_num_threads(2)
    out = tmp_path_factory.mktemp("novelty") / "index"
    assert main(["index", "build", "--input", str(shared_file("seed_papers.txt")), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def store(seed_index):
    from discovery.standalone import Standalone

    return Standalone.open(seed_index)


def aspect_text(row: dict, aspect: str) -> str:
    return " ".join(s["text"] for s in row["segmentation"] if s["aspect"] == aspect)
