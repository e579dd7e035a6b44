"""Pseudonymisation: a keyed hash turns a normalised identifier into the key analytic tables carry.

    key = first 24 hex digits of SHA-256(secret || "|" || kind || "|" || normalised value)

The secret is 32 random bytes per installation (``jingzhun init``). Without it a key cannot be
recomputed from a guessed e-mail or phone, which plain hashing would allow. Putting the secret first
makes it a prefix MAC: length extension lets an attacker append to a *message*, which gains nothing
here, since keys are never verified, only compared. The kind is part of the message, so the same
string as an e-mail and as a user id gives two different keys. 24 hex digits are 96 bits: the chance
of any collision among 100 million identifiers is below 1e-12.

The same function exists twice: :func:`key_for` in Python (for one value, e.g. a CLI lookup) and
:func:`key_expr` in Ibis (for whole tables, on any engine). A test holds them equal.
"""

from __future__ import annotations

import hashlib

import ibis
import ibis.expr.types as ir

__all__ = ["KEY_LENGTH", "key_for", "key_expr"]

KEY_LENGTH = 24


def key_for(kind: str, value: str | None, secret: str) -> str | None:
    """The pseudonymous key of one normalised value (None stays None)."""
    if value is None:
        return None
    digest = hashlib.sha256(f"{secret}|{kind}|{value}".encode("utf-8")).hexdigest()
    return digest[:KEY_LENGTH]


def key_expr(kind: str, value: ir.StringValue, secret: str) -> ir.StringValue:
    """The pseudonymous key of every value of a column; null and empty strings give null."""
    hashed = (ibis.literal(f"{secret}|{kind}|") + value).hexdigest("sha256").substr(0, KEY_LENGTH)
    # Spark's concat can turn a null into text, so the null case is spelt out on every engine.
    return ibis.ifelse(value.isnull() | (value == ""), ibis.null("string"), hashed)
