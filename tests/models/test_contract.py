"""The contract every registered model keeps (scikit-learn's common tests, in small).

A model added to jingzhun.models.MODELS gets these checks by being registered; its inputs come
from `model_inputs` in conftest.py, keyed by the model's `input_names`, and the inputs it must refuse
from `invalid_inputs`. Models fitted by maximum likelihood (ParametricModel) have a few more checks:
weights, the log-likelihood, scalar predictions and the BTYD input rules.
"""

from __future__ import annotations

import numpy as np
import pytest

from jingzhun.errors import InputError, NotFittedError
from jingzhun.models import MODELS, ModelInputError, ParametricModel, load_model

MODEL_CLASSES = list(MODELS.values())
ids = [cls.name for cls in MODEL_CLASSES]


def _parametric_only(model_cls):
    if not issubclass(model_cls, ParametricModel):
        pytest.skip(f"{model_cls.__name__} is not fitted by maximum likelihood")


def _predict_inputs(model_cls, inputs):
    return {k: inputs[k] for k in (model_cls.predict_input_names or model_cls.input_names)}


@pytest.fixture(params=MODEL_CLASSES, ids=ids)
def model_cls(request):
    return request.param


@pytest.fixture
def inputs(model_cls, synthetic):
    return synthetic.model_inputs(model_cls)


def test_registry_names_match(model_cls):
    assert MODELS[model_cls.name] is model_cls
    assert model_cls.input_names
    assert set(model_cls.predict_input_names or ()) <= set(model_cls.input_names)


def test_constructor_only_stores_parameters(model_cls):
    model = model_cls()
    assert vars(model) == model.get_params()
    assert not [k for k in vars(model) if k.endswith("_")]
    clone = model_cls(**model.get_params())
    assert clone.get_params() == model.get_params()
    assert "not" not in repr(model) and model_cls.__name__ in repr(model)


def test_fit_returns_self_and_sets_state(model_cls, inputs):
    model = model_cls()
    assert model.fit(**inputs) is model
    assert model.is_fitted and all(np.isfinite(v) for v in model.params_.values())
    assert model.n_customers_ == len(next(iter(inputs.values())))
    assert "fitted" in repr(model)


def test_parameters_of_a_likelihood_model(model_cls, inputs):
    _parametric_only(model_cls)
    model = model_cls().fit(**inputs)
    assert set(model.params_) == set(model_cls.param_names)
    assert all(np.isfinite(v) and v > 0 for v in model.params_.values())
    assert np.isfinite(model.log_likelihood_)


def test_refit_is_deterministic(model_cls, inputs):
    first = model_cls().fit(**inputs)
    again = model_cls().fit(**inputs)
    assert again.params_ == first.params_
    assert again.fit(**inputs).params_ == first.params_
    assert np.array_equal(again.predict(**_predict_inputs(model_cls, inputs)),
                          first.predict(**_predict_inputs(model_cls, inputs)))


def test_weights_equal_repeated_rows(model_cls, inputs):
    """Fitting on distinct rows with counts as weights equals fitting on the repeated rows."""
    _parametric_only(model_cls)
    half = {k: v[:300] for k, v in inputs.items()}
    doubled = {k: np.concatenate([v, v]) for k, v in half.items()}
    weighted = model_cls().fit(**half, weights=np.full(300, 2.0))
    repeated = model_cls().fit(**doubled)
    for name in model_cls.param_names:
        assert weighted.params_[name] == pytest.approx(repeated.params_[name], rel=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-9)


def test_log_likelihood_is_the_sum_over_customers(model_cls, inputs):
    """The compressed fit reports the plain per-customer sum (the reference, without compression)."""
    _parametric_only(model_cls)
    model = model_cls().fit(**inputs)
    per_customer = model._loglik(model._params_array(), *inputs.values())
    assert model.log_likelihood_ == pytest.approx(per_customer.sum(), rel=1e-12)


def test_save_load_round_trip(model_cls, inputs, tmp_path):
    parametric = issubclass(model_cls, ParametricModel)
    model = model_cls().fit(**inputs, **({"compute_se": True} if parametric else {}))
    path = model.save(tmp_path / "model.json")
    loaded = model_cls.load(path)
    assert loaded.params_ == model.params_
    if parametric:
        assert loaded.standard_errors_ == model.standard_errors_
        assert loaded.log_likelihood_ == model.log_likelihood_
    assert loaded.get_params() == model.get_params()
    assert np.array_equal(loaded.predict(**_predict_inputs(model_cls, inputs)),
                          model.predict(**_predict_inputs(model_cls, inputs)))
    assert type(load_model(path)) is model_cls
    assert b"pickle" not in path.read_bytes() and path.read_text(encoding="utf-8").lstrip().startswith("{")


def test_load_rejects_another_model(model_cls, inputs, tmp_path):
    other = next(cls for cls in MODEL_CLASSES if cls is not model_cls)
    path = model_cls().fit(**inputs).save(tmp_path / "model.json")
    with pytest.raises(InputError, match=model_cls.__name__):
        other.load(path)
    (tmp_path / "junk.json").write_text("[1, 2]")
    with pytest.raises(InputError):
        model_cls.load(tmp_path / "junk.json")


def test_predict_before_fit_raises(model_cls, inputs, tmp_path):
    model = model_cls()
    with pytest.raises(NotFittedError):
        model.predict(**_predict_inputs(model_cls, inputs))
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "never.json")


def test_scalar_in_scalar_out(model_cls, inputs):
    _parametric_only(model_cls)
    model = model_cls().fit(**inputs)
    one = {k: float(v[7]) for k, v in inputs.items()}
    value = model.predict(**one)
    assert isinstance(value, float)
    assert value == pytest.approx(model.predict(**inputs)[7], rel=1e-12)


def _broken(inputs, name, index, value):
    out = {k: v.copy() for k, v in inputs.items()}
    out[name][index] = value
    return out


def test_bad_values_are_counted_and_located(model_cls, inputs, synthetic):
    cases = synthetic.invalid_inputs(model_cls, inputs)
    assert cases
    for bad, words in cases:
        with pytest.raises(ModelInputError, match=rf"{words}.* for 3 customers: positions 4, 17, 230"):
            model_cls().fit(**bad)


def test_mismatched_lengths(model_cls, inputs):
    bad = dict(inputs)
    first = model_cls.input_names[0]
    bad[first] = bad[first][:-1]
    with pytest.raises(ModelInputError, match="different lengths"):
        model_cls().fit(**bad)


def test_non_integer_frequency(model_cls, inputs):
    if "frequency" not in model_cls.input_names:
        pytest.skip("no frequency")
    bad = _broken(inputs, "frequency", [2], 1.5)
    with pytest.raises(ModelInputError, match="whole number for 1 customer: positions 2"):
        model_cls().fit(**bad)


def test_recency_larger_than_t(model_cls, inputs):
    if "recency" not in model_cls.input_names:
        pytest.skip("no recency")
    bad = {k: v.copy() for k, v in inputs.items()}
    rows = [4, 17, 230]
    bad["frequency"][rows] = 2
    bad["recency"][rows] = bad["T"][rows] + 1
    with pytest.raises(ModelInputError, match="recency is larger than T for 3 customers: positions 4, 17, 230"):
        model_cls().fit(**bad)
    model = model_cls().fit(**inputs)
    with pytest.raises(ModelInputError, match="recency is larger than T for 3 customers"):
        model.predict(**bad)
