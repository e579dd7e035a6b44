"""Rich renderings of what the pipeline returns. Presentation only: no logic, no queries."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

__all__ = ["build_table", "profile_panel", "demo_summary"]


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def build_table(result) -> Table:
    title = f"build {result.run_id}" + (f" as of {result.as_of}" if getattr(result, "as_of", None) else "")
    t = Table(title=title, show_lines=False)
    t.add_column("step")
    t.add_column("figures")
    t.add_column("seconds", justify="right")
    for step, figures in result.steps.items():
        seconds = figures.get("seconds", "")
        text = ", ".join(f"{k} {_fmt(v)}" for k, v in figures.items() if k != "seconds" and not isinstance(v, (dict, list)))
        t.add_row(step, text, _fmt(seconds))
    return t


def profile_panel(view: dict) -> Panel:
    ids = Table(title="identifiers", show_edge=False)
    for col in ("kind", "value", "shared"):
        ids.add_column(col)
    for row in view["identifiers"]:
        ids.add_row(row["kind"], row["value"], "yes" if row.get("is_shared") else "")
    facts = Table(show_header=False, show_edge=False)
    facts.add_column("fact")
    facts.add_column("value")
    for key, value in view["facts"].items():
        facts.add_row(key, _fmt(value))
    parts = [facts, ids]
    if view.get("records"):
        recs = Table(title="customer records", show_edge=False)
        for col in view["records"][0]:
            recs.add_column(col)
        for r in view["records"]:
            recs.add_row(*[_fmt(v) if v is not None else "" for v in r.values()])
        parts.append(recs)
    if view.get("features"):
        feats = Table(title=f"features as of {view.get('features_as_of')}", show_edge=False, show_header=False)
        feats.add_column("theme")
        feats.add_column("values")
        for theme, values in view["features"].items():
            text = ", ".join(f"{k} {_fmt(v)}" for k, v in values.items() if v is not None)
            feats.add_row(theme, text or "-")
        parts.append(feats)
    if view.get("tags"):
        tags = Table(title="tags", show_edge=False)
        for col in ("tag", "value", "why"):
            tags.add_column(col)
        for t in view["tags"]:
            tags.add_row(t["tag"], t.get("value") or "", t.get("reason") or "")
        parts.append(tags)
    if view.get("scores"):
        scores = Table(title="scores", show_edge=False)
        for col in ("score", "value", "model"):
            scores.add_column(col)
        for t in view["scores"]:
            scores.add_row(t["score"], _fmt(t["value"]), t["model_id"])
        parts.append(scores)
    if view.get("joined_by"):
        why = Table(title="why these identifiers are one person", show_edge=False)
        for col in ("from", "to", "evidence", "rule"):
            why.add_column(col)
        for e in view["joined_by"][:20]:
            why.add_row(e["from"], e["to"], e["evidence"], e["rule"])
        parts.append(why)
    return Panel(Group(*parts), title=f"profile {view['profile_id']}")


def demo_summary(console: Console, s: dict) -> None:
    console.rule("[bold]jingzhun demo")
    console.print(f"project {s['project']}, {s['customers_simulated']:,} simulated customers (seed {s['seed']})")

    load = Table(title="loaded (every row accounted for)")
    for col in ("file", "table", "read", "loaded", "quarantined", "skipped"):
        load.add_column(col, justify="right" if col not in ("file", "table") else "left")
    rules: dict[str, list[int]] = {}
    for f in s["load"]["files"]:
        load.add_row(f["file"].split("/")[-1], f["table_name"], _fmt(f["rows_read"]), _fmt(f["rows_loaded"]),
                     _fmt(f["rows_quarantined"]), _fmt(f["rows_skipped"]))
        for r in f["rules"]:
            acc = rules.setdefault(r["rule"], [0, 0])
            acc[0] += r["flagged"]
            acc[1] += r["quarantined"]
    console.print(load)

    flagged = Table(title="cleaning: what the rules did")
    flagged.add_column("rule")
    flagged.add_column("flagged / nulled", justify="right")
    flagged.add_column("quarantined", justify="right")
    for rule, (fl, q) in sorted(rules.items()):
        if fl or q:
            flagged.add_row(rule, _fmt(fl), _fmt(q))
    console.print(flagged)

    idt = s["identity_vs_truth"]
    ident = Table(title="identity resolution against the simulator's truth")
    ident.add_column("measure")
    ident.add_column("value", justify="right")
    for key in ("identifiers", "true_persons", "profiles", "pairwise_precision", "pairwise_recall",
                "profiles_mixing_persons", "shared_identifiers", "shared_identifiers_isolated",
                "identifiers_rejected_by_quality"):
        ident.add_row(key.replace("_", " "), _fmt(idt[key]))
    console.print(ident)

    shop = s["shop"]
    console.print(f"shop: {shop['profiles']:,} profiles, {shop['orders']:,} orders, revenue {shop['revenue']:,.2f}, "
                  f"{shop['returns']:,} returns, {shop['period'][0][:10]} to {shop['period'][1][:10]}")
    channels = Table(title="purchases by channel")
    for col in ("channel", "orders", "revenue"):
        channels.add_column(col, justify="left" if col == "channel" else "right")
    for row in shop["by_channel"]:
        channels.add_row(str(row["channel"]), _fmt(row["orders"]), f"{row['revenue']:,.2f}")
    console.print(channels)
    secs = s["seconds"]
    console.print("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in secs.items()) + f", total {sum(secs.values()):.1f}s")
    console.print(f"next: jingzhun profiles show <profile id> -p {s['project']}   |   jingzhun quality -p {s['project']}")
