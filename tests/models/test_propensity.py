"""Purchase propensity: calibration against a known truth, labels against pandas, and no leakage."""

from __future__ import annotations

from datetime import timedelta

import ibis
import numpy as np
import pandas as pd
import pytest

from jingzhun.models import ModelInputError
from jingzhun.models.evaluation import auc, expected_calibration_error
from jingzhun.models.frames import moment, propensity_frame
from jingzhun.models.propensity import PropensityModel, fit_propensity, propensity_features
from jingzhun.profile.keys import keyed_orders

CUTOFF = "2024-07-01T16:00:00Z"


@pytest.mark.parametrize("calibration", ["platt", "isotonic"])
def test_calibrated_probabilities_match_the_truth(synthetic, calibration):
    """People whose true probability is known: the model's probabilities on new people sit on it."""
    features, label, _ = synthetic.simulate_buyers(20_000, seed=1)
    test, test_label, truth = synthetic.simulate_buyers(20_000, seed=2)
    model = PropensityModel(calibration=calibration).fit(features, label)
    p = model.predict_proba(test)
    ece = expected_calibration_error(test_label, p)
    assert ece < 0.02, ece
    assert np.abs(p - truth).mean() < 0.04
    # the best possible ranking is the truth's; the model comes close
    assert auc(test_label, p) > auc(test_label, truth) - 0.01
    if calibration == "platt":  # Platt is monotone: the ranking of the trees is kept exactly
        assert auc(test_label, p) == pytest.approx(auc(test_label, model.predict_uncalibrated(test)), abs=1e-12)


def test_calibration_corrects_a_skewed_model(synthetic):
    """Trees trained with positives weighted up over-predict; the calibrator brings them back."""
    features, label, _ = synthetic.simulate_buyers(20_000, seed=3)
    test, test_label, _ = synthetic.simulate_buyers(20_000, seed=4)
    model = PropensityModel()
    model._lightgbm_params = lambda: {**PropensityModel._lightgbm_params(model), "scale_pos_weight": 4.0}
    model.fit(features, label)
    raw = expected_calibration_error(test_label, model.predict_uncalibrated(test))
    calibrated = expected_calibration_error(test_label, model.predict_proba(test))
    assert raw > 0.1 and calibrated < 0.02, (raw, calibrated)


def test_folds_keep_a_person_together(synthetic):
    features, label, _ = synthetic.simulate_buyers(3_000, seed=5)
    groups = np.repeat(np.arange(1_000), 3)
    folds = PropensityModel()._folds(label, groups)
    assert (folds.reshape(-1, 3) == folds[::3, None]).all()
    assert sorted(np.unique(folds)) == [0, 1, 2, 3]


def test_one_class_is_refused(synthetic):
    features, _, _ = synthetic.simulate_buyers(500, seed=6)
    with pytest.raises(ModelInputError, match="labels are all 0"):
        PropensityModel().fit(features, np.zeros(500))
    with pytest.raises(ModelInputError, match="lack the column"):
        PropensityModel().fit(features, np.arange(500) % 2).predict(features.drop(columns="noise"))


def _pandas_buyers(wh, start, end, category=None) -> set[str]:
    """Who bought in [start, end), computed in pandas from the keyed orders (and lines, products)."""
    orders = wh.execute(keyed_orders(wh).select("profile_id", "source", "order_id", "ordered_at", "status",
                                                "is_return", "amount"))
    buys = orders[orders.profile_id.notna() & ~orders.is_return & (orders.status.str.lower() != "cancelled")
                  & (orders.amount > 0) & (orders.ordered_at >= pd.Timestamp(start))
                  & (orders.ordered_at < pd.Timestamp(end))]
    if category is not None:
        lines = wh.execute(wh.table("order_lines").select("source", "order_id", "product_id", "amount", "is_return"))
        products = wh.execute(wh.table("products").select("source", "product_id", "category"))
        lines = lines[~lines.is_return & (lines.amount > 0)].merge(products, on=["source", "product_id"])
        lines = lines[lines.category == category]
        buys = buys.merge(lines[["source", "order_id"]].drop_duplicates(), on=["source", "order_id"])
    return set(buys.profile_id)


def test_labels_match_pandas(shop):
    start = moment(CUTOFF)
    frame = propensity_frame(shop, start, 90, timezone="Asia/Shanghai")
    bought = _pandas_buyers(shop, start, start + timedelta(days=90))
    assert frame.profile_id.is_monotonic_increasing and frame.profile_id.is_unique
    assert (frame.frequency > 0).all()
    assert set(frame.profile_id[frame.label == 1]) == bought & set(frame.profile_id)
    assert 0.05 < frame.label.mean() < 0.95
    category = shop.execute(shop.table("products").category.mode())
    by_category = propensity_frame(shop, start, 90, category=category, timezone="Asia/Shanghai")
    want = _pandas_buyers(shop, start, start + timedelta(days=90), category=category)
    assert set(by_category.profile_id[by_category.label == 1]) == want & set(by_category.profile_id)
    assert 0 < by_category.label.sum() < frame.label.sum()
    assert by_category.category_share.between(0, 1).all() and (by_category.category_share > 0).any()


def _rewrite_the_future(wh, cutoff) -> None:
    """Change everything at or after the cut-off: amounts tripled, a tenth of those orders dropped, and
    200 new orders (copies of past ones) for people who did not buy after it."""
    at = ibis.literal(moment(cutoff), type="timestamp('UTC')")
    orders = wh.table("orders")
    later = orders.ordered_at >= at
    dropped = later & (orders.order_id.length() % 10 == 3)
    changed = orders.filter(~dropped).mutate(amount=ibis.ifelse(later, orders.amount * 3, orders.amount))
    new = orders.filter(~later).order_by("order_id").limit(200)
    new = new.mutate(order_id="future-" + new.order_id, ordered_at=at + ibis.interval(days=5))
    staged = wh.stage(wh.conform("orders", changed).union(wh.conform("orders", new)))
    wh.replace("orders", staged)


def test_no_row_at_or_after_the_cutoff_reaches_the_features(shop):
    before = propensity_frame(shop, CUTOFF, 90, timezone="Asia/Shanghai")
    _rewrite_the_future(shop, CUTOFF)
    after = propensity_frame(shop, CUTOFF, 90, timezone="Asia/Shanghai")
    pd.testing.assert_frame_equal(propensity_features(after), propensity_features(before), check_exact=True)
    assert (after.profile_id == before.profile_id).all()
    assert (after.label != before.label).any()  # the future did change: only the labels saw it


def test_a_fit_at_the_cutoff_ignores_the_future(shop):
    """The fitted model is bit-identical whatever happens at or after the cut-off."""
    model, report = fit_propensity(shop, CUTOFF, 90, timezone="Asia/Shanghai", snapshots=2, evaluate=False)
    _rewrite_the_future(shop, CUTOFF)
    again, report_again = fit_propensity(shop, CUTOFF, 90, timezone="Asia/Shanghai", snapshots=2, evaluate=False)
    assert again.booster_.model_to_string() == model.booster_.model_to_string()
    assert again.calibrator_ == model.calibrator_
    assert report_again["snapshots"] == report["snapshots"]
    # the snapshots' label windows end by the cut-off
    assert [s["cutoff"] for s in report["snapshots"]] == [(moment(CUTOFF) - timedelta(days=d)).isoformat()
                                                           for d in (120, 90)]


@pytest.mark.slow
def test_fit_propensity_reports_a_test_against_rfm(shop):
    model, report = fit_propensity(shop, "2024-09-01T16:00:00Z", 90, timezone="Asia/Shanghai", snapshots=2)
    test = report["test"]
    assert set(test) == {"model", "model_uncalibrated_ece", "rfm_logistic", "rfm_score"}
    assert 0.5 < test["model"]["auc"] < 1 and 0 <= test["model"]["ece"] < 0.2
    assert len(test["model"]["lift"]) == 10 and report["n_train"] > 1_000


def test_steady_features_forget_the_order_of_summation():
    from jingzhun.models.frames import steady

    a = np.array([0.1 + 0.2, 1e6 / 3, -2.5e-7 / 3, 0.0, np.nan])
    b = np.array([0.3, 333_333.3333333333, -8.333333333333333e-08, 0.0, np.nan])
    assert (a != b)[:3].any()  # the last bits differ
    np.testing.assert_array_equal(steady(a), steady(b))
    assert steady(np.array([123.456]))[0] == 123.456
