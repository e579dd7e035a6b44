"""Consent state at a moment, worked out by hand for each rule, and an opt-out stopping a campaign's later
step: on DuckDB and on PySpark."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from jingzhun.activation import FileConnector, consent_state, consented, deliver, delivery_id_for, record_response
from jingzhun.activation import token_from_url
from tests.activation.conftest import SECRET, fields, hours, pid, plan

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HISTORY = [
    (0, "email", "email", "granted", hours(0)),
    (1, "email", "email", "granted", hours(0)), (1, "email", "email", "denied", hours(2)),
    (2, "email", "all", "denied", hours(0)), (2, "user_id", "email", "granted", hours(1)),
    (3, "email", "email", "granted", hours(0)), (3, "phone", "all", "denied", hours(1)),
    (4, "email", "email", "granted", hours(0)), (4, "phone", "email", "denied", hours(0)),
    (5, "phone", "email", "granted", hours(0)),
    (6, "email", "email", "granted", hours(0), "profiling"),
    (7, "email", "email", "granted", hours(5)),
    (8, "email", "email", "granted", hours(0)),   # person 8's e-mail is shared: attaches nobody
    (9, "user_id", "all", "granted", hours(0)), (9, "user_id", "sms", "denied", hours(1)),
]


def allowed(warehouse, channel, at, purpose="marketing") -> set[str]:
    everyone = ibis.memtable(pd.DataFrame({"profile_id": [pid(i) for i in range(11)]}))
    return set(warehouse.execute(consented(warehouse, everyone, channel, at, purpose)).profile_id)


def test_latest_record_on_the_channel_or_all_wins(warehouse, population):
    population.add(11, shared_email=(8,))
    population.consent(HISTORY)
    # at hour 1.5: 0 granted; 1 not yet withdrawn; 2 e-mail grant after "all" denial; 3 "all" denial after
    # the e-mail grant; 4 grant and denial at one instant; 5 through the phone; 9 through "all"
    assert allowed(warehouse, "email", hours(1.5)) == {pid(0), pid(1), pid(2), pid(5), pid(9)}
    # 1 withdrew at hour 2; 7 granted at hour 5 (at or before the moment counts)
    assert allowed(warehouse, "email", hours(5)) == {pid(0), pid(2), pid(5), pid(7), pid(9)}
    assert allowed(warehouse, "email", hours(-1)) == set()
    # SMS: only 9 granted "all", and withdrew SMS alone at hour 1; 2's e-mail grant does not open SMS
    assert allowed(warehouse, "sms", hours(0.5)) == {pid(9)}
    assert allowed(warehouse, "sms", hours(1.5)) == set()
    assert allowed(warehouse, "push", hours(1.5)) == {pid(9)}
    assert allowed(warehouse, "email", hours(1.5), purpose="profiling") == {pid(6)}


def test_consented_keeps_the_audience_columns(warehouse, population):
    population.add(3)
    population.consent([(1, "email", "email", "granted", hours(0))])
    audience = ibis.memtable(pd.DataFrame({"profile_id": [pid(0), pid(1), pid(2)], "score": [0.1, 0.2, 0.3]}))
    got = warehouse.execute(consented(warehouse, audience, "email", hours(1)))
    assert got.to_dict("records") == [{"profile_id": pid(1), "score": 0.2}]


def test_state_lists_the_standing_record_per_channel(warehouse, population):
    population.add(11, shared_email=(8,))
    population.consent(HISTORY)
    state = warehouse.execute(consent_state(warehouse, hours(3), purpose="marketing"))
    got = {(r.profile_id, r.channel): bool(r.granted) for r in state.itertuples()}
    # person 7's grant comes later, 6's is for profiling, 8's e-mail is shared: none of them stands at hour 3
    assert got == {
        (pid(0), "email"): True, (pid(1), "email"): False, (pid(2), "all"): False, (pid(2), "email"): True,
        (pid(3), "email"): True, (pid(3), "all"): False, (pid(4), "email"): False, (pid(5), "email"): True,
        (pid(9), "all"): True, (pid(9), "sms"): False,
    }


def _exported(folder) -> pd.DataFrame:
    return pd.concat(pd.read_csv(f, encoding="utf-8-sig", dtype=str) for f in sorted(folder.glob("*.csv")))


def test_an_opt_out_between_two_steps_stops_the_later_step(warehouse, population, links, templates, tmp_path):
    population.add(3)
    population.consent([(i, "email", "email", "granted", hours(-1)) for i in range(3)])
    out = tmp_path / "out"
    send = dict(templates=templates, links=links, fields=fields(warehouse, 3),
                connectors={"email": FileConnector(out, "mailhouse")})
    first = deliver(warehouse, plan([0, 1, 2], step="1"), clock=lambda: hours(0).to_pydatetime(), **send)
    # person 0 follows the unsubscribe link of step 1's message; person 1 withdraws at the call centre
    message = _exported(out).set_index("profile_id").loc[pid(0), "text"]
    unsubscribe = next(w for w in message.split() if "/u/" in w)
    record_response(warehouse, token_from_url(unsubscribe), SECRET, at=hours(1))
    population.consent([(1, "phone", "all", "denied", hours(2))])
    second = deliver(warehouse, plan([0, 1, 2], step="2"), clock=lambda: hours(3).to_pydatetime(), **send)
    assert first["sent"] == 3
    assert second["sent"] == 1 and second["suppressed_no_consent"] == 2
    step_2 = {delivery_id_for("c1", "2", pid(i), "email"): i for i in range(3)}
    assert [step_2[d] for d in _exported(out).delivery_id if d in step_2] == [2]
