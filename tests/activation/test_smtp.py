"""E-mail through a real SMTP server (aiosmtpd on a free localhost port)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from jingzhun.activation import SmtpConnector, deliver, delivery_id_for, token_from_url, verify_token
from tests.activation.conftest import SECRET, duckdb_warehouse, email_of, fields, hours, pid, plan
from tests.activation.servers import SmtpServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def warehouse(tmp_path):
    """DuckDB only: the engine is not the subject here (test_consent runs deliver on both engines)."""
    yield from duckdb_warehouse(tmp_path)

RECS = [{"name": "Green tea & honey <500g>", "url": "https://shop.example/p/tea"},
        {"name": "Teapot", "url": "https://shop.example/p/pot"}]


def connector(server: SmtpServer) -> SmtpConnector:
    return SmtpConnector("127.0.0.1", server.port, sender="Shop News <news@shop.example>", timeout=5)


def urls(text: str) -> list[str]:
    return re.findall(r"https://t\.shop\.example/[a-z]/[A-Za-z0-9_\-.]+", text)


def test_one_message_per_consenting_person_with_headers_links_and_personalisation(warehouse, population, links,
                                                                                   templates):
    population.add(3)
    population.consent([(0, "email", "email", "granted", hours(-1)), (1, "user_id", "all", "granted", hours(-1)),
                        (2, "email", "email", "denied", hours(-1))])
    with SmtpServer() as server:
        report = deliver(warehouse, plan([0, 1, 2], recommendations=RECS), templates=templates,
                         connectors={"email": connector(server)}, links=links, fields=fields(warehouse, 3),
                         clock=lambda: hours(0).to_pydatetime())
        received = server.mailbox.received
    assert report["sent"] == 2 and report["suppressed_no_consent"] == 1
    assert sorted(rcpts[0] for _, rcpts, _ in received) == [email_of(0), email_of(1)]
    for mail_from, rcpts, msg in received:
        i = int(re.search(r"person(\d+)@", rcpts[0]).group(1))
        did = delivery_id_for("c1", "1", pid(i), "email")
        assert len(rcpts) == 1 and mail_from == "news@shop.example"
        assert msg["To"] == email_of(i) and msg["From"] == "Shop News <news@shop.example>"
        assert msg["Message-ID"] == f"<{did}@shop.example>"
        assert msg["X-Jingzhun-Delivery"] == did
        city = ["Shanghai", "Chengdu", "Hangzhou"][i]
        assert msg["Subject"] == f"Spring sale for you in {city}"
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert f"Hello from {city}!" in text and f"<p>Hello from {city}!</p>" in html
        # autoescape in HTML only
        assert "Green tea &amp; honey &lt;500g&gt;" in html and "Green tea & honey <500g>" in text
        # List-Unsubscribe carries the same unsubscribe link as the body, and it names this delivery
        unsub = msg["List-Unsubscribe"].strip("<>")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsub in text and unsub in html
        assert verify_token(token_from_url(unsub), SECRET).kind == "unsubscribe"
        assert verify_token(token_from_url(unsub), SECRET).delivery_id == did
        # tracked links: the offer and both recommendations in the text, each a signed redirect
        clicks = [verify_token(token_from_url(u), SECRET) for u in urls(text) if "/r/" in u]
        assert [(c.kind, c.delivery_id, c.target) for c in clicks] == [
            ("click", did, "https://shop.example/spring?utm=1"), ("click", did, RECS[0]["url"]),
            ("click", did, RECS[1]["url"])]
        assert "https://shop.example/spring" not in text.replace(clicks[0].target, "")  # never the bare target
        # the open pixel, added before </body>
        pixel = re.search(r'<img src="([^"]+)" width="1" height="1"[^>]*></body>', html)
        assert pixel and verify_token(token_from_url(pixel.group(1)), SECRET).kind == "open"
    rows = warehouse.execute(warehouse.table("deliveries")).set_index("profile_id")
    assert rows.loc[pid(0), "status"] == "sent" and rows.loc[pid(0), "sent_at"] >= hours(0)
    assert rows.loc[pid(2), "status"] == "suppressed_no_consent" and pd.isna(rows.loc[pid(2), "sent_at"])
    assert "no marketing consent on email" in rows.loc[pid(2), "detail"]


def test_a_rerun_sends_nothing_twice(warehouse, population, links, templates):
    population.add(2)
    population.consent([(i, "email", "email", "granted", hours(-1)) for i in range(2)])
    with SmtpServer() as server:
        for _ in range(2):
            report = deliver(warehouse, plan([0, 1]), templates=templates, connectors={"email": connector(server)},
                             links=links, fields=fields(warehouse, 2), clock=lambda: hours(0).to_pydatetime())
        received = len(server.mailbox.received)
    assert received == 2
    assert report.already_recorded == 2 and sum(report.counts.values()) == 0
    assert warehouse.count("deliveries") == 2


def test_a_refused_recipient_fails_with_the_servers_answer_and_the_batch_goes_on(warehouse, population, links,
                                                                                 templates):
    population.add(3)
    population.consent([(i, "email", "email", "granted", hours(-1)) for i in range(3)])
    with SmtpServer(refuse=(email_of(1),)) as server:
        report = deliver(warehouse, plan([0, 1, 2]), templates=templates, connectors={"email": connector(server)},
                         links=links, fields=fields(warehouse, 3), clock=lambda: hours(0).to_pydatetime())
        received = sorted(r[1][0] for r in server.mailbox.received)
    assert received == [email_of(0), email_of(2)]
    assert report["sent"] == 2 and report["failed"] == 1
    rows = warehouse.execute(warehouse.table("deliveries")).set_index("profile_id")
    assert rows.loc[pid(1), "status"] == "failed" and "550" in rows.loc[pid(1), "detail"]


def test_no_server_fails_every_message_with_the_reason(warehouse, population, links, templates):
    population.add(1)
    population.consent([(0, "email", "email", "granted", hours(-1))])
    dead = SmtpConnector("127.0.0.1", SmtpServer().port, sender="news@shop.example", timeout=2)
    report = deliver(warehouse, plan([0]), templates=templates, connectors={"email": dead}, links=links,
                     fields=fields(warehouse, 1), clock=lambda: hours(0).to_pydatetime())
    assert report["failed"] == 1
    detail = warehouse.execute(warehouse.table("deliveries").detail)[0]
    assert detail.startswith("SMTP connection")


def test_a_person_without_an_address_is_not_sent_to(warehouse, population, links, templates):
    population.add(2, without_email=(1,))
    population.consent([(i, "phone", "email", "granted", hours(-1)) for i in range(2)])
    with SmtpServer() as server:
        report = deliver(warehouse, plan([0, 1]), templates=templates, connectors={"email": connector(server)},
                         links=links, fields=fields(warehouse, 2), clock=lambda: hours(0).to_pydatetime())
        assert len(server.mailbox.received) == 1
    assert report["sent"] == 1 and report["suppressed_no_address"] == 1
