"""`jingzhun segment ...`: audiences and saved segments from the command line.

TARGET is the name (or id) of a saved segment, or an audience expression in quotes
(docs/audience-language.md): text that names no saved segment is read as an expression. Every command
evaluates at `--as-of` (ISO 8601), else the moment of the latest feature build (`jingzhun build`),
else the project's `profile.as_of` or the end of its data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from jingzhun.cli.output import (
    JsonOpt, ProjectOpt, fail as _fail, open_project as _open, console, print_json,
)
from jingzhun.errors import JingzhunError

app = typer.Typer(
    help="Audiences and saved segments: count, preview, save, snapshot, diff, overlap, export; the RFM grid, "
    "lifecycle stages and clusters.",
    no_args_is_help=True,
)

AsOfOpt = typer.Option(None, "--as-of", help="Evaluate at this moment (ISO 8601); default: the latest feature build.")
TargetArg = typer.Argument(..., help="A saved segment's name, or an audience expression in quotes.")



def _as_of(proj, as_of: Optional[str]):
    """The moment to evaluate at: --as-of, else the latest feature build, else the build's own default."""
    from jingzhun.pipeline.build import build_as_of
    from jingzhun.segment.context import as_utc
    from jingzhun.segment.inputs import built_as_of

    if as_of:
        try:
            return as_utc(as_of)
        except ValueError:
            raise JingzhunError(f"--as-of {as_of!r} is not an ISO date or time, e.g. 2024-06-30") from None
    when = built_as_of(proj.warehouse) or build_as_of(proj.warehouse, proj.settings)
    if when is None:
        raise JingzhunError("nothing is loaded yet, so there is no moment to evaluate at: load data with "
                            "`jingzhun ingest`, then `jingzhun build`, or give --as-of")
    return when


def _timezone(proj) -> str:
    from jingzhun.pipeline.build import profile_timezone

    return profile_timezone(proj.settings)


@app.command()
def count(target: str = TargetArg, as_of: Optional[str] = AsOfOpt, project: Optional[Path] = ProjectOpt,
          json_out: bool = JsonOpt) -> None:
    """How many profiles a segment or an expression holds."""
    from jingzhun.segment.membership import resolve, size

    try:
        with _open(project) as proj:
            when = _as_of(proj, as_of)
            t = resolve(proj.warehouse, target)
            n = size(proj.warehouse, t, when)
            if json_out:
                print_json({"target": t.label, "kind": t.kind, "as_of": when.isoformat(), "size": n})
            else:
                console.print(f"{n:,} profiles  [dim]{t.label} (as of {when:%Y-%m-%d %H:%M} UTC)[/]")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def preview(target: str = TargetArg, n: int = typer.Option(10, "-n", min=1, max=1000, help="Sampled members."),
            seed: int = typer.Option(0, help="Seed of the sample (the same seed shows the same people)."),
            as_of: Optional[str] = AsOfOpt, project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """The size and a sample of members, each with the reasons it matched."""
    from jingzhun.segment.preview import preview as run_preview

    try:
        with _open(project) as proj:
            result = run_preview(proj.warehouse, target, as_of=_as_of(proj, as_of), n=n, seed=seed)
            if json_out:
                print_json(result.to_dict())
                return
            console.print(f"[bold]{result.target}[/]: {result.size:,} profiles as of {result.as_of:%Y-%m-%d %H:%M} UTC")
            for member in result.sample:
                console.print(f"  [bold]{member['profile_id']}[/]")
                for r in member["reasons"]:
                    mark = "[green]✓[/]" if r["held"] else "[dim]✗[/]"
                    console.print(f"    {mark} {r['text']}", markup=True, highlight=False)
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def save(name: str = typer.Argument(..., help="The segment's name (unique)."),
         expression: str = typer.Argument(..., help="The audience expression, in quotes."),
         description: Optional[str] = typer.Option(None, help="What the segment is for."),
         project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """Save an expression under a name (saving a new expression under the same name updates it)."""
    from jingzhun.segment.saved import save_segment

    try:
        with _open(project) as proj:
            seg, status = save_segment(proj.warehouse, name, expression, description=description)
            if json_out:
                print_json({"status": status, **seg.to_dict()})
            else:
                console.print(f"segment [bold]{seg.name}[/] {status} ({seg.segment_id}): {seg.definition}")
    except JingzhunError as exc:
        _fail(exc)


@app.command("list")
def list_(kind: Optional[str] = typer.Option(None, help="Only this kind: audience, rfm, lifecycle or cluster."),
          project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """The saved segments."""
    from jingzhun.segment.saved import list_segments

    try:
        with _open(project) as proj:
            segments = list_segments(proj.warehouse, kind=kind)
            if json_out:
                print_json([s.to_dict() for s in segments])
                return
            if not segments:
                console.print("no saved segments yet: `jingzhun segment save NAME \"EXPRESSION\"`, or "
                              "`jingzhun segment rfm --save`")
                return
            table = Table("name", "kind", "definition / description", "updated")
            for s in segments:
                text = s.definition if s.kind == "audience" else (s.description or "")
                table.add_row(s.name, s.kind, text, f"{s.updated_at:%Y-%m-%d %H:%M}" if s.updated_at else "")
            console.print(table)
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def show(name: str = typer.Argument(..., help="A saved segment's name or id."), project: Optional[Path] = ProjectOpt,
         json_out: bool = JsonOpt) -> None:
    """A saved segment: its definition and its snapshots (numbered, for `diff --from N`)."""
    from jingzhun.segment.saved import get_segment
    from jingzhun.segment.snapshots import list_snapshots

    try:
        with _open(project) as proj:
            seg = get_segment(proj.warehouse, name)
            snaps = list_snapshots(proj.warehouse, seg)
            if json_out:
                print_json({**seg.to_dict(), "snapshots": [s.to_dict() for s in snaps]})
                return
            console.print(f"[bold]{seg.name}[/] ({seg.kind}, {seg.segment_id})")
            if seg.description:
                console.print(f"  {seg.description}")
            if seg.kind == "audience":
                console.print(f"  {seg.definition}")
            table = Table("#", "taken", "as of", "size", "entered", "exited")
            for i, s in enumerate(snaps, 1):
                changes = ["" if v is None else f"{v:,}" for v in (s.entered, s.exited)]
                table.add_row(str(i), f"{s.snapshot_at:%Y-%m-%d %H:%M:%S}", f"{s.as_of:%Y-%m-%d %H:%M}", f"{s.size:,}",
                              *changes)
            console.print(table if snaps else "  no snapshots yet")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def delete(name: str = typer.Argument(..., help="A saved segment's name or id."), project: Optional[Path] = ProjectOpt,
           json_out: bool = JsonOpt) -> None:
    """Delete a saved segment with its snapshots and members."""
    from jingzhun.segment.saved import delete_segment

    try:
        with _open(project) as proj:
            seg = delete_segment(proj.warehouse, name)
            if json_out:
                print_json({"deleted": seg.name, "segment_id": seg.segment_id})
            else:
                console.print(f"deleted segment [bold]{seg.name}[/]")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def export(target: str = TargetArg, out: Path = typer.Option(..., "--out", "-o", help="CSV file to write."),
           field: Optional[list[str]] = typer.Option(None, "--field", help="A profile field to add (repeatable)."),
           as_of: Optional[str] = AsOfOpt, project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """Write the members' pseudonymous profile ids (and chosen fields) to a CSV file."""
    from jingzhun.segment.membership import export_csv, resolve

    try:
        with _open(project) as proj:
            when = _as_of(proj, as_of)
            t = resolve(proj.warehouse, target)
            rows = export_csv(proj.warehouse, t, out, as_of=when, fields=tuple(field or ()))
            if json_out:
                print_json({"target": t.label, "as_of": when.isoformat(), "rows": rows, "path": str(out)})
            else:
                console.print(f"wrote {rows:,} profiles to {out}")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def overlap(targets: list[str] = typer.Argument(..., help="Two or more segments or expressions."),
            as_of: Optional[str] = AsOfOpt, project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """Sizes and pairwise overlaps (members in both, Jaccard index) of two or more segments."""
    from jingzhun.segment.membership import overlap as run_overlap

    try:
        with _open(project) as proj:
            result = run_overlap(proj.warehouse, targets, as_of=_as_of(proj, as_of))
            if json_out:
                print_json(result.to_dict())
                return
            for label, n in zip(result.labels, result.sizes):
                console.print(f"{n:>10,}  {label}")
            table = Table("a", "b", "in both", "Jaccard")
            for p in result.pairs:
                table.add_row(p["a"], p["b"], f"{p['both']:,}", f"{p['jaccard']:.3f}")
            console.print(table)
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def snapshot(names: list[str] = typer.Argument(..., help="Saved segments to snapshot."),
             as_of: Optional[str] = AsOfOpt, project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """Record the members of saved segments now, with who entered and who left since the last snapshot."""
    from jingzhun.segment.saved import get_segment
    from jingzhun.segment.snapshots import take_snapshot

    try:
        with _open(project) as proj:
            when = _as_of(proj, as_of)
            segments = [get_segment(proj.warehouse, name) for name in names]  # every name known before any write
            results = [take_snapshot(proj.warehouse, seg, as_of=when) for seg in segments]
            if json_out:
                print_json([r.to_dict() for r in results])
                return
            for r in results:
                change = "first snapshot" if r.entered is None else f"+{r.entered:,} entered, -{r.exited:,} exited"
                console.print(f"{r.name}: {r.size:,} members as of {r.as_of:%Y-%m-%d %H:%M} ({change})")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def diff(target: str = TargetArg,
         before: str = typer.Option("last", "--from", help="last, a snapshot number (1 = first, -1 = latest), now, "
                                                            "or a date to evaluate at."),
         after: str = typer.Option("now", "--to", help="The same choices as --from."),
         limit: int = typer.Option(20, min=0, help="How many ids of each change to list."),
         project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """Who entered and who left a segment between two snapshots or moments."""
    from jingzhun.segment.snapshots import diff as run_diff

    try:
        with _open(project) as proj:
            result = run_diff(proj.warehouse, target, before=before, after=after, limit=limit)
            if json_out:
                print_json(result.to_dict())
                return
            console.print(f"[bold]{result.target}[/]: {result.before} -> {result.after}")
            console.print(f"  {result.before_size:,} -> {result.after_size:,} members; "
                          f"{result.entered:,} entered, {result.exited:,} exited")
            for word, ids in (("entered", result.entered_ids), ("exited", result.exited_ids)):
                if ids:
                    console.print(f"  {word}: {', '.join(ids)}{' ...' if len(ids) == limit else ''}")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def rfm(as_of: Optional[str] = AsOfOpt, save_segments: bool = typer.Option(False, "--save", help="Save the 11 RFM "
        "segments (RFM: Champions, ...) so they can be snapshotted and exported."),
        project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """The RFM grid (buyers and mean spend per R x F cell) and the size of each RFM segment."""
    from jingzhun.segment.inputs import features_at
    from jingzhun.segment.rfm import grid_frame, rfm_grid, rfm_scores, rfm_summary, save_rfm_segments, summary_rows

    try:
        with _open(project) as proj:
            wh = proj.warehouse
            when = _as_of(proj, as_of)
            scores = rfm_scores(features_at(wh, when, timezone=_timezone(proj)))
            grid = grid_frame(wh.execute(rfm_grid(scores)))
            segments = summary_rows(wh.execute(rfm_summary(scores)))
            saved = [s.name for s, _ in save_rfm_segments(wh)] if save_segments else []
            if json_out:
                print_json({"as_of": when.isoformat(), "grid": grid, "segments": segments, "saved": saved})
                return
            console.print(f"RFM as of {when:%Y-%m-%d %H:%M} UTC ({sum(s['profiles'] for s in segments):,} buyers)")
            table = Table("R \\ F", *[str(f) for f in range(1, 6)], show_lines=True)
            for row in grid["rows"]:
                cells = [f"{c['segment']}\n{c['profiles']:,} | {c['mean_monetary'] or 0:,.0f}" for c in row]
                table.add_row(str(row[0]["r"]), *cells)
            console.print(table)
            seg_table = Table("segment", "profiles", "total spend", "mean spend")
            for s in segments:
                seg_table.add_row(s["segment"], f"{s['profiles']:,}", f"{s['monetary_total']:,.2f}",
                                  "" if s["mean_monetary"] is None else f"{s['mean_monetary']:,.2f}")
            console.print(seg_table)
            if saved:
                console.print(f"saved {len(saved)} segments: {', '.join(saved)}")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def lifecycle(as_of: Optional[str] = AsOfOpt,
              new_days: Optional[int] = typer.Option(None, min=0, help="New: first purchase within this many days."),
              active_days: Optional[int] = typer.Option(None, min=0,
                                                        help="Active: last purchase within this many days."),
              lapse_days: Optional[int] = typer.Option(None, min=0,
                                                       help="Lapsed: no purchase for more days than this."),
              save_segments: bool = typer.Option(False, "--save", help="Save the five stages as segments."),
              project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """Lifecycle stages (new, active, at risk, lapsed, won back) with thresholds learnt from the data."""
    from jingzhun.profile.clock import Clock
    from jingzhun.segment.lifecycle import STAGES, derive_rules, lifecycle_stages, save_lifecycle_segments

    try:
        with _open(project) as proj:
            wh = proj.warehouse
            when = _as_of(proj, as_of)
            clock = Clock.at(when, _timezone(proj))
            rules = derive_rules(wh, clock, new_days=new_days, active_days=active_days, lapse_days=lapse_days)
            stages = lifecycle_stages(wh, clock, rules)
            counts = wh.execute(stages.group_by("stage").aggregate(profiles=stages.count()))
            by = {r.stage: int(r.profiles) for r in counts.itertuples()}
            rows = [{"stage": s, "profiles": by.get(s, 0)} for s in STAGES]
            saved = [s.name for s, _ in save_lifecycle_segments(wh, rules, timezone=_timezone(proj))] \
                if save_segments else []
            if json_out:
                print_json({"as_of": when.isoformat(), "rules": rules.to_dict(), "stages": rows, "saved": saved})
                return
            console.print(f"lifecycle as of {when:%Y-%m-%d %H:%M} UTC; thresholds ({rules.source}): new <= "
                          f"{rules.new_days} d, active <= {rules.active_days} d, lapsed > {rules.lapse_days} d")
            table = Table("stage", "profiles")
            for r in rows:
                table.add_row(r["stage"], f"{r['profiles']:,}")
            console.print(table)
            if saved:
                console.print(f"saved {len(saved)} segments: {', '.join(saved)}")
    except JingzhunError as exc:
        _fail(exc)


@app.command()
def cluster(as_of: Optional[str] = AsOfOpt,
            feature: Optional[list[str]] = typer.Option(None, "--feature", help="A profile feature to cluster on "
                                                        "(repeatable); default: recency, frequency, monetary, "
                                                        "order value, tenure."),
            k_min: int = typer.Option(2, min=2, help="Fewest clusters to try."),
            k_max: int = typer.Option(8, min=2, help="Most clusters to try."),
            sample: int = typer.Option(20_000, min=100, help="Buyers in the fitting sample."),
            seed: int = typer.Option(0, help="Seed of the sample and of k-means."),
            save_segments: bool = typer.Option(False, "--save", help="Save one segment per cluster."),
            project: Optional[Path] = ProjectOpt, json_out: bool = JsonOpt) -> None:
    """k-means clusters of buyers on standardised features, k chosen by silhouette, each described in words."""
    from jingzhun.segment.clusters import DEFAULT_FEATURES, ClusterModel, buyers, save_cluster_segments, seeded_sample
    from jingzhun.segment.inputs import features_at

    try:
        with _open(project) as proj:
            wh = proj.warehouse
            when = _as_of(proj, as_of)
            feats = buyers(features_at(wh, when, timezone=_timezone(proj)))
            model = ClusterModel(features=tuple(feature or DEFAULT_FEATURES), k_min=k_min, k_max=k_max, seed=seed)
            model.fit(wh.execute(seeded_sample(feats, sample, seed)))
            assigned = model.assign(feats)
            counts = wh.execute(assigned.group_by("cluster").aggregate(profiles=assigned.count()))
            by = {int(r.cluster): int(r.profiles) for r in counts.itertuples()}
            clusters = [{"cluster": c + 1, "profiles": by.get(c, 0), "description": model.descriptions_[c],
                         "mean_z": model.profiles_[c]} for c in range(model.k_)]
            saved = [s.name for s, _ in save_cluster_segments(wh, model)] if save_segments else []
            if json_out:
                print_json({"as_of": when.isoformat(), "k": model.k_, "silhouettes": model.silhouettes_,
                            "features": list(model.features), "clusters": clusters, "saved": saved})
                return
            tried = ", ".join(f"k={k}: {v:.3f}" for k, v in model.silhouettes_.items())
            console.print(f"{model.k_} clusters (largest silhouette; {tried})")
            table = Table("cluster", "profiles", "what sets it apart")
            for c in clusters:
                table.add_row(str(c["cluster"]), f"{c['profiles']:,}", c["description"])
            console.print(table)
            if saved:
                console.print(f"saved {len(saved)} segments: {', '.join(saved)}")
    except JingzhunError as exc:
        _fail(exc)
