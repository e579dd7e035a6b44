"""`jingzhun rules mine|show|audience`: association rules, bundles and cross-sell audiences."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from jingzhun.cli.output import (
    JsonOpt as _JsonOpt, ProjectOpt as _ProjectOpt, with_project as _with_project, console, err_console,
    print_json,
)
from jingzhun.errors import JingzhunError

app = typer.Typer(help="Association rules: what is bought together, bundles, cross-sell audiences.",
                  no_args_is_help=True)

_LevelOpt = typer.Option("product", "--level", "-l", help="product or category.")
_MinSupport = typer.Option(0.0, "--min-support", help="Keep rules in at least this share of baskets.")
_MinConfidence = typer.Option(0.0, "--min-confidence", help="Keep rules at least this confident.")
_MinLift = typer.Option(0.0, "--min-lift", help="Keep rules with at least this lift.")
_Item = typer.Option(None, "--item", help="Only rules with this item on either side (repeatable).")
_MaxLen = typer.Option(None, "--max-len", help="Only rules of at most this many items.")
_Sort = typer.Option("lift", "--sort", help="lift, confidence, support, leverage or conviction.")
_Top = typer.Option(20, "--top", "-n", help="How many rules to show.")



def _side(items, names: dict[str, str]) -> str:
    return " + ".join(f"{i} {names[i]}" if i in names else i for i in items)


def _rules_table(title: str, rules, names: dict[str, str]) -> Table:
    t = Table(title=title)
    for col in ("antecedent", "consequent"):
        t.add_column(col, overflow="fold")
    for col in ("support", "confidence", "lift", "leverage", "conviction"):
        t.add_column(col, justify="right")
    for r in rules.itertuples(index=False):
        conviction = "-" if r.conviction != r.conviction else f"{r.conviction:.2f}"
        t.add_row(_side(r.antecedent, names), _side(r.consequent, names), f"{r.support:.4f}",
                  f"{r.confidence:.3f}", f"{r.lift:.2f}", f"{r.leverage:.4f}", conviction)
    return t


def _rule_dicts(rules, names: dict[str, str]) -> list[dict]:
    out = []
    for r in rules.itertuples(index=False):
        out.append({
            "antecedent": list(r.antecedent), "consequent": list(r.consequent),
            "names": {i: names[i] for i in (*r.antecedent, *r.consequent) if i in names},
            **{m: (None if getattr(r, m) != getattr(r, m) else float(getattr(r, m)))
               for m in ("support", "confidence", "lift", "leverage", "conviction", "antecedent_support",
                         "consequent_support")},
        })
    return out


def _names_of(wh, rules, level: str) -> dict[str, str]:
    from jingzhun.rules import item_names

    items = {i for r in rules.itertuples(index=False) for i in (*r.antecedent, *r.consequent)}
    return item_names(wh, items, level)


@app.command()
def mine(
    level: str = _LevelOpt,
    min_support: float = typer.Option(0.01, "--min-support", help="Share of baskets an itemset must be in."),
    min_confidence: float = typer.Option(0.1, "--min-confidence", help="Least confidence of a rule kept."),
    min_lift: float = typer.Option(1.0, "--min-lift", help="Least lift of a rule kept."),
    max_len: int = typer.Option(3, "--max-len", help="Most items in a rule (both sides together)."),
    category_depth: int = typer.Option(
        1, "--category-depth", help="Category level: 1 = products.category, 2+ = levels of category_path."),
    exclude: Optional[list[str]] = typer.Option(None, "--exclude", help="Leave this item out (repeatable)."),
    top: int = _Top,
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """Mine the baskets at one level with FP-growth and replace that level's rules in the warehouse."""
    from jingzhun.rules import MiningOptions, RuleQuery, mine_rules, write_rules

    def work(proj):
        options = MiningOptions(level=level, min_support=min_support, min_confidence=min_confidence,
                                min_lift=min_lift, max_len=max_len, category_depth=category_depth,
                                exclude=tuple(exclude or ()))
        started = time.perf_counter()
        if not json_out:
            err_console.print(f"[dim]rules: mining {level} baskets on {proj.warehouse.engine}[/]")
        result = mine_rules(proj.warehouse, options)
        written = write_rules(proj.warehouse, result)
        seconds = time.perf_counter() - started
        best = RuleQuery(top=top).apply(result.rules)
        names = _names_of(proj.warehouse, best, level)
        if json_out:
            print_json({"level": level, "baskets": result.n_baskets, "itemsets": len(result.itemsets),
                        "rules": written, "engine": result.engine, "seconds": round(seconds, 2),
                        "top": _rule_dicts(best, names)})
            return
        console.print(f"{result.n_baskets:,} baskets, {len(result.itemsets):,} frequent itemsets, "
                      f"{written:,} rules written at the {level} level in {seconds:.1f} s")
        if len(best):
            console.print(_rules_table(f"top {len(best)} {level} rules by lift", best, names))

    _with_project(project, work)


@app.command()
def show(
    level: str = _LevelOpt,
    min_support: float = _MinSupport,
    min_confidence: float = _MinConfidence,
    min_lift: float = _MinLift,
    item: Optional[list[str]] = _Item,
    max_len: Optional[int] = _MaxLen,
    sort: str = _Sort,
    top: int = _Top,
    bundles: bool = typer.Option(False, "--bundles", help="Show bundle suggestions (pairs and triples) instead."),
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """Show the stored rules of a level through filters, or bundle suggestions made from them."""
    from jingzhun.rules import RuleQuery, read_rules, suggest_bundles

    def work(proj):
        query = RuleQuery(level=level, min_support=min_support, min_confidence=min_confidence, min_lift=min_lift,
                          items=tuple(item or ()), max_len=max_len, sort=sort, top=None if bundles else top)
        rules = read_rules(proj.warehouse, query)
        if not len(rules):
            message = f"no {level} rules pass these filters (mine them with `jingzhun rules mine --level {level}`)"
            print_json([]) if json_out else console.print(message)
            return
        names = _names_of(proj.warehouse, rules, level)
        if bundles:
            found = suggest_bundles(rules, n_baskets=int(rules.n_baskets.iloc[0]), top=top, names=names)
            if json_out:
                print_json([b.to_dict() for b in found])
                return
            t = Table(title=f"{level} bundles")
            t.add_column("items", overflow="fold")
            t.add_column("lift", justify="right")
            t.add_column("why", overflow="fold")
            for b in found:
                t.add_row(_side(b.items, names), f"{b.lift:.2f}", b.reason)
            console.print(t)
            return
        if json_out:
            print_json(_rule_dicts(rules, names))
        else:
            mined = rules.mined_at.max()
            console.print(_rules_table(f"{level} rules by {sort} (mined {mined}, {int(rules.n_baskets.iloc[0]):,} "
                                       "baskets)", rules, names))

    _with_project(project, work)


@app.command()
def audience(
    level: str = _LevelOpt,
    min_support: float = _MinSupport,
    min_confidence: float = _MinConfidence,
    min_lift: float = _MinLift,
    item: Optional[list[str]] = _Item,
    max_len: Optional[int] = _MaxLen,
    sort: str = _Sort,
    top: int = typer.Option(5, "--top", "-n", help="How many rules to make audiences of."),
    days: Optional[int] = typer.Option(None, "--days", help="Only purchases in the last DAYS days count."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Moment the audiences are sized at (default: profile.as_of, else the data's end)."),
    project: Optional[Path] = _ProjectOpt,
    json_out: bool = _JsonOpt,
) -> None:
    """Cross-sell audiences of the best rules: "bought A but not B", checked and sized, ready to save as segments."""
    from jingzhun.pipeline.build import build_as_of
    from jingzhun.rules import RuleQuery, cross_sell_audience, read_rules
    from jingzhun.segment import Catalog

    def work(proj):
        query = RuleQuery(level=level, min_support=min_support, min_confidence=min_confidence, min_lift=min_lift,
                          items=tuple(item or ()), max_len=max_len, sort=sort, top=top)
        rules = read_rules(proj.warehouse, query)
        when = build_as_of(proj.warehouse, proj.settings, as_of)
        if when is None:
            raise JingzhunError("no data to size audiences on: load orders first, or give --as-of")
        catalog = Catalog.from_warehouse(proj.warehouse)
        found = [cross_sell_audience(proj.warehouse, r.antecedent, r.consequent, level, as_of=when,
                                     window_days=days, catalog=catalog) for r in rules.itertuples(index=False)]
        if json_out:
            print_json({"as_of": when.isoformat(), "audiences": [
                {**a.to_dict(), "confidence": float(r.confidence), "lift": float(r.lift)}
                for a, r in zip(found, rules.itertuples(index=False))]})
            return
        if not found:
            console.print(f"no {level} rules pass these filters (mine them with `jingzhun rules mine`)")
            return
        t = Table(title=f"cross-sell audiences as of {when:%Y-%m-%d %H:%M} UTC")
        t.add_column("audience", overflow="fold")
        t.add_column("people", justify="right")
        t.add_column("confidence", justify="right")
        t.add_column("lift", justify="right")
        for a, r in zip(found, rules.itertuples(index=False)):
            t.add_row(a.text, f"{a.size:,}", f"{r.confidence:.3f}", f"{r.lift:.2f}")
        console.print(t)

    _with_project(project, work)
