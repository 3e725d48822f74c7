"""discovery.settings: every variable typed, with its default, and a bad value named in the error."""
from pathlib import Path

import pytest

from discovery import settings
from inference.settings import SettingError


@pytest.mark.parametrize("raw, value", [("auto", None), ("", None), ("1", True), ("yes", True), ("ON", True),
                                        ("0", False), ("no", False), ("false", False)])
def test_it_reads_the_encoder_int8_switch_as_auto_or_a_boolean(monkeypatch, raw, value):
    monkeypatch.setenv("DISCOVERY_ENCODER_INT8", raw)
    assert settings.encoder_int8() is value


@pytest.mark.parametrize("name, read", [("DISCOVERY_ENCODER_INT8", settings.encoder_int8),
                                        ("DISCOVERY_ENCODER", settings.encoder_mode),
                                        ("DISCOVERY_KERNELS", settings.kernels_enabled)])
def test_it_names_the_variable_whose_value_it_cannot_use(monkeypatch, name, read):
    monkeypatch.setenv(name, "maybe")
    with pytest.raises(SettingError, match=f"{name}='maybe'"):
        read()


def test_it_falls_back_to_the_defaults(monkeypatch):
    for name in ("DISCOVERY_ENCODER", "DISCOVERY_ENCODER_INT8", "DISCOVERY_KERNELS", "SHARED_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert settings.encoder_mode() == "fast" and settings.encoder_int8() is None and settings.kernels_enabled()
    assert settings.shared_data_dir() == settings.PROJECT_ROOT.parent / "shared" / "data"


def test_it_expands_the_shared_data_folder(monkeypatch):
    monkeypatch.setenv("SHARED_DATA_DIR", "~/data")
    assert settings.shared_data_dir() == Path.home() / "data"


def test_the_rationale_budget_comes_from_its_setting(monkeypatch):
    from discovery import rationale

    monkeypatch.delenv("DISCOVERY_RATIONALE_S", raising=False)
    assert rationale.RationaleConfig().budget_s == 15.0
    monkeypatch.setenv("DISCOVERY_RATIONALE_S", "25")
    assert rationale.RationaleConfig().budget_s == 25.0
    monkeypatch.setenv("DISCOVERY_RATIONALE_S", "-3")
    with pytest.raises(SettingError, match="DISCOVERY_RATIONALE_S"):
        rationale.RationaleConfig()
