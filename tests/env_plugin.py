"""Test-session environment, set before Django reads its settings: a pytest plugin loaded with
`-p tests.env_plugin` (pyproject's addopts), because pytest-django sets Django up before any
conftest.py is imported.

Tests run against the real services: PostgreSQL when DATABASE_URL is set (CI), SQLite
otherwise; Redis at REDIS_URL, or a private redis-server started here when it is unset.

What a run writes goes into one folder of its own in the temp folder, removed when the run
ends: DATA_DIR (the SQLite test database, uploads, the site's index), the temp folder of the run
and of its child processes (TMPDIR: pytest's tmp_path, the browser's profile) and the private
Redis's folder. What is the same for every run (compiled kernels, quantized LLM weights, the seed
index) stays in the persistent cache, CACHE_DIR (inference.settings.cache_root), so only the
first run on a machine builds it. `--basetemp DIR` keeps the tests' tmp_path folders for a look.
"""
import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


def _stale_runs_remove() -> None:
    """The folders of earlier runs killed before their exit handler ran (kill -9, an OOM kill)."""
    for folder in Path(tempfile.gettempdir()).glob("ideation-test-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


_stale_runs_remove()
RUN_DIR = Path(tempfile.mkdtemp(prefix=f"ideation-test-{os.getpid()}-"))
(RUN_DIR / "tmp").mkdir()
os.environ["TMPDIR"] = tempfile.tempdir = str(RUN_DIR / "tmp")
if not os.environ.get("DATA_DIR"):
    os.environ["DATA_DIR"] = str(RUN_DIR / "data")
    (RUN_DIR / "data").mkdir()
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LLM_BACKEND", "stub")
# Worker threads in integration tests must not keep connections that block test-db teardown.
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
_processes: list[subprocess.Popen] = []


def _run_end() -> None:
    for proc in _processes:
        proc.terminate()
        proc.wait(timeout=10)
    shutil.rmtree(RUN_DIR, ignore_errors=True)


atexit.register(_run_end)
# `timeout` and CI runners stop a run with SIGTERM, which by default ends Python without its exit
# handlers: as an interrupt, pytest tears the run down and _run_end still removes its folder.
if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def _private_redis() -> str:
    from webapp.launcher import free_port, redis_binary

    port = free_port()
    folder = RUN_DIR / "redis"
    folder.mkdir()
    _processes.append(subprocess.Popen([redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
                                        "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL))
    time.sleep(0.3)
    return f"redis://127.0.0.1:{port}/0"


if not os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _private_redis()
