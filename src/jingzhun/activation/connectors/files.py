"""File export: the messages of a batch as a CSV or Excel file for a channel vendor to pick up.

Print-and-post houses, call centres and SMS vendors without an API take a file. One file is written
per batch deliver hands over (``batch_size`` messages at most), named
``<vendor>-<campaign>-<channel>-<UTC time>-<first delivery id>.<csv|xlsx>``, so files never overwrite
one another. The write is atomic: the file is written under a temporary name in the same folder,
flushed to disk, then renamed, so a vendor polling the folder never picks up half a file.

CSV is UTF-8 with a byte-order mark by default: Excel, which many vendors open the file with, reads
Chinese text correctly only then. Columns: delivery_id, campaign_id, profile_id, arm, channel,
scheduled_at, subject, text, and ``to`` when ``address_kind`` asks for the raw address (a phone
number for a call centre, say).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jingzhun.activation.connectors.base import FAILED, SENT, Message, Outcome, utc_now
from jingzhun.errors import ConfigError

__all__ = ["FileConnector", "EXPORT_COLUMNS"]

EXPORT_COLUMNS = ("delivery_id", "campaign_id", "profile_id", "arm", "channel", "scheduled_at", "subject", "text")
_FORMATS = ("csv", "xlsx")


@dataclass
class FileConnector:
    folder: str | os.PathLike
    vendor: str
    format: str = "csv"
    encoding: str = "utf-8-sig"
    address_kind: str | None = None

    def __post_init__(self) -> None:
        if self.format not in _FORMATS:
            raise ConfigError(f"file format must be one of {', '.join(_FORMATS)}, got {self.format!r}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.vendor):
            raise ConfigError(f"vendor {self.vendor!r} becomes part of file names: use letters, digits, _ . -")

    def send(self, messages: Sequence[Message]) -> list[Outcome]:
        if not messages:
            return []
        try:
            path = self.write(messages)
        except (OSError, ValueError) as exc:  # ValueError: text the chosen encoding cannot hold
            return [Outcome(m.delivery_id, FAILED, utc_now(), f"file export: {exc}") for m in messages]
        at = utc_now()
        return [Outcome(m.delivery_id, SENT, at, f"exported to {path.name}") for m in messages]

    def write(self, messages: Sequence[Message]) -> Path:
        """Write the batch's file atomically; returns its path."""
        folder = Path(self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        first = messages[0]
        stamp = utc_now().strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{self.vendor}-{_safe(first.campaign_id)}-{first.channel}-{stamp}-{first.delivery_id[:12]}.{self.format}"
        frame = self.frame(messages)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                if self.format == "csv":
                    out.write(frame.to_csv(index=False).encode(self.encoding))
                else:
                    frame.to_excel(out, index=False, sheet_name="messages", engine="openpyxl")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return folder / name

    def frame(self, messages: Sequence[Message]) -> pd.DataFrame:
        rows = [{
            "delivery_id": m.delivery_id, "campaign_id": m.campaign_id, "profile_id": m.profile_id, "arm": m.arm,
            "channel": m.channel,
            "scheduled_at": m.scheduled_at.isoformat() if m.scheduled_at else "",
            "subject": m.subject or "", "text": m.text or "",
            **({"to": m.to or ""} if self.address_kind else {}),
        } for m in messages]
        return pd.DataFrame(rows, columns=[*EXPORT_COLUMNS, *(["to"] if self.address_kind else [])])


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:40]
