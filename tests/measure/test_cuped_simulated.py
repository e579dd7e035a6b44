"""The simulator as referee of CUPED: over many random splits and response draws of one campaign on one
simulated world, the plain and the CUPED estimates of the revenue effect are both centred on the true
effect, and CUPED's spread is smaller.

Outcome: each person's campaign revenue (the value of their conversions within the 14-day window);
covariate: their revenue in the 180 days before the campaign (purchase orders, from the pipeline's
features); truth: the mean over the people of ``true_uplift x mean_spend``, the revenue a message adds
in expectation.

The simulator draws a campaign's conversions from each person's response type, which leans on their
purchase rate but is not their purchase process; past revenue therefore predicts campaign revenue only
weakly (correlation about 0.1) and CUPED's gain is about 1%, too small to show against the sampling error
of variances from 200 experiments. So the test checks that the covariate carries information (the
reduction within each experiment), that CUPED costs no precision over the repeats, and no bias.
"""

from __future__ import annotations

import numpy as np
import pytest

from jingzhun.measure.experiments import cuped
from jingzhun.sim.responses import respond, true_uplift

from tests.measure.test_uplift_simulated import campaign, simulated_shop

REPEATS = 200


def _revenue(responses, messages) -> np.ndarray:
    conv = responses[responses.response == "conversion"].groupby("message_id").value.sum()
    return messages.message_id.map(conv).fillna(0.0).to_numpy()


@pytest.mark.slow
def test_cuped_is_unbiased_and_sharper_over_repeated_experiments():
    shop = simulated_shop()
    frame = shop.frame
    pre = frame.spend_180d.fillna(0.0).to_numpy()
    everyone = campaign(frame, np.ones(len(frame), dtype=bool), "cuped")
    spend = shop.persons.set_index("person_id").mean_spend.loc[frame.person_id].to_numpy()
    true_effect = float((true_uplift(shop.persons, everyone) * spend).mean())

    plain, adjusted, factors = [], [], []
    for r in range(REPEATS):
        treated = np.random.default_rng(1_000 + r).random(len(frame)) < 0.5
        messages = everyone.assign(treated=treated)
        revenue = _revenue(respond(shop.persons, messages, seed=2_000 + r), messages)
        plain.append(revenue[treated].mean() - revenue[~treated].mean())
        y_adj, _, factor = cuped(revenue, pre)
        adjusted.append(y_adj[treated].mean() - y_adj[~treated].mean())
        factors.append(factor)
    plain, adjusted = np.array(plain), np.array(adjusted)
    ratio = plain.var(ddof=1) / adjusted.var(ddof=1)
    print(f"\nCUPED on {len(frame):,} simulated people, {REPEATS} experiments: true effect {true_effect:.3f} "
          f"per person; plain mean {plain.mean():.3f} (sd {plain.std(ddof=1):.3f}), CUPED mean "
          f"{adjusted.mean():.3f} (sd {adjusted.std(ddof=1):.3f}); variance ratio {ratio:.3f} "
          f"(1 / (1 - rho^2) within an experiment: {np.mean(factors):.3f})")

    for estimates in (plain, adjusted):
        assert abs(estimates.mean() - true_effect) < 4 * estimates.std(ddof=1) / np.sqrt(REPEATS)
    # past revenue carries information: a covariate unrelated to the outcome gives a factor of 1 + 1/n
    assert np.mean(factors) > 1.005
    # and over the repeats CUPED is no less precise, give or take the sampling error of the comparison
    assert ratio > 0.95
