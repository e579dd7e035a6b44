import json

import pytest
import yaml

from jingzhun.errors import MappingError
from jingzhun.ingest import Concat, FromColumn, Lookup, SourceSpec, load_source_spec, mapping_path

MAPPING = """
source: shop            # a comment
timezone: Asia/Shanghai
files:
  - path: lines.csv
    table: order_lines
    line_no: auto
    returns: {order_id_prefix: "C"}
    columns:
      order_id: Invoice
      quantity: {from: Qty, type: float64}
      unit_price: Price
      product_id: {lookup: catalogue, on: {Sku: sku}, take: code}
      _key: {concat: [Invoice, Sku], sep: "-"}
    orders:
      columns:
        user_id: Customer
        ordered_at: {from: Date, format: "%Y-%m-%d"}
  - path: catalogue.csv
    name: catalogue
    table: null
"""


def test_round_trips_to_yaml_and_json(tmp_path):
    (tmp_path / "s.yaml").write_text(MAPPING)
    spec = SourceSpec.from_yaml(tmp_path / "s.yaml")
    assert isinstance(spec.files[0].columns["order_id"], FromColumn)
    assert isinstance(spec.files[0].columns["product_id"], Lookup)
    assert isinstance(spec.files[0].columns["_key"], Concat)
    again = SourceSpec.parse(yaml.safe_load(spec.to_yaml()))
    assert again == spec and again.fingerprint == spec.fingerprint
    assert SourceSpec.parse(json.loads(spec.to_json())) == spec
    assert spec.resolve_path(spec.files[0]) == tmp_path / "lines.csv"


def test_fingerprint_ignores_order_comments_and_description():
    data = yaml.safe_load(MAPPING.replace('on: {Sku: sku}', '"on": {Sku: sku}'))
    a = SourceSpec.parse(data)
    shuffled = dict(reversed(list(data.items())))
    shuffled["description"] = "another description"
    shuffled["files"][0] = dict(reversed(list(data["files"][0].items())))
    assert SourceSpec.parse(shuffled).fingerprint == a.fingerprint
    data["files"][0]["columns"]["unit_price"] = "OtherPrice"
    assert SourceSpec.parse(data).fingerprint != a.fingerprint


@pytest.mark.parametrize("bad, message", [
    ({"tabel": "orders"}, "unknown key 'tabel'"),
    ({"columns": {"order_id": {"from": "x", "fromat": "%Y"}}}, "unknown key 'fromat'"),
    ({"columns": {"order_idd": "x"}}, "order_idd"),
    ({"columns": {"order_id": {"frm": "x"}}}, "from, value, concat, lookup, json"),
    ({"table": "profiles"}, "not a canonical source table"),
])
def test_a_typo_is_an_error_naming_the_key_and_file(bad, message):
    entry = {"path": "a.csv", "table": "orders", **bad}
    with pytest.raises(MappingError) as err:
        SourceSpec.parse({"source": "s", "files": [entry]}, origin="shop.yaml")
    assert message in str(err.value) and "shop.yaml" in str(err.value)


def test_lookup_must_name_a_file():
    entry = {"path": "a.csv", "table": "products",
             "columns": {"product_id": {"lookup": "nowhere", "on": {"a": "b"}, "take": "c"}}}
    with pytest.raises(MappingError, match="no file has that name"):
        SourceSpec.parse({"source": "s", "files": [entry]})


def test_env_vars_expand_and_datasets_default(monkeypatch, tmp_path):
    spec = SourceSpec.parse({"source": "s", "files": [{"path": "${MY_DIR}/x.csv", "table": "stores"}]})
    monkeypatch.setenv("MY_DIR", str(tmp_path))
    assert spec.resolve_path(spec.files[0]) == tmp_path / "x.csv"
    monkeypatch.delenv("MY_DIR")
    with pytest.raises(MappingError, match="MY_DIR"):
        spec.resolve_path(spec.files[0])


@pytest.mark.parametrize("name", ["online_retail", "olist", "cdnow"])
def test_shipped_mappings_are_valid(name):
    spec = load_source_spec(name)
    assert spec.source == name and spec == load_source_spec(mapping_path(name))
