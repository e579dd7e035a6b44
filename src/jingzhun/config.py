"""Project configuration: the `jingzhun.yaml` file that `jingzhun init` writes.

A project is a folder holding its configuration, its secret (the key of the keyed hash that
pseudonymises identifiers) and, by default, its DuckDB warehouse::

    my-shop/
      jingzhun.yaml       settings below
      .jingzhun-secret    32 random bytes, hex; created once, never printed, never committed
      data/warehouse.duckdb

Paths in the file are relative to the project folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jingzhun.errors import ConfigError

__all__ = ["Settings", "IdentitySettings", "QualitySettings", "ProfileSettings", "CONFIG_FILE", "SECRET_FILE",
           "load_settings", "write_settings", "read_secret", "create_secret", "datasets_dir"]

CONFIG_FILE = "jingzhun.yaml"
SECRET_FILE = ".jingzhun-secret"


class IdentitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_profiles_per_identifier: int = Field(
        5,
        ge=2,
        description=(
            "An identifier seen with more distinct other identifiers of one kind than this (a shop's "
            "shared tablet, none@none.com, 00000000000) is treated as shared and merges nobody."
        ),
    )
    max_iterations: int = Field(64, ge=1, description="Upper bound on label-propagation rounds.")


class QualitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bot_events_per_minute: int = Field(
        30, ge=2, description="More events than this from one id within one minute flags them as abnormal."
    )
    bot_min_interval_seconds: float = Field(
        0.5, ge=0, description="Clicks closer together than this from one id (in a burst) look automated."
    )
    default_country_code: str = Field("86", description="Calling code assumed for phone numbers without one.")


class ProfileSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: str | None = Field(
        None,
        description=(
            "The moment features, tags and segments describe (ISO 8601). Unset: the end of the local day of "
            "the latest order or event loaded, so a historical data set is described as of its own end."
        ),
    )
    timezone: str | None = Field(
        None, description="IANA time zone of the customers' local hours and days; unset: the project's timezone."
    )


class ChannelSettings(BaseModel):
    """How one channel's messages leave: an SMTP server, a vendor's webhook, or files for a vendor.

    Secrets are never written here: ``password_env`` and ``secret_env`` name environment variables.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    connector: Literal["smtp", "webhook", "file"]
    host: str | None = Field(None, description="smtp: server host")
    port: int | None = Field(None, description="smtp: server port")
    sender: str | None = Field(None, description="smtp: the From address, e.g. 'Shop <news@shop.example>'")
    starttls: bool = Field(False, description="smtp: upgrade the connection with STARTTLS")
    username: str | None = Field(None, description="smtp: login name")
    password_env: str | None = Field(None, description="smtp: environment variable holding the password")
    url: str | None = Field(None, description="webhook: the vendor's endpoint")
    secret_env: str | None = Field(None, description="webhook: environment variable holding the signing secret")
    address_kind: str | None = Field(None, description="webhook/file: identifier kind the vendor needs (phone, ...)")
    folder: str | None = Field(None, description="file: folder the export files go to (relative to the project)")
    vendor: str | None = Field(None, description="file: vendor name, part of the file names")
    format: Literal["csv", "xlsx"] = "csv"


class ActivationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tracking_url: str = Field("http://localhost:8000", description="Base URL of the service that answers tracked "
                                                                    "links, the open pixel and unsubscribe links.")
    channels: dict[str, ChannelSettings] = Field(default_factory=dict, description="Connector per channel.")


class Settings(BaseModel):
    """Everything a project configures. Defaults are what a new project gets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "jingzhun"
    warehouse: str = Field("duckdb:///data/warehouse.duckdb", description="Warehouse URL (see docs/engines.md).")
    timezone: str = Field("UTC", description="Time zone of source timestamps that carry none.")
    currency: str = Field("GBP", description="Currency of amounts in sources that do not say.")
    identity: IdentitySettings = IdentitySettings()
    quality: QualitySettings = QualitySettings()
    profile: ProfileSettings = ProfileSettings()
    activation: ActivationSettings = ActivationSettings()


def load_settings(project_dir: str | os.PathLike) -> Settings:
    path = Path(project_dir) / CONFIG_FILE
    if not path.exists():
        raise ConfigError(f"{path} not found: run `jingzhun init {project_dir}` to create a project there")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Settings.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path} is not a valid jingzhun configuration: {exc}") from exc


def write_settings(project_dir: str | os.PathLike, settings: Settings) -> Path:
    path = Path(project_dir) / CONFIG_FILE
    path.write_text(yaml.safe_dump(settings.model_dump(), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def create_secret(project_dir: str | os.PathLike) -> Path:
    """Create the per-installation secret once; an existing secret is never replaced."""
    path = Path(project_dir) / SECRET_FILE
    if path.exists():
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def read_secret(project_dir: str | os.PathLike) -> str:
    path = Path(project_dir) / SECRET_FILE
    if not path.exists():
        raise ConfigError(
            f"{path} not found: the project has no pseudonymisation secret. If this is a new project run "
            "`jingzhun init`; if the secret was lost, identifiers loaded before cannot be matched again"
        )
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < 32:
        raise ConfigError(f"{path} is too short to be a jingzhun secret")
    return value


def datasets_dir() -> Path:
    """Where the shared real data sets live: $JINGZHUN_DATASETS, else ../shared/datasets from the repo."""
    env = os.environ.get("JINGZHUN_DATASETS")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets").resolve()
