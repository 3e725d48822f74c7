"""A local HTTP server that replays recorded answers, so that the feeds' real HTTP client can be
tested (and benchmarked) without the internet: a threaded http.server on 127.0.0.1.

An answer is chosen by the request's path and query (order-insensitive). Each request to a route
takes the next of its answers and the last one repeats, so a fault can be replayed once and then
the good page (a 503 with Retry-After, a malformed page, a slow answer). Every request is logged
with its time. A request nobody recorded gets a 404 naming it. No Django here: the tests, the
benchmark and a person at a shell (`python -m webapp.feeds.replay FOLDER`) use the same server."""
from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering (a slow server; a worker killed meanwhile)

    @classmethod
    def file(cls, path: Path, **kwargs) -> Answer:
        types = {".xml": "text/xml; charset=utf-8", ".json": "application/json", ".html": "text/html"}
        headers = {"Content-Type": types.get(path.suffix, "application/octet-stream"), **kwargs.pop("headers", {})}
        return cls(body=path.read_bytes(), headers=headers, **kwargs)


def route_key(path: str, query: dict | str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else list(query.items())
    return f"{path}?{urlencode(sorted((k, str(v)) for k, v in pairs))}"


@dataclass
class Logged:
    at: float
    key: str
    status: int


class Replay:
    """with Replay() as server: server.add("/oai", {...}, [Answer(...)]); server.url ..."""

    def __init__(self):
        self.routes: dict[str, list[Answer]] = {}
        self.served: dict[str, int] = {}
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, path: str, query: dict, answers: list[Answer]) -> None:
        with self._lock:
            self.routes[route_key(path, query)] = list(answers)
            self.served.pop(route_key(path, query), None)

    def requests(self, path: str, query: dict) -> list[Logged]:
        key = route_key(path, query)
        return [entry for entry in self.log if entry.key == key]

    def answer(self, key: str) -> Answer:
        with self._lock:
            answers = self.routes.get(key)
            if not answers:
                return Answer(f"no recorded answer for {key}\n".encode(), status=404)
            n = self.served.get(key, 0)
            self.served[key] = n + 1
            return answers[min(n, len(answers) - 1)]

    def __enter__(self) -> Replay:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            parts = urlsplit(self.path)
            key = route_key(parts.path, parts.query)
            answer = replay.answer(key)
            replay.log.append(Logged(time.time(), key, answer.status))
            if answer.delay_s and replay._stopping.wait(answer.delay_s):
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args):  # the log list is the record; keep test output clean
            pass

    return Handler


def load(server: Replay, folder: Path) -> None:
    """Routes from FOLDER/routes.json: [{"path", "query", "answers": [{"file", "status", "headers",
    "delay_s"}]}], each file relative to the folder."""
    for route in json.loads((folder / "routes.json").read_text()):
        answers = [Answer.file(folder / a.pop("file"), **a) for a in route["answers"]]
        server.add(route["path"], route["query"], answers)


if __name__ == "__main__":
    with Replay() as replay:
        load(replay, Path(sys.argv[1]))
        print(f"replaying {len(replay.routes)} recorded answers on {replay.url} (Ctrl-C stops)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
