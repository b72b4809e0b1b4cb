"""A real webhook receiver on 127.0.0.1 for tests: an http.server in a thread that verifies
every request with the reference Standard Webhooks library and answers as told."""

import http.server
import threading
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict
    body: bytes
    status: int  # what the receiver answered
    verified: bool
    error: str = ""

    @property
    def webhook_id(self):
        return self.headers.get("webhook-id")


@dataclass
class Receiver:
    """`answer(n)` gives the status for the n-th request (0-based); default: always 200."""

    answer: object = None
    secret: str | None = None
    retry_after: str | None = None  # sent as Retry-After with every 429 and 503
    port: int = 0
    requests: list = field(default_factory=list)
    _server: object = None
    _thread: object = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified, error = False, ""
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError as exc:
                        error = str(exc)
                n = len(receiver.requests)
                status = receiver.answer(n) if receiver.answer else 200
                receiver.requests.append(Received(headers, body, status, verified, error))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                if receiver.retry_after and status in (429, 503):
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # a followed redirect would land here
                receiver.requests.append(Received({}, b"", 200, False, "GET"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening: connections to the port are then refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def by_id(self):
        grouped = {}
        for request in self.requests:
            grouped.setdefault(request.webhook_id, []).append(request)
        return grouped
