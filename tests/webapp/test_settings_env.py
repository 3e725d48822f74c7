import pytest
from django.core.exceptions import ImproperlyConfigured

from webapp import env


def test_it_reads_typed_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env.env_bool("X_BOOL") is True
    assert env.env_int("X_INT", 1) == 42
    assert env.env_list("X_LIST", []) == ["a", "b", "c"]


@pytest.mark.parametrize("name,value,reader", [
    ("DEBUG", "maybe", lambda: env.env_bool("DEBUG")),
    ("IMPORT_BATCH_SIZE", "many", lambda: env.env_int("IMPORT_BATCH_SIZE", 1)),
    ("DATABASE_URL", "mysql://x/y", lambda: env.env_url("DATABASE_URL", "", schemes=("sqlite", "postgres"))),
    ("LOG_LEVEL", "LOUD", lambda: env.env_choice("LOG_LEVEL", "INFO", choices=("INFO", "DEBUG"))),
])
def test_it_names_the_variable_on_a_wrong_value(monkeypatch, name, value, reader):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        reader()


def test_it_generates_and_keeps_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(tmp_path)
    assert len(first) >= 50 and env.secret_key(tmp_path) == first


def test_it_rejects_a_short_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env.secret_key(tmp_path)


def test_a_wrong_setting_stops_django_start_up(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "manage.py", "check"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr


def test_a_heartbeat_too_slow_for_the_stale_threshold_stops_start_up(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "manage.py", "check"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "JOB_HEARTBEAT_S": "60",
                                 "JOB_STALE_AFTER_S": "120"})
    assert result.returncode != 0 and "JOB_HEARTBEAT_S=60 must be at most a third" in result.stderr
