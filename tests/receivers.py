"""A real HTTP receiver on 127.0.0.1 for webhook and chat tests: a threaded http.server that
records every POST (headers and raw body) and answers as the test scripts it (fail the first
n requests, answer slowly, redirect), then recovers."""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Script:
    fail_first: int = 0  # answer 500 to this many requests, then 200
    always: int = 0  # answer this status to every request (0: per fail_first)
    delay: float = 0.0  # seconds before answering
    redirect_to: str = ""  # answer 302 with this Location
    drip: float = 0.0  # seconds to spread the answer's header over, a byte at a time


@dataclass
class Receiver:
    server: http.server.ThreadingHTTPServer
    script: Script = field(default_factory=Script)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[Received]:
        """The requests answered 2xx."""
        with self.lock:
            return [r for r in self.received if 200 <= r.answered < 300]


def start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            receiver = holder["r"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            script = receiver.script
            with receiver.lock:
                count = len(receiver.received)
            if script.delay:
                time.sleep(script.delay)
            if script.redirect_to:
                status = 302
            elif script.always:
                status = script.always
            else:
                status = 500 if count < script.fail_first else 200
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers), body, status))
            try:
                if script.drip:  # a receiver that answers, but never quite finishes
                    line = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"." * 40
                    for byte in line:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(script.drip / len(line))
                    return
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", script.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["r"] = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder["r"]
