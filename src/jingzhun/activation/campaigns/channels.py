"""The connectors a project configures (``activation.channels`` in jingzhun.yaml), made ready to send."""

from __future__ import annotations

import os
from pathlib import Path

from jingzhun.activation.connectors import FileConnector, SmtpConnector, WebhookConnector
from jingzhun.activation.connectors.base import Connector
from jingzhun.config import ActivationSettings, ChannelSettings
from jingzhun.errors import ConfigError

__all__ = ["connectors_from_settings"]


def connectors_from_settings(settings: ActivationSettings, project_dir: str | os.PathLike,
                             channels=None) -> dict[str, Connector]:
    """channel -> connector for ``channels`` (default: all configured); a channel without a connector,
    or one missing what its kind needs, is a :class:`ConfigError` saying which key to set."""
    wanted = list(channels) if channels is not None else list(settings.channels)
    missing = [c for c in wanted if c not in settings.channels]
    if missing:
        raise ConfigError(f"no connector for channels {missing}: add them under activation.channels in "
                          "jingzhun.yaml (docs/campaigns.md shows smtp, webhook and file examples)")
    return {c: _connector(c, settings.channels[c], Path(project_dir)) for c in wanted}


def _need(channel: str, spec: ChannelSettings, *names: str) -> None:
    absent = [n for n in names if getattr(spec, n) in (None, "")]
    if absent:
        raise ConfigError(f"activation.channels.{channel} ({spec.connector}) needs {', '.join(absent)}")


def _env(channel: str, name: str | None) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(f"activation.channels.{channel}: environment variable {name} is not set")
    return value


def _connector(channel: str, spec: ChannelSettings, project_dir: Path) -> Connector:
    if spec.connector == "smtp":
        _need(channel, spec, "host", "port", "sender")
        return SmtpConnector(spec.host, int(spec.port), spec.sender, starttls=spec.starttls, username=spec.username,
                             password=_env(channel, spec.password_env))
    if spec.connector == "webhook":
        _need(channel, spec, "url", "secret_env")
        return WebhookConnector(spec.url, _env(channel, spec.secret_env), address_kind=spec.address_kind)
    _need(channel, spec, "folder", "vendor")
    folder = Path(spec.folder)
    folder = folder if folder.is_absolute() else project_dir / folder
    folder.mkdir(parents=True, exist_ok=True)
    return FileConnector(folder, spec.vendor, format=spec.format, address_kind=spec.address_kind)
