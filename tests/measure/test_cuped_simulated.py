"""The simulator as referee of CUPED: over many random splits and response draws of one campaign on one
simulated world, the plain and the CUPED estimates of the revenue effect are both centred on the true
effect, and CUPED's spread is clearly smaller.

Outcome: each person's campaign revenue (the value of their purchases within the window);
covariate: their revenue in the 180 days before the campaign (purchase orders, from the pipeline's
features); truth: the mean over the people of ``true_revenue_uplift``, the revenue a message adds in
expectation.

In the simulator, as in a shop, most of a campaign window's revenue is organic: people alive at the end of
the history keep buying at their own BG/NBD rate whether messaged or not, and past revenue predicts that.
How much it can predict is bounded by the luck of a Poisson process over the window: this world's people
buy about once in three months, so in 14 days 6% buy, and even each person's true expected revenue (alive x
lambda x weeks x mean spend) would give a factor of only 1.17; in 56 days (18% buy) it would give 1.75.
Pre-period revenue gets about 1.05 and 1.15 of those.
"""

from __future__ import annotations

import numpy as np
import pytest

from jingzhun.measure.experiments import cuped
from jingzhun.sim.responses import respond, true_revenue_uplift

from tests.measure.test_uplift_simulated import campaign, simulated_shop

REPEATS = 200
#: outcome window in days -> the within-experiment variance factor the pre-period revenue must reach
#: (a covariate unrelated to the outcome gives 1 + 1/n: 1.00003 here)
WINDOWS = {14: 1.03, 56: 1.1}


def _revenue(responses, messages) -> np.ndarray:
    conv = responses[responses.response == "conversion"].groupby("message_id").value.sum()
    return messages.message_id.map(conv).fillna(0.0).to_numpy()


@pytest.mark.slow
@pytest.mark.parametrize("window_days", WINDOWS)
def test_cuped_is_unbiased_and_sharper_over_repeated_experiments(window_days):
    shop = simulated_shop()
    frame = shop.frame
    pre = frame.spend_180d.fillna(0.0).to_numpy()
    everyone = campaign(frame, np.ones(len(frame), dtype=bool), "cuped")
    true_effect = float(true_revenue_uplift(shop.persons, everyone, window_days=window_days).mean())

    plain, adjusted, factors = [], [], []
    for r in range(REPEATS):
        treated = np.random.default_rng(1_000 + r).random(len(frame)) < 0.5
        messages = everyone.assign(treated=treated)
        revenue = _revenue(respond(shop.persons, messages, seed=2_000 + r, window_days=window_days), messages)
        plain.append(revenue[treated].mean() - revenue[~treated].mean())
        y_adj, _, factor = cuped(revenue, pre)
        adjusted.append(y_adj[treated].mean() - y_adj[~treated].mean())
        factors.append(factor)
    plain, adjusted = np.array(plain), np.array(adjusted)
    ratio = plain.var(ddof=1) / adjusted.var(ddof=1)
    print(f"\nCUPED on {len(frame):,} simulated people, {REPEATS} experiments of {window_days} days: true effect "
          f"{true_effect:.3f} per person; plain mean {plain.mean():.3f} (sd {plain.std(ddof=1):.3f}), CUPED mean "
          f"{adjusted.mean():.3f} (sd {adjusted.std(ddof=1):.3f}); variance ratio {ratio:.3f} "
          f"(1 / (1 - rho^2) within an experiment: {np.mean(factors):.3f})")

    for estimates in (plain, adjusted):
        assert abs(estimates.mean() - true_effect) < 4 * estimates.std(ddof=1) / np.sqrt(REPEATS)
    # past revenue predicts the window's organic revenue: a real reduction within each experiment ...
    assert np.mean(factors) > WINDOWS[window_days]
    # ... which shows over the repeats: the CUPED estimates spread less than the plain ones
    assert ratio > 1.0
