"""A jingzhun project: a folder with its settings, its secret and its warehouse.

    project = Project.init("my-shop")      # once: writes jingzhun.yaml, the secret, the warehouse
    project = Project.open("my-shop")      # later: everything the CLI and notebooks need
    orders = project.warehouse.table("orders")
"""

from __future__ import annotations

import logging
import os
from functools import cached_property
from pathlib import Path

from jingzhun.config import (
    CONFIG_FILE,
    SECRET_FILE,
    Settings,
    create_secret,
    load_settings,
    read_secret,
    write_settings,
)
from jingzhun.errors import ConfigError
from jingzhun.warehouse import Warehouse, open_warehouse

__all__ = ["Project"]

log = logging.getLogger(__name__)

_GITIGNORE = f"""# made by jingzhun init: the secret and the data never belong in version control
{SECRET_FILE}
data/
"""


class Project:
    """A project folder. Open one with :meth:`open`, create one with :meth:`init`."""

    def __init__(self, root: str | os.PathLike, settings: Settings) -> None:
        self.root = Path(root).resolve()
        self.settings = settings

    @classmethod
    def init(cls, root: str | os.PathLike, settings: Settings | None = None) -> "Project":
        """Create a project (or complete a half-made one); an existing configuration and secret are kept."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ConfigError(f"{root} exists and is not a folder: choose another place for the project")
        root.mkdir(parents=True, exist_ok=True)
        if (root / CONFIG_FILE).exists():
            settings = load_settings(root)
            log.info("%s already holds a project; keeping its settings", root)
        else:
            settings = settings or Settings(name=root.resolve().name)
            write_settings(root, settings)
        create_secret(root)
        (root / "data").mkdir(exist_ok=True)
        ignore = root / ".gitignore"
        if not ignore.exists():
            ignore.write_text(_GITIGNORE, encoding="utf-8")
        project = cls(root, settings)
        project.warehouse.ensure_schema()
        return project

    @classmethod
    def open(cls, root: str | os.PathLike = ".") -> "Project":
        return cls(root, load_settings(root))

    @cached_property
    def secret(self) -> str:
        return read_secret(self.root)

    @cached_property
    def warehouse(self) -> Warehouse:
        return open_warehouse(self.settings.warehouse, base_dir=self.root)

    def close(self) -> None:
        if "warehouse" in self.__dict__:
            self.warehouse.close()
            del self.__dict__["warehouse"]

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r}, warehouse={self.settings.warehouse!r})"
