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
    if s.get("marketing"):
        marketing_summary(console, s["marketing"], s.get("as_of"))
    if s.get("campaigns"):
        campaigns_summary(console, s["campaigns"])
    secs = s["seconds"]
    console.print("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in secs.items()) + f", total {sum(secs.values()):.1f}s")
    console.print(f"next: jingzhun profiles show <profile id> -p {s['project']}   |   jingzhun quality -p {s['project']}"
                  f"   |   jingzhun tags list -p {s['project']}   |   jingzhun segment rfm -p {s['project']}")


def campaigns_summary(console: Console, c: dict) -> None:
    """The demo's campaigns: what each planned and sent, and what it achieved, measured and true."""
    for cid, r in c.items():
        if cid.startswith("_"):
            continue
        p = r["plan"]
        console.rule(f"[bold]campaign {cid}[/]: {p['name']}")
        console.print(f"plan: {p['messages']:,} messages from an audience of {p['audience']:,}; arms {p['by_arm']}; "
                      f"channels {p['by_channel']}; offers {p['by_offer']}")
        console.print(f"left out: {p['excluded']}")
        console.print(f"deliveries: {r['deliveries']}")
        t = Table(title=f"{cid}: results by arm, measured against the control group")
        for col in ("arm", "reach", "sent", "opens", "clicks", "conversions", "revenue", "incremental (95% CI)",
                    "true incremental"):
            t.add_column(col, justify="left" if col == "arm" else "right")
        for arm, a in r["arms"].items():
            inc = a.get("incremental_conversions")
            ci = "" if inc is None else (f"{inc:+.1f} ({a['incremental_conversions_low']:+.1f} to "
                                         f"{a['incremental_conversions_high']:+.1f})")
            true = r["true_incremental_conversions"].get(arm)
            t.add_row(arm, _fmt(a["reach"]), _fmt(a["delivered"]), _fmt(a["opens"]), _fmt(a["clicks"]),
                      _fmt(a["conversions"]), _money(a["revenue"]), ci, "" if arm == "control" or true is None
                      else f"{true:+.1f}")
        console.print(t)
        for d in r["decisions"]:
            console.print(f"  {d}")
        console.print(f"report: {r['report']}")
    if "_mailbox" in c:
        console.print(f"e-mails received by the local SMTP server: {c['_mailbox']['received']:,} in "
                      f"{c['_mailbox']['folder']}")
    if "_overview_report" in c:
        console.print(f"overview report: {c['_overview_report']}")


def _money(v) -> str:
    return "" if v is None else f"{v:,.0f}"


def marketing_summary(console: Console, m: dict, as_of: str | None) -> None:
    """The demo's marketing part: RFM grid, lifecycle, tags, audiences, CLV, churn, rules, recommendations."""
    console.rule(f"[bold]the customers as of {str(as_of)[:10]}")
    grid = Table(title="RFM grid: profiles (mean spend) by recency score R and frequency score F")
    grid.add_column("R \\ F")
    for f in range(1, 6):
        grid.add_column(str(f), justify="right")
    for row in m["rfm_grid"]["rows"]:
        grid.add_row(str(row[0]["r"]), *[f"{c['profiles']:,} ({_money(c['mean_monetary'])})\n[dim]{c['segment']}[/]"
                                          for c in row])
    console.print(grid)
    seg = Table(title="RFM segments")
    for col in ("segment", "profiles", "revenue", "mean spend"):
        seg.add_column(col, justify="left" if col == "segment" else "right")
    for r in m["rfm_segments"]:
        seg.add_row(r["segment"], _fmt(r["profiles"]), _money(r["monetary_total"]), _money(r["mean_monetary"]))
    console.print(seg)
    life = m["lifecycle"]
    rules = life["rules"]
    console.print("lifecycle (new within {new_days} days of the first purchase, active within {active_days}, "
                  "lapsed after {lapse_days}; thresholds from the {source}): ".format(**rules)
                  + ", ".join(f"{k} {v:,}" for k, v in life["stages"].items()))
    console.print(f"tags: {m['tags']['distinct']} tags in use; most common: "
                  + ", ".join(f"{t['tag']} {t['profiles']:,}" for t in m["tags"]["top"]))
    aud = Table(title="a few audiences (jingzhun segment count \"...\")")
    aud.add_column("audience")
    aud.add_column("profiles", justify="right")
    for a in m["audiences"]:
        aud.add_row(a["audience"], "-" if a["profiles"] is None else _fmt(a["profiles"]))
    console.print(aud)
    for key, title, fmt in (("clv_leaders", "CLV leaderboard: expected 12-month value", _money),
                            ("churn_risk", "churn-risk list: risk of lapsing in the next 90 days",
                             lambda v: f"{v:.0%}")):
        t = Table(title=title)
        for col in ("profile", "score", "orders", "spent", "days since", "why"):
            t.add_column(col, justify="left" if col in ("profile", "why") else "right")
        for r in m[key]:
            t.add_row(r["profile_id"], fmt(r["value"]), _fmt(r["frequency"]), _money(r["monetary_total"]),
                      _fmt(r["recency_days"]), r.get("reason") or "")
        console.print(t)
    if m.get("rules"):
        t = Table(title="basket rules between categories (highest lift)")
        for col in ("if bought", "then also", "support", "confidence", "lift"):
            t.add_column(col, justify="left" if col in ("if bought", "then also") else "right")
        for r in m["rules"]:
            t.add_row(r["antecedent"], r["consequent"], f"{r['support']:.3f}", f"{r['confidence']:.2f}",
                      f"{r['lift']:.2f}")
        console.print(t)
    if m.get("recommendations"):
        t = Table(title="recommendations with reasons (the CLV leaders)")
        for col in ("profile", "#", "product", "category", "why"):
            t.add_column(col)
        for r in m["recommendations"]:
            t.add_row(r["profile_id"], str(r["rank"]), str(r.get("name") or r["product_id"]), str(r.get("category") or ""),
                      str(r.get("reason") or ""))
        console.print(t)
