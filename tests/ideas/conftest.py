"""A small real ideation-space index (119 arXiv papers of seed_papers.txt, real all-MiniLM-L6-v2),
built once per session with the standalone builder; and LLM stand-ins behind the engine interface."""
import os

import pytest

from tests.conftest import shared_file

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    import torch

    from discovery import standalone

    torch.set_num_threads(2)
    out = tmp_path_factory.mktemp("ideas") / "index"
    standalone.build(shared_file("seed_papers.txt"), out)
    return out


@pytest.fixture(scope="session")
def store(seed_index):
    from discovery.standalone import Standalone

    return Standalone.open(seed_index)


def aspect_text(row: dict, aspect: str) -> str:
    return " ".join(s["text"] for s in row["segmentation"] if s["aspect"] == aspect)


class ScriptedEngine:
    """Answers chat() from a list of replies in turn (the last one repeats); records prompts."""
    name = "scripted"

    def __init__(self, replies: list[str]):
        self.replies, self.prompts = list(replies), []

    def chat(self, messages, **kw) -> str:
        self.prompts.append(messages[-1]["content"])
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def chat_json(self, messages, schema, **kw) -> dict:
        from inference import GenerationError

        raise GenerationError("scripted engine writes no JSON")
