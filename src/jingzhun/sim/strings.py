"""Vectorised string building on Arrow arrays: the simulator never formats strings one by one."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["tokens", "digits", "join", "pick", "nulls_where", "ts_array", "iso_seconds", "scramble",
           "HEX", "ALNUM", "OPENID"]

HEX = "0123456789abcdef"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
OPENID = ALNUM + "-_"
STR = pa.string()


def tokens(rng: np.random.Generator, n: int, length: int, alphabet: str = HEX) -> pa.Array:
    """``n`` random strings of ``length`` characters from ``alphabet`` (built straight into Arrow buffers)."""
    table = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    if len(table) & (len(table) - 1) == 0:      # a power of two: mask random bytes
        chars = table[rng.integers(0, 256, size=n * length, dtype=np.uint8) & (len(table) - 1)]
    else:
        chars = table[rng.integers(0, len(table), size=n * length, dtype=np.uint8)]
    offsets = np.arange(0, n * length + 1, length, dtype=np.int32) if n * length < 2**31 else None
    if offsets is None:
        return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(np.arange(
            0, n * length + 1, length, dtype=np.int64)), pa.py_buffer(chars)]).cast(STR)
    return pa.Array.from_buffers(STR, n, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def digits(values, width: int = 0) -> pa.Array:
    """Non-negative integers as decimal strings, zero-padded to ``width``."""
    arr = pa.array(np.asarray(values, dtype=np.int64)).cast(STR)
    return pc.utf8_lpad(arr, width, "0") if width else arr


def join(*parts) -> pa.Array:
    """Concatenate arrays and literal strings element-wise; a null part makes the result null."""
    args = [pa.scalar(p, STR) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, pa.scalar("", STR))


def pick(vocab, idx) -> pa.Array:
    """``vocab[idx]`` for an index array, as an Arrow string array."""
    return pa.array(list(vocab), STR).take(pa.array(np.asarray(idx, dtype=np.int64)))


def nulls_where(arr: pa.Array, mask) -> pa.Array:
    """``arr`` with nulls where ``mask`` is true."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), pa.scalar(None, arr.type), arr)


def ts_array(start: datetime, seconds, unit: str = "s") -> pa.Array:
    """UTC timestamps ``start + seconds`` (``seconds`` a float array), truncated to ``unit``."""
    scale = {"s": 1, "ms": 1_000}[unit]
    base = int(start.timestamp()) * scale
    values = base + np.floor(np.asarray(seconds, dtype=np.float64) * scale).astype(np.int64)
    return pa.array(values, pa.timestamp(unit, tz="UTC"))


def iso_seconds(ts: pa.Array) -> pa.Array:
    """UTC timestamps as ISO 8601 text with a Z, to the second (for CSV files)."""
    return pc.strftime(ts.cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")


def scramble(index, modulus: int, multiplier: int, offset: int) -> np.ndarray:
    """A bijection of ``[0, modulus)`` (``multiplier`` coprime with ``modulus``): ids that look random
    but never collide."""
    idx = np.asarray(index, dtype=np.int64)
    assert multiplier < 2**63 // 10**8, "multiplier too large for int64 arithmetic"
    return (idx * multiplier + offset) % modulus
