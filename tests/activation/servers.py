"""Real servers for the connector tests: an SMTP server (aiosmtpd) and an HTTP receiver (http.server),
each on a free localhost port in a background thread."""

from __future__ import annotations

import json
import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from jingzhun.activation.connectors.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every message it accepts; refuses the recipients in ``refuse``."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.refuse = refuse
        self.received: list[tuple[str, list[str], object]] = []  # (mail from, rcpt tos, parsed message)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.mailbox = Mailbox(refuse)
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class Receiver:
    """A webhook receiver that behaves like a careful real one.

    It checks the signature, and processes each Idempotency-Key once: a second request with a key it
    has processed is answered 200 without being processed again. ``fail_first`` answers 500 to the
    first attempt of every key; ``slow_first`` processes the first attempt but answers only after
    ``delay`` seconds (the sender has timed out by then); ``status`` answers that status to everything.
    """

    def __init__(self, secret: str, *, fail_first: bool = False, slow_first: bool = False, delay: float = 0.0,
                 status: int | None = None) -> None:
        self.secret = secret
        self.fail_first, self.slow_first, self.delay, self.status = fail_first, slow_first, delay, status
        self.attempts: dict[str, int] = {}
        self.processed: list[dict] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.handle(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/messages"

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        key = request.headers["Idempotency-Key"]
        if not verify_signature(body, request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER], self.secret):
            with self.lock:
                self.bad_signatures += 1
            return self.answer(request, 401, b"bad signature")
        with self.lock:
            self.attempts[key] = attempt = self.attempts.get(key, 0) + 1
            seen = any(p["delivery_id"] == key for p in self.processed)
        if self.status is not None:
            return self.answer(request, self.status, b"rejected: unknown template")
        if self.fail_first and attempt == 1:
            return self.answer(request, 500, b"try again")
        if not seen:
            with self.lock:
                self.processed.append(json.loads(body))
        if self.slow_first and attempt == 1:
            time.sleep(self.delay)
        return self.answer(request, 200, b'{"ok":true}')

    @staticmethod
    def answer(request, status: int, body: bytes) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except OSError:  # the sender gave up waiting
            pass

    def __enter__(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
