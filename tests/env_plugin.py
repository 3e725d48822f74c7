"""Test-session environment, set before Django reads its settings: a pytest plugin loaded with
`-p tests.env_plugin` (pyproject's addopts), because pytest-django sets Django up before any
conftest.py is imported.

Tests run against the real services: PostgreSQL when DATABASE_URL is set (CI), SQLite
otherwise; Redis at REDIS_URL, or a private redis-server started here when it is unset."""
import atexit
import os
import subprocess
import tempfile
import time

if not os.environ.get("DATA_DIR"):
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="ideation-test-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LLM_BACKEND", "stub")
# Worker threads in integration tests must not keep connections that block test-db teardown.
os.environ.setdefault("DB_CONN_MAX_AGE", "0")


def _private_redis() -> str:
    from webapp.launcher import free_port, redis_binary

    port = free_port()
    proc = subprocess.Popen([redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    atexit.register(proc.terminate)
    time.sleep(0.3)
    return f"redis://127.0.0.1:{port}/0"


if not os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _private_redis()
