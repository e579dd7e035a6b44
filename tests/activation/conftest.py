"""A small population for delivery tests: people with identifiers, vault entries and consent histories.

Person ``i`` has a user id, an e-mail ``person<i>@example.com`` and a phone, keyed with the test
secret exactly as a load would key them, so consent records and vault lookups go through the real
identity map.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from jingzhun.activation import Links, MessageTemplate, TemplateSet
from jingzhun.privacy import key_for
from jingzhun.warehouse import Warehouse

SECRET = "s3cret-for-tests"
T0 = pd.Timestamp("2024-03-01 09:00", tz="UTC")
BASE_URL = "https://t.shop.example"


def hours(h: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=h)


def pid(i: int) -> str:
    return f"p{i:05d}"


def email_of(i: int) -> str:
    return f"person{i}@example.com"


def ids_of(i: int) -> dict[str, str]:
    return {
        "user_id": key_for("user_id", f"u{i}", SECRET),
        "email": key_for("email", email_of(i), SECRET),
        "phone": key_for("phone", f"+86138{i:08d}", SECRET),
    }


class Population:
    """Writes people and consent records into a warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.wh = warehouse

    def add(self, n: int, *, shared_email: tuple[int, ...] = (), without_email: tuple[int, ...] = ()) -> None:
        """People 0..n-1 (identity_map and vault); the e-mails of ``shared_email`` are flagged shared."""
        im, vault = [], []
        for i in range(n):
            for kind, key in ids_of(i).items():
                if kind == "email" and i in without_email:
                    continue
                shared = i in shared_email and kind == "email"
                im.append({"kind": kind, "key": key, "profile_id": f"s{i}" if shared else pid(i), "is_shared": shared})
                raw = {"user_id": f"u{i}", "email": email_of(i), "phone": f"+86138{i:08d}"}[kind]
                vault.append({"key": key, "kind": kind, "value": raw, "first_seen_at": T0 - pd.Timedelta(days=30),
                              "source": "crm"})
        self.wh.append("identity_map", pd.DataFrame(im))
        self.wh.append("pii_vault", pd.DataFrame(vault))

    def consent(self, records: list[tuple]) -> None:
        """Records as (person, identifier kind, channel, status, at[, purpose])."""
        rows = []
        for rec in records:
            i, kind, channel, status, at = rec[:5]
            purpose = rec[5] if len(rec) > 5 else "marketing"
            rows.append({kind: ids_of(i)[kind], "channel": channel, "purpose": purpose, "status": status,
                         "recorded_at": at, "source": "crm", "load_id": "l1", "quality_flags": ""})
        self.wh.append("consents", pd.DataFrame(rows))


def duckdb_warehouse(tmp_path: Path):
    """For modules whose subject is a connector or a template rather than the engine: they override the
    ``warehouse`` fixture with this, so the Spark lane does not repeat them."""
    wh = Warehouse.duckdb(tmp_path / "warehouse.duckdb")
    wh.ensure_schema()
    yield wh
    wh.close()


@pytest.fixture
def population(warehouse) -> Population:
    return Population(warehouse)


@pytest.fixture
def links() -> Links:
    return Links(BASE_URL, SECRET)


EMAIL = MessageTemplate(
    name="spring_email", channel="email",
    subject="{{ offer.title }} for you in {{ profile.city }}",
    text="Hello from {{ profile.city }}!\n{{ offer.title }}: {{ track(offer.url) }}\n"
         "{% for r in recommendations %}- {{ r.name }} {{ track(r.url) }}\n{% endfor %}"
         "Unsubscribe: {{ unsubscribe_url }}\n",
    html="<html><body><p>Hello from {{ profile.city }}!</p><a href=\"{{ track(offer.url) }}\">{{ offer.title }}</a>"
         "<ul>{% for r in recommendations %}<li>{{ r.name }}</li>{% endfor %}</ul>"
         "<a href=\"{{ unsubscribe_url }}\">unsubscribe</a></body></html>",
)
SMS = MessageTemplate(name="spring_sms", channel="sms", text="{{ offer.title }} {{ track(offer.url) }} TD退订")


@pytest.fixture
def templates() -> TemplateSet:
    return TemplateSet([EMAIL, SMS])


def plan(people, *, campaign="c1", channel="email", template="spring_email", arm="A", step="1",
         scheduled_at=None, offer=None, recommendations=None) -> pd.DataFrame:
    offer = offer or {"title": "Spring sale", "url": "https://shop.example/spring?utm=1"}
    return pd.DataFrame({
        "campaign_id": campaign, "profile_id": [pid(i) for i in people], "arm": arm, "channel": channel,
        "template": template, "step": step, "scheduled_at": scheduled_at or T0,
        "offer": [offer] * len(people), "recommendations": [recommendations or []] * len(people),
    })


def fields(warehouse: Warehouse, n: int):
    """A profile fields table (city per person) staged in the warehouse."""
    return warehouse.stage(pd.DataFrame({"profile_id": [pid(i) for i in range(n)],
                                         "city": [["Shanghai", "Chengdu", "Hangzhou"][i % 3] for i in range(n)]}))
