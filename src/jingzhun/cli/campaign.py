"""`jingzhun campaign plan|run|status`: campaigns from a YAML file (docs/campaigns.md).

`plan` is the dry run: it shows what would be sent (counts per arm, channel, offer and local hour), what
it costs and is expected to bring, and who is left out and why; it records the plan, and sends
nothing. `run` sends the messages that are due; `status` tells where a campaign stands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from jingzhun.cli.output import JsonOpt, ProjectOpt, console, print_json, with_project

app = typer.Typer(help="Campaigns: plan (the dry run), run (send what is due), status.", no_args_is_help=True)

FileArg = typer.Argument(..., help="The campaign's YAML file.", exists=True, dir_okay=False)


def _timezone(proj) -> str:
    from jingzhun.pipeline.build import profile_timezone

    return profile_timezone(proj.settings)


def _plan(proj, file: Path, as_of, at):
    from jingzhun.activation.campaigns import load_campaign, plan_campaign

    campaign = load_campaign(file)
    return plan_campaign(proj.warehouse, campaign, secret=proj.secret, as_of=as_of, at=at, timezone=_timezone(proj))


def _show_counts(title: str, counts: dict, unit: str = "messages") -> None:
    table = Table(title=title)
    table.add_column("")
    table.add_column(unit, justify="right")
    for k, v in counts.items():
        table.add_row(str(k), f"{v:,}")
    console.print(table)


@app.command()
def plan(
    file: Path = FileArg,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate the audience at this moment "
                                        "(default: the latest feature build)."),
    at: Optional[str] = typer.Option(None, "--at", help="Plan as if now were this moment (ISO 8601; consent "
                                     "and the schedule's default start are judged then)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan without recording it."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Show the plan: messages per arm, channel, offer and hour; cost; expected results; who is left out."""
    from jingzhun.activation.campaigns import save_plan

    def work(proj):
        p = _plan(proj, file, as_of, at)
        summary = p.summary()
        summary["recorded"] = None if dry_run else save_plan(proj.warehouse, p, secret=proj.secret)
        if json_out:
            print_json(summary)
            return
        console.print(f"[bold]{p.campaign.name}[/] ({p.campaign.id}): {summary['messages']:,} messages from an "
                      f"audience of {summary['audience']:,} as of {summary['as_of']}")
        for key, title in (("by_arm", "arms"), ("by_channel", "channels"), ("by_offer", "offers"),
                           ("by_local_hour", f"local send hour ({summary['timezone']})")):
            _show_counts(title, summary[key])
        console.print(f"sends from {summary['first_send']} to {summary['last_send']}")
        console.print(f"cost: {summary['cost']}")
        console.print(f"expected (treated arms): {summary['expected'] or 'no model scores to estimate from'}")
        _show_counts("left out, and why", summary["excluded"], "people")
        if summary["recorded"] is None:
            console.print("dry run: nothing recorded, nothing sent")
        else:
            console.print(f"plan recorded ({summary['recorded']['messages_new']:,} new messages); nothing sent: "
                          f"`jingzhun campaign run {file}` sends what is due")

    with_project(project, work)


@app.command()
def run(
    file: Path = FileArg,
    until: Optional[str] = typer.Option(None, "--until", help="Send what is due by this moment (default: now)."),
    on_schedule: bool = typer.Option(False, "--on-schedule", help="Replay: send each message at its own scheduled "
                                     "moment on a simulated clock (for simulations and tests)."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Send the campaign's planned messages that are due (consent is checked for every one as it goes)."""
    from jingzhun.activation import Links
    from jingzhun.activation.campaigns import load_campaign, run_campaign
    from jingzhun.activation.campaigns.channels import connectors_from_settings

    def work(proj):
        campaign = load_campaign(file)
        settings = proj.settings.activation
        connectors = connectors_from_settings(settings, proj.root, campaign.channels)
        report = run_campaign(proj.warehouse, campaign, connectors=connectors,
                              links=Links(settings.tracking_url, proj.secret), until=until, on_schedule=on_schedule,
                              secret=proj.secret, timezone=_timezone(proj))
        if json_out:
            print_json(report.to_dict())
            return
        _show_counts(f"{campaign.id}: deliveries this run", dict(sorted(report.counts.items())))
        console.print(f"due {report.due:,}; still waiting for their time {report.waiting:,}; status {report.status}")

    with_project(project, work)


@app.command()
def status(
    campaign: str = typer.Argument(..., help="A campaign id, or its YAML file."),
    project: Optional[Path] = ProjectOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Where a campaign stands: planned messages, deliveries by status, responses."""
    from jingzhun.activation.campaigns import campaign_status, load_campaign

    def work(proj):
        cid = load_campaign(campaign).id if campaign.endswith((".yaml", ".yml")) else campaign
        s = campaign_status(proj.warehouse, cid)
        if json_out:
            print_json(s)
            return
        console.print(f"[bold]{s['name']}[/] ({s['campaign']}): {s['status']}, {s['planned']:,} messages planned, "
                      f"{s['unsent']:,} not yet sent")
        _show_counts("deliveries (arm/status)", s["deliveries"])
        _show_counts("responses", {k: v["responses"] for k, v in s["responses"].items()})

    with_project(project, work)
