"""The simulator as referee of campaign measurement: a randomised e-mail discount campaign answered by the
simulated people's hidden truth (``jingzhun.sim.responses``), then linked and measured as any campaign is.

The truth says how many conversions the messages really added: the sum of ``true_uplift`` over the
treated messages. Every conversion the simulator drew must be linked to its message; the measured
incremental conversions must equal the arms' difference computed directly from the draws, and their
99.9% interval must hold the truth (one seeded draw: at 95%, one seed in twenty would miss).
"""

from __future__ import annotations

import json

import ibis
import numpy as np
import pandas as pd
import pytest

from jingzhun.activation import ArmSplit, assign
from jingzhun.measure.kpis import campaign_kpis
from jingzhun.measure.responses import link_responses
from jingzhun.sim import simulate
from jingzhun.sim.responses import respond, true_uplift

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PEOPLE = 20_000
SENT_AT = pd.Timestamp("2025-01-06T12:00Z")
DEFINITION = {"name": "Discount by e-mail", "arms": [{"name": "control", "share": 0.5}, {"name": "A", "share": 0.5}],
              "offers": [{"id": "discount", "kind": "discount", "cost": 1.0}], "costs": {"email": 0.002},
              "conversion": {"window_days": 14}}


@pytest.fixture(scope="module")
def persons() -> pd.DataFrame:
    return simulate(PEOPLE, seed=3).persons.to_pandas()


def test_measured_incremental_conversions_hold_the_true_uplift(persons, tmp_path):
    from jingzhun.warehouse import Warehouse

    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    wh.ensure_schema()
    people = pd.DataFrame({"profile_id": persons.person_id.astype(str)})
    wh.append("campaigns", pd.DataFrame({"campaign_id": ["sim"], "name": [DEFINITION["name"]],
                                         "definition": [json.dumps(DEFINITION)], "status": ["done"],
                                         "created_at": [SENT_AT]}))
    arms = wh.execute(assign(wh, "sim", ibis.memtable(people), ArmSplit.of({"control": 0.5, "A": 0.5}), "k",
                             at=SENT_AT))
    treated = (arms.arm == "A").to_numpy()
    messages = pd.DataFrame({"message_id": "d-" + arms.profile_id, "person_id": arms.profile_id, "channel": "email",
                             "offer_kind": "discount", "treated": treated, "sent_at": SENT_AT})
    drawn = respond(persons, messages, seed=11, window_days=14)
    truth = float(true_uplift(persons, messages, window_days=14)[treated].sum())

    wh.append("deliveries", pd.DataFrame({
        "delivery_id": messages.message_id, "campaign_id": "sim", "profile_id": messages.person_id, "arm": arms.arm,
        "channel": "email", "scheduled_at": SENT_AT, "sent_at": np.where(treated, SENT_AT, pd.NaT),
        "status": np.where(treated, "sent", "held_out")}).astype({"sent_at": "datetime64[ns, UTC]"}))
    wh.append("identity_map", pd.DataFrame({"kind": "user_id", "key": persons.person_id.astype(str),
                                            "profile_id": persons.person_id.astype(str), "is_shared": False}))
    engaged = drawn[drawn.response.isin(["open", "click"])]
    wh.append("responses", pd.DataFrame({"delivery_id": engaged.message_id, "profile_id": engaged.person_id,
                                         "response": engaged.response, "responded_at": engaged["at"]}))
    bought = drawn[drawn.response == "conversion"]
    wh.append("orders", pd.DataFrame({
        "order_id": "o-" + bought.message_id, "user_id": bought.person_id, "ordered_at": bought["at"],
        "status": "completed", "is_return": False, "channel": "web", "currency": "CNY", "amount": bought.value,
        "n_lines": 1, "source": "sim", "load_id": "l", "quality_flags": ""}))

    linked = link_responses(wh, "sim", at=SENT_AT + pd.Timedelta(days=30))
    assert linked["conversion"] == len(bought)
    k = campaign_kpis(wh, "sim").table.set_index("arm")
    a = k.loc["A"]
    assert a.opens == (engaged[engaged.response == "open"].message_id.nunique())
    assert a.conversions == bought.message_id.isin(messages.message_id[treated]).sum()
    # the measured effect is the arms' difference in the simulator's own draws, computed here independently
    converted = messages.message_id.isin(bought.message_id).to_numpy()
    direct = (converted[treated].mean() - converted[~treated].mean()) * treated.sum()
    assert a.incremental_conversions == pytest.approx(direct, rel=1e-9)
    # and the truth lies inside its interval (99.9%: one seeded draw, robust to the simulator's details);
    # most buyers would have bought anyway, so the effect is far below the arm's conversions
    wide = campaign_kpis(wh, "sim", alpha=0.001).table.set_index("arm").loc["A"]
    assert wide.incremental_conversions_low <= truth <= wide.incremental_conversions_high, (direct, truth)
    assert a.incremental_conversions < 0.5 * a.conversions
    assert a.delivered == treated.sum() and a.cost == pytest.approx(0.002 * treated.sum() + 1.0 * a.conversions)
    wh.close()
