"""A local SMTP server that keeps what it receives as .eml files: the demo's e-mails go somewhere real.

The demo sends its win-back e-mails through :class:`jingzhun.activation.SmtpConnector` to this server
on 127.0.0.1, exactly as it would to a shop's mail relay, and the messages land in a folder a person
can open in any mail program.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from aiosmtpd.controller import Controller

__all__ = ["LocalMailbox"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Keeper:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        head = envelope.original_content[:4000].decode("utf-8", "replace")
        found = re.search(r"^X-Jingzhun-Delivery:\s*(\S+)", head, re.MULTILINE)
        name = found.group(1) if found else f"message-{self.count:06d}"
        (self.folder / f"{name}.eml").write_bytes(envelope.original_content)
        return "250 Message accepted for delivery"


class LocalMailbox:
    """``with LocalMailbox(folder) as box:`` an SMTP server on ``box.port`` writing into ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self._keeper = _Keeper(self.folder)
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)

    @property
    def received(self) -> int:
        return self._keeper.count

    def __enter__(self) -> "LocalMailbox":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
