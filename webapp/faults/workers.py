"""Real processes for the fault script and the integration tests: Celery workers and beat started
with the database, broker and folders of the calling process, killed with SIGKILL (the whole
worker, or only its pool process) as a machine loss or the OOM killer would; a private Redis
server that can be killed and restarted on its port; the fault script's own environment (a temp
folder, SQLite, that Redis), set before Django reads its settings."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def environment_prepare(folder: Path, redis_url: str, **env: str) -> None:
    """The fault script's environment, before Django starts: everything in `folder` (SQLite
    database, uploads, indexes), the private Redis, search rate limits off, and what `env` adds."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    os.environ.update({"DATA_DIR": str(folder / "data"), "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                       "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "webapp.settings",
                       "RATE_LIMIT_SEARCH_PER_MIN": "0", "HF_HUB_OFFLINE": "1", "DB_CONN_MAX_AGE": "0", **env})


def database_url() -> str:
    """The URL of the database this process uses now (the test database inside pytest)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """`celery -A worker worker` in a process group of its own, its log in `log_path`."""
    ready_text = b" ready."

    def __init__(self, name: str, log_dir: Path, queues: str = "index", concurrency: int = 1, **env: str):
        from django.conf import settings

        self.name, self.queues, self.concurrency = name, queues, concurrency
        self.log_path = Path(log_dir) / f"worker-{name}.log"
        self.env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
                    "DATA_DIR": str(settings.DATA_DIR), "INDEX_DIR": str(settings.INDEX_DIR),
                    "DB_CONN_MAX_AGE": "0", **{k: str(v) for k, v in env.items()}}
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def command(self) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", self.queues, "-n",
                f"{self.name}@%h", "--concurrency", str(self.concurrency), "--pool", "prefork",
                "--loglevel", "INFO", "--without-gossip", "--without-mingle"]

    def start(self) -> WorkerProcess:
        cmd = self.command()
        log = open(self.log_path, "ab")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        return self

    def wait_ready(self, timeout: float = 90) -> float:
        """Seconds from start until the worker said it is ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited ({self.proc.returncode}); see {self.log_path}")
            if self.ready_text in self.log_path.read_bytes():
                return time.monotonic() - self.started_at
            time.sleep(0.2)
        raise TimeoutError(f"worker {self.name} not ready in {timeout}s; see {self.log_path}")

    def children(self) -> list[int]:
        return [c.pid for c in psutil.Process(self.proc.pid).children()]

    def kill(self) -> None:
        """SIGKILL the whole worker: its main process and its pool, nothing runs a handler."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def kill_pool_process(self) -> int:
        """SIGKILL one pool process only (the OOM killer's way); the main process lives on."""
        pid = self.children()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class BeatProcess(WorkerProcess):
    """`celery -A worker beat`, its schedule file beside its log."""
    ready_text = b"beat: Starting"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel", "INFO",
                "--schedule", str(self.log_path.with_suffix(".schedule"))]


class RedisServer:
    """A private redis-server on 127.0.0.1 without persistence (a restart loses what it held, the
    worst case for queued jobs), killed and restarted on the same port."""

    def __init__(self, folder: Path):
        from webapp.launcher import free_port

        self.folder, self.port = Path(folder), free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        from webapp.launcher import redis_binary

        self.proc = subprocess.Popen([redis_binary(), "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                                      str(self.folder), "--save", "", "--appendonly", "no", "--loglevel", "warning"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
