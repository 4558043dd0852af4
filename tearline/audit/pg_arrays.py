"""PostgreSQL binary arrays for the audit log's one-statement append, packed in a few C calls.

An append sends each column of its rows as one array parameter (`store._APPEND_ALL`). psycopg's
own list dumper walks every element in Python (type lookup, a dumper per element, a length
prefix each), which cost about 3.4 µs per entry for an append's ten arrays, serially in the
group committer's leader. The columns' types are known, so here each array is packed in one
`b"".join` or `struct.pack` call, and psycopg is handed the finished bytes with the array's type.

Binary array format (PostgreSQL's `array_recv`): ndim, has-nulls flag, element type oid; per
dimension its length and lower bound (1); then each element as a 4-byte length and its bytes.
No element is ever NULL here.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import cast

from psycopg import adapters
from psycopg.adapt import Dumper
from psycopg.pq import Format

_INT8, _BYTEA, _TEXT = 20, 17, 25
_HEADER = struct.Struct(">iiiii")
_EMPTY = struct.Struct(">iii")
_LENGTH = struct.Struct(">i")


class PgArray(bytes):
    """A one-dimensional array already in PostgreSQL's binary format; subclasses name its type."""

    element_oid = 0


class Int8Array(PgArray):
    element_oid = _INT8


class ByteaArray(PgArray):
    element_oid = _BYTEA


class TextArray(PgArray):
    element_oid = _TEXT


def _header(element_oid: int, count: int) -> bytes:
    if not count:
        return _EMPTY.pack(0, 0, element_oid)
    return _HEADER.pack(1, 0, element_oid, count, 1)


def int8_array(values: Sequence[int]) -> Int8Array:
    count = len(values)
    # Each element is its length (8) then its value; the slice assignment interleaves them in C.
    parts: list[int] = [8] * (2 * count)
    parts[1::2] = values
    return Int8Array(_header(_INT8, count) + struct.pack(">" + "iq" * count, *parts))


def _varlena(element_oid: int, values: Sequence[bytes]) -> bytes:
    parts: list[bytes] = [b""] * (2 * len(values))
    parts[0::2] = map(_LENGTH.pack, map(len, values))
    parts[1::2] = values
    return _header(element_oid, len(values)) + b"".join(parts)


def bytea_array(values: Sequence[bytes]) -> ByteaArray:
    return ByteaArray(_varlena(_BYTEA, values))


def text_array(values: Sequence[str]) -> TextArray:
    return TextArray(_varlena(_TEXT, list(map(str.encode, values))))


def _dumper(array: type[PgArray], array_oid: int) -> type[Dumper]:
    class _Packed(Dumper):
        format = Format.BINARY
        oid = array_oid

        def dump(self, obj: object) -> bytes:
            return cast(bytes, obj)  # already the wire format: no copy

    _Packed.__name__ = f"{array.__name__}Dumper"
    return _Packed


# Registered on psycopg's global adapters: only these classes of ours are affected.
for _array, _oid in ((Int8Array, 1016), (ByteaArray, 1001), (TextArray, 1009)):
    adapters.register_dumper(_array, _dumper(_array, _oid))
