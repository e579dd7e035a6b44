"""Raw contact addresses from the PII vault, read at send time for people who may be messaged.

This is the one place activation reads raw personal data. Deliver calls it per batch, after the
consent check, for the profiles of that batch only, and only for a connector that needs an address.
A person with several addresses of one kind (two e-mails) is written to at the one the vault learnt
last: people change addresses more often than they keep two in use. Shared identifiers (a family
e-mail set aside by the identity guards) are nobody's address.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import pandas as pd

from jingzhun.warehouse import Warehouse

__all__ = ["addresses"]


def addresses(warehouse: Warehouse, profile_ids: Iterable[str], kind: str) -> dict[str, str]:
    """profile id -> raw address of ``kind`` (e.g. ``"email"``) for those of ``profile_ids`` that have one."""
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    wanted = ibis.memtable(pd.DataFrame({"profile_id": ids}))
    im = warehouse.table("identity_map")
    vault = warehouse.table("pii_vault")
    mine = im.filter((im.kind == kind) & ~im.is_shared)
    mine = mine.semi_join(wanted, mine.profile_id == wanted.profile_id)
    rows = mine.join(vault, [mine.kind == vault.kind, mine.key == vault.key]).select(
        "profile_id", vault.key, vault.value, vault.first_seen_at
    )
    found = warehouse.execute(rows)
    if found.empty:
        return {}
    found = found.sort_values(["profile_id", "first_seen_at", "key"], ascending=[True, False, True])
    first = found.drop_duplicates("profile_id")
    return dict(zip(first.profile_id, first.value))
