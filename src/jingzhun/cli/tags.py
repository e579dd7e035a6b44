"""`jingzhun tags list|show|build`: the tag catalogue with coverage, one tag in full, and the tag build.

The library is the built-in tags plus the project's own files in `<project>/tags/*.yaml`, checked
against the project's warehouse each time (so a typo in a tag file shows up in any tags command).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from jingzhun.cli.output import (
    JsonOpt as _JsonOpt, ProjectOpt as _ProjectOpt, with_project as _with_project, console, print_json,
)
from jingzhun.errors import JingzhunError

app = typer.Typer(help="Tags: labels per person (basic, interests, social, consumption, predictions).",
                  no_args_is_help=True)

_LangOpt = typer.Option("en", "--lang", help="Language of labels and reasons: en or zh.")



def _library(proj):
    from jingzhun.profile.tags import load_library
    from jingzhun.segment import Catalog

    return load_library(project_dir=proj.root, catalog=Catalog.from_warehouse(proj.warehouse))


def _check_lang(lang: str) -> str:
    if lang not in ("en", "zh"):
        raise typer.BadParameter("--lang is en or zh")
    return lang


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _values(info) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in info.values.items())


@app.command("list")
def list_tags(
    family: Optional[str] = typer.Option(None, "--family", "-f",
                                         help="Only this family: basic, interests, social, consumption, predictions."),
    lang: str = _LangOpt,
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """The tag catalogue: every tag with its family, kind and coverage in the latest tag build."""
    from jingzhun.profile.tags import FAMILY_LABELS, catalogue

    lang = _check_lang(lang)

    def work(proj):
        infos = catalogue(proj.warehouse, _library(proj), family=family)
        if json_out:
            print_json([i.to_dict() for i in infos])
            return
        built = next((i.built_as_of for i in infos if i.built_as_of), None)
        t = Table(title=f"tags ({len(infos)})" + (f", built as of {built}" if built else ", not built yet"))
        for col in ("tag", "label", "profiles", "share", "values / status"):
            t.add_column(col, justify="right" if col in ("profiles", "share") else "left", overflow="fold")
        shown = None
        for i in infos:
            d = i.definition
            if d.family != shown:
                if shown is not None:
                    t.add_section()
                t.add_row(f"[bold]{FAMILY_LABELS[d.family][lang]}[/]")
                shown = d.family
            status = f"inactive: {i.inactive}" if i.inactive else _values(i)
            t.add_row(d.name, escape(d.label.get(lang)), f"{i.profiles:,}", _share(i.share), escape(status))
        console.print(t)

    _with_project(project, work)


def _show_panel(info: dict, history, lang: str) -> Panel:
    facts = Table(show_header=False, show_edge=False)
    facts.add_column("field")
    facts.add_column("value", overflow="fold")
    facts.add_row("label", escape(f"{info['label']['zh']} / {info['label']['en']}"))
    facts.add_row("family", f"{info['family']} ({info['family_label'][lang]})")
    facts.add_row("description", escape(info["description"][lang]))
    facts.add_row("kind", info["kind"])
    facts.add_row("file", info["file"] + (" (built-in)" if info["builtin"] else ""))
    if info["dependencies"]:
        facts.add_row("uses tags", ", ".join(info["dependencies"]))
    status = f"inactive: {info['inactive_reason']}" if info["inactive_reason"] else "active"
    facts.add_row("status", escape(status))
    facts.add_row("profiles", f"{info['profiles']:,} ({_share(info['share'])})"
                  + (f" as of {info['built_as_of']}" if info["built_as_of"] else ", not built yet"))
    if info["cuts"] is not None:
        facts.add_row("cut-offs", ", ".join(f"{c:g}" for c in info["cuts"]))
    definition = yaml.safe_dump(info["definition"], allow_unicode=True, sort_keys=False, default_flow_style=None,
                                width=1000).rstrip()
    parts = [facts, Panel(Text(definition), title="definition (YAML)", expand=False)]
    if info["values"]:
        values = Table(title="values", show_edge=False)
        values.add_column("value")
        values.add_column("profiles", justify="right")
        for k, v in info["values"].items():
            values.add_row(escape(k), f"{v:,}")
        parts.append(values)
    changes = Table(title="history: changes per build", show_edge=False)
    for col in ("as_of", "gained", "lost", "changed"):
        changes.add_column(col, justify="left" if col == "as_of" else "right")
    for row in history:
        changes.add_row(str(row["as_of"]), f"{row['gained']:,}", f"{row['lost']:,}", f"{row['changed']:,}")
    parts.append(changes if history else "no history yet: run `jingzhun tags build`")
    return Panel(Group(*parts), title=escape(f"tag {info['name']}: {info['label'][lang]}"))


@app.command("show")
def show(
    name: str = typer.Argument(..., help="The tag's name (see `jingzhun tags list`)."),
    builds: int = typer.Option(10, "--builds", help="How many recent builds of history to show."),
    lang: str = _LangOpt,
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """One tag: its definition, coverage, values and cut-offs, and how many gained or lost it per build."""
    from jingzhun.profile.tags import catalogue, tag_changes

    lang = _check_lang(lang)

    def work(proj):
        library = _library(proj)
        library.entry(name)  # an unknown name fails here, with close names
        info = next(i for i in catalogue(proj.warehouse, library) if i.name == name).to_dict()
        changes = tag_changes(proj.warehouse, name, limit=builds)
        history = [{"as_of": str(r.as_of), "gained": int(r.gained), "lost": int(r.lost), "changed": int(r.changed)}
                   for r in changes.itertuples(index=False)]
        if json_out:
            print_json({**info, "history": history})
        else:
            console.print(_show_panel(info, history, lang))

    _with_project(project, work)


@app.command("build")
def build(
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="The moment the tags describe (ISO 8601); default: the moment the features describe."),
    lang: str = _LangOpt,
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """Compute every tag, replace the `tags` table and record gains, losses and changes in `tag_history`."""
    from jingzhun.profile.tags import build_tags, features_built_as_of

    lang = _check_lang(lang)

    def work(proj):
        wh = proj.warehouse
        when = as_of or features_built_as_of(wh)
        if when is None:
            raise JingzhunError("no profile features yet: run `jingzhun build` first, then `jingzhun tags build`")
        result = build_tags(wh, as_of=when, library=_library(proj), language=lang)
        if json_out:
            print_json(result.to_dict())
            return
        t = Table(title=f"tags built as of {result.as_of}", show_header=False)
        t.add_column("what")
        t.add_column("value", overflow="fold")
        t.add_row("tags", f"{result.active} active of {result.tags}")
        t.add_row("rows", f"{result.rows:,} (profiles tagged: {result.profiles_tagged:,})")
        since = f" since {result.previous_as_of}" if result.previous_as_of else " (first build)"
        t.add_row("changes" + since, f"gained {result.gained:,}, lost {result.lost:,}, changed {result.changed:,}")
        for tag, why in result.inactive.items():
            t.add_row(f"inactive {tag}", escape(why))
        if result.dropped:
            t.add_row("dropped", ", ".join(result.dropped) + " (no longer in the library)")
        console.print(t)

    _with_project(project, work)
