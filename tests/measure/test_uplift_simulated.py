"""The simulator as referee of uplift: at a budget of a fifth of the people, does treating by predicted
uplift buy more true incremental conversions than treating by propensity?

A simulated shop goes through the pipeline (load, identities, features as of the window's end); a
randomised 50/50 SMS discount campaign is answered by the simulator's hidden truth
(``jingzhun.sim.responses``: people buy at their own rate whatever happens; a seen offer persuades or puts
off by response type). Uplift models learn from half the people; on the other half each policy
picks its top 20%, and the truth says what each pick really gains: the sum of ``true_uplift``.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from jingzhun.config import Settings
from jingzhun.measure.uplift import TwoModelUplift, XLearner, qini_coefficient
from jingzhun.models.frames import BEHAVIOUR_FEATURES, RECENT_FEATURES, buyers_as_of
from jingzhun.models.propensity import PropensityModel
from jingzhun.models.scoring import ScoreSettings, score_propensity
from jingzhun.pipeline.referee import person_profiles
from jingzhun.sim.responses import respond, true_uplift
from jingzhun.warehouse import Warehouse

from tests.models.conftest import SIM_END, SIM_SECRET, build_sim_shop

CUSTOMERS = 40_000
WORLD_SEED = 5
SENT_AT = pd.Timestamp("2025-01-06T12:00Z")    # Monday 20:00 in Shanghai, a week after the data end
FEATURES = [*BEHAVIOUR_FEATURES, *RECENT_FEATURES, "overdue"]
BUDGET = 0.2


@functools.lru_cache(maxsize=1)
def simulated_shop() -> SimpleNamespace:
    """The shop built once per test process: per profile (one true person each) its features, pre-period
    revenue, p_buy_90d and the truth of its person. Shared with test_cuped_simulated.py."""
    root = Path(tempfile.mkdtemp(prefix="uplift-sim-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    path, truth_dir = build_sim_shop(root, CUSTOMERS, seed=WORLD_SEED)
    return shop_at(path, truth_dir, root / "models")


def shop_at(path: Path, truth_dir: Path, models: Path) -> SimpleNamespace:
    with Warehouse.duckdb(path) as wh:
        features = buyers_as_of(wh, SIM_END, timezone="Asia/Shanghai")
        people = person_profiles(wh, truth_dir, secret=SIM_SECRET, settings=Settings())
        score_propensity(wh, SIM_END, directory=models,
                         settings=ScoreSettings(timezone="Asia/Shanghai", snapshots=2))
        p_buy = wh.execute(wh.table("scores").filter(lambda s: s.score == "p_buy_90d")).set_index("profile_id").value
    persons = pd.read_parquet(truth_dir / "persons.parquet")
    # profiles that hold one person and persons that landed in one profile: the others say nothing
    one = people.drop_duplicates("profile_id", keep=False).drop_duplicates("person_id", keep=False)
    frame = one.merge(features, on="profile_id").sort_values("profile_id", kind="stable").reset_index(drop=True)
    frame["p_buy_90d"] = frame.profile_id.map(p_buy).to_numpy()
    return SimpleNamespace(frame=frame, persons=persons)


def campaign(frame: pd.DataFrame, treated: np.ndarray, name: str, channel: str = "sms") -> pd.DataFrame:
    """The messages of a discount campaign to everyone in ``frame``, ``treated`` sent, the rest held out.

    SMS by default: read by about half the people, so the effect of the offer shows; an e-mail is opened by
    about one in eight at a fixed hour, and 20,000 people then teach a model little (see docs/measurement.md)."""
    return pd.DataFrame({"message_id": name + "-" + frame.person_id, "person_id": frame.person_id.to_numpy(),
                         "channel": channel, "offer_kind": "discount", "treated": treated, "sent_at": SENT_AT})


def converted(responses: pd.DataFrame, messages: pd.DataFrame) -> np.ndarray:
    hit = set(responses.loc[responses.response == "conversion", "message_id"])
    return messages.message_id.isin(hit).to_numpy().astype(np.int64)


def _top(score: np.ndarray, share: float) -> np.ndarray:
    k = int(round(share * len(score)))
    return np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")[:k]


@pytest.mark.slow
def test_uplift_policy_beats_propensity_at_a_fifth_of_the_budget():
    shop = simulated_shop()
    frame = shop.frame
    rng = np.random.default_rng(11)
    treated = rng.random(len(frame)) < 0.5
    messages = campaign(frame, treated, "spring")
    y = converted(respond(shop.persons, messages, seed=12), messages)
    truth = true_uplift(shop.persons, messages)          # were each person sent the SMS

    learn = rng.random(len(frame)) < 0.5
    judge = ~learn
    X = frame[FEATURES]
    t = treated.astype(np.int64)
    x_learner = XLearner(seed=0).fit(X[learn], t[learn], y[learn])
    two_model = TwoModelUplift(seed=0).fit(X[learn], t[learn], y[learn])
    responders = learn & treated                          # P(convert | treated, features): the response model
    response_model = PropensityModel(seed=0).fit(X[responders], y[responders])

    Xj, truth_j = X[judge].reset_index(drop=True), truth[judge]
    scores = {
        "uplift (X-learner)": x_learner.predict(Xj),
        "uplift (two-model)": two_model.predict(Xj),
        "response model P(convert | treated)": response_model.predict_proba(Xj),
        "purchase propensity p_buy_90d": frame.p_buy_90d[judge].to_numpy(),
        "truth (best possible)": truth_j,
    }
    gained = {name: float(truth_j[_top(s, BUDGET)].sum()) for name, s in scores.items()}
    at_random = BUDGET * float(truth_j.sum())
    qini = {name: qini_coefficient(s, treated[judge], y[judge]) for name, s in scores.items()
            if not name.startswith("truth")}
    n_pick = int(round(BUDGET * judge.sum()))
    print(f"\nuplift vs propensity on {judge.sum():,} simulated people (learnt from {learn.sum():,}; observed "
          f"uplift {y[treated].mean() - y[~treated].mean():+.4f}), true incremental conversions of the top "
          f"{n_pick:,} (20%):")
    for name, value in gained.items():
        extra = f", held-out Qini {qini[name]:+.5f}" if name in qini else ""
        print(f"  {name:40s} {value:8.1f}{extra}")
    print(f"  {'random 20%':40s} {at_random:8.1f}")

    assert judge.sum() > 15_000
    propensity = max(gained["response model P(convert | treated)"], gained["purchase propensity p_buy_90d"])
    assert gained["uplift (X-learner)"] > 1.3 * propensity
    assert gained["uplift (X-learner)"] > 1.2 * at_random
    assert gained["uplift (two-model)"] > propensity
    assert gained["truth (best possible)"] >= gained["uplift (X-learner)"]
