"""The wire format: every message as a versioned msgpack positional array, with hard limits.

This module owns the bytes. Its rules:

- A message is `[PROTOCOL_VERSION, type_id, *fields]`, the fields in the order of the dataclass
  fields in `messages.py`, every field always present (defaults included), so each type has a
  fixed arity. An `Update` is `[state, member, incarnation, origin]`; `updates` (and PushPull's
  `members`) is an array of those. Arrays, not maps: 293 B vs 437 B and twice as fast to decode.
- `decode` raises `RemoteProtocolError` and nothing else, for any input: the peer sent it, the
  Driver counts and drops it. Its memory is bounded by the input size (see `decode`), because
  msgpack is told every limit before it reads a length prefix.
- `encode` raises `LocalProtocolError` for anything that is not a valid message: that is our bug.
  A message `encode` accepts round-trips: `decode(encode(m)) == m`; and anything `decode` returns
  `encode` accepts again.
- Sizes are computable without encoding (`update_size`, `message_overhead`, `encoded_size`), so
  the gossip queue can fill a datagram to the byte.

The message-type table below is append-only, like memberlist's `net.go`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Final, NamedTuple

import msgpack  # type: ignore[import-untyped]  # msgpack ships no type stubs

from .errors import LocalProtocolError, RemoteProtocolError
from .messages import (
    Ack,
    Downing,
    Gossip,
    ManagerGossip,
    MemberLife,
    MemberState,
    Message,
    Nack,
    Observation,
    Ping,
    PingReq,
    PushPull,
    StreamAck,
    StreamPing,
    Unreachability,
    Update,
)

__all__ = [
    "MAX_DATAGRAM_BYTES",
    "MAX_INT",
    "MAX_MESSAGE_BYTES",
    "MAX_NODE_ID_BYTES",
    "MAX_PUSH_PULL_MEMBERS",
    "MAX_UPDATES_ARRAY_HEADER_BYTES",
    "MAX_UPDATES_PER_MESSAGE",
    "PROTOCOL_VERSION",
    "array_header_size",
    "decode",
    "encode",
    "encode_trusted",
    "encoded_size",
    "message_overhead",
    "update_budget",
    "update_size",
]

PROTOCOL_VERSION: Final = 1

# Hard limits. Except MAX_DATAGRAM_BYTES, each is checked on both sides: encode refuses to
# produce what decode would refuse.
MAX_MESSAGE_BYTES: Final = 8 * 1024 * 1024
"""Largest encoded message, datagram or stream; sized for a PushPull carrying full state."""
MAX_DATAGRAM_BYTES: Final = 65_507
"""Largest UDP payload over IPv4. Not enforced here (the codec does not know the transport): a
datagram runtime passes it to `decode(data, max_bytes=MAX_DATAGRAM_BYTES)`; the Driver sends
anything over its `packet_budget_bytes` on a stream anyway."""
MAX_NODE_ID_BYTES: Final = 255
"""Longest node id, in UTF-8 bytes. Node ids are the only strings on the wire."""
MAX_UPDATES_PER_MESSAGE: Final = 1024
"""Most piggybacked updates in one Ping, Ack, Nack, PingReq or Gossip."""
MAX_PUSH_PULL_MEMBERS: Final = 100_000
"""Most member records in one PushPull. MAX_MESSAGE_BYTES binds first unless node ids are short:
100,000 members with 20-byte ids take about 4.8 MB."""
MAX_INT: Final = 2**63 - 1
"""Largest seq or incarnation (0..MAX_INT): fits a signed 64-bit int in any other implementation."""
MAX_UPDATES_ARRAY_HEADER_BYTES: Final = 3
"""An updates array header is 1 byte below 16 entries, else 3 (5 only from 65,536, past limits)."""


class _Kind(NamedTuple):
    """How one kind of field is checked, converted and sized in each direction."""

    expected: str  # for error messages: "expected <this>, got ..."
    decode: Callable[[Any, str, str], Any]  # (value, message name, field name) -> field value
    encode: Callable[[Any, str, str], Any]  # (value, message name, field name) -> msgpack-able
    size: Callable[[Any], int]  # encoded size of a valid value
    is_updates: bool  # the piggybacked news (excluded from message_overhead)


# Sizes -------------------------------------------------------------------------------------


def _uint_size(value: int) -> int:
    if value < 128:
        return 1  # positive fixint
    if value < 256:
        return 2  # uint 8
    if value < 65_536:
        return 3  # uint 16
    if value < 4_294_967_296:
        return 5  # uint 32
    return 9  # uint 64


def _str_size(value: str) -> int:
    n = len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
    if n < 32:
        return n + 1  # fixstr
    if n < 256:
        return n + 2  # str 8
    return n + 3 if n < 65_536 else n + 5  # str 16 / str 32: only for ids encode will refuse


def array_header_size(count: int) -> int:
    """Bytes of a msgpack array header for `count` elements: 1 below 16, 3 below 65,536, else 5."""
    if count < 16:
        return 1
    return 3 if count < 65_536 else 5


def update_size(update: Update) -> int:
    """Exact encoded size in bytes of one valid Update as an element of an updates array.

    Adding `k` updates to a message changes its size by the sum of their `update_size`s plus the
    growth of the updates array header (`array_header_size`), which is 2 bytes once, when the
    array reaches 16 entries. The value assumes a valid Update (see `encode`).
    """
    # fixarray(4) header + state (a positive fixint) = 2 bytes.
    return 2 + _str_size(update.member) + _uint_size(update.incarnation) + _str_size(update.origin)


def _updates_size(updates: tuple[Update, ...]) -> int:
    return array_header_size(len(updates)) + sum(map(update_size, updates))


# Field kinds: decode (peer input -> RemoteProtocolError), encode (our input -> LocalProtocolError)


def _show(value: object) -> str:
    """A short description of an offending value: a hostile one may be 100,000 elements long."""
    if value is None or type(value) in (int, float):
        return repr(value)
    if type(value) is bool:
        return f"{value!r} (bool)"
    if type(value) is str:
        text = repr(value)
        return text if len(text) <= 40 else f"{text[:37]}... (str, {len(value)} chars)"
    if type(value) is tuple:
        return f"an array of {len(value)}"
    if type(value) is list:
        return f"a list of {len(value)}"
    if type(value) in (bytes, bytearray):
        return f"a bin of {len(value)} bytes"  # type: ignore[arg-type]
    if type(value) is dict:
        return "a map"
    if type(value) is msgpack.ExtType:
        return f"ext type {value.code}"  # type: ignore[attr-defined]
    return f"a {type(value).__name__}"


def _field_error(owner: str, field: str, expected: str, value: object) -> str:
    return f"{owner} field {field!r}: expected {expected}, got {_show(value)}"


def _node_id_fits(value: str) -> bool:
    # 63 chars are at most 252 UTF-8 bytes, so short ids skip the encode.
    return len(value) <= MAX_NODE_ID_BYTES // 4 or (
        len(value.encode("utf-8", "surrogatepass")) <= MAX_NODE_ID_BYTES
    )


_UINT_EXPECTED: Final = "int in [0, 2**63)"
_NODE_ID_EXPECTED: Final = f"str node id of at most {MAX_NODE_ID_BYTES} UTF-8 bytes"
_FLAG_EXPECTED: Final = "bool"
_STATES: Final = tuple(MemberState)
_STATE_EXPECTED: Final = f"a MemberState (int 0..{len(_STATES) - 1})"
_UPDATE_EXPECTED: Final = "a 4-element array [state, member, incarnation, origin]"
# Decoding indexes _STATES by the wire value, which needs values 0..n-1 in order.
assert [s.value for s in _STATES] == list(range(len(_STATES)))


def _decode_uint(value: Any, owner: str, field: str) -> int:
    if type(value) is int and 0 <= value <= MAX_INT:  # `type is`: a bool is not an int here
        return value
    raise RemoteProtocolError(_field_error(owner, field, _UINT_EXPECTED, value))


def _encode_uint(value: Any, owner: str, field: str) -> int:
    if type(value) is int and 0 <= value <= MAX_INT:
        return value
    raise LocalProtocolError(_field_error(owner, field, _UINT_EXPECTED, value))


def _decode_node_id(value: Any, owner: str, field: str) -> str:
    if type(value) is str:  # msgpack already refused strings over MAX_NODE_ID_BYTES
        return value
    raise RemoteProtocolError(_field_error(owner, field, _NODE_ID_EXPECTED, value))


def _encode_node_id(value: Any, owner: str, field: str) -> str:
    if type(value) is str and _node_id_fits(value):
        return value
    raise LocalProtocolError(_field_error(owner, field, _NODE_ID_EXPECTED, value))


def _decode_flag(value: Any, owner: str, field: str) -> bool:
    if type(value) is bool:
        return value
    raise RemoteProtocolError(_field_error(owner, field, _FLAG_EXPECTED, value))


def _encode_flag(value: Any, owner: str, field: str) -> bool:
    if type(value) is bool:
        return value
    raise LocalProtocolError(_field_error(owner, field, _FLAG_EXPECTED, value))


def _update_problem(row: tuple[Any, ...], decoding: bool) -> str:
    """Which element of an update row `(state, member, incarnation, origin)` is wrong, and how.

    Called only once the fast check has failed, so it may be slow.
    """
    state, member, incarnation, origin = row
    if decoding:
        state_ok = type(state) is int and 0 <= state < len(_STATES)
    else:
        state_ok = type(state) is MemberState
    if not state_ok:
        return f".state: expected {_STATE_EXPECTED}, got {_show(state)}"
    for name, value in (("member", member), ("origin", origin)):
        if type(value) is not str or not _node_id_fits(value):
            return f".{name}: expected {_NODE_ID_EXPECTED}, got {_show(value)}"
    return f".incarnation: expected {_UINT_EXPECTED}, got {_show(incarnation)}"


# Decoded Updates are built by writing the four slots directly: a frozen dataclass __init__ goes
# through object.__setattr__ per field, 2.4x slower (1.37 vs 0.57 µs on CPython 3.11), and a
# PushPull carries thousands. Only valid while Update has no __post_init__; otherwise we fall back.
_new_object: Final = object.__new__
_set_state: Final = vars(Update)["state"].__set__
_set_member: Final = vars(Update)["member"].__set__
_set_incarnation: Final = vars(Update)["incarnation"].__set__
_set_origin: Final = vars(Update)["origin"].__set__
_FAST_UPDATES: Final = not hasattr(Update, "__post_init__") and Update.__slots__ == (
    "state",
    "member",
    "incarnation",
    "origin",
)


def _decode_update_array(value: Any, owner: str, field: str, limit: int) -> tuple[Update, ...]:
    if type(value) is not tuple:
        raise RemoteProtocolError(_field_error(owner, field, "an array of updates", value))
    if len(value) > limit:
        raise RemoteProtocolError(f"{owner} field {field!r}: {len(value)} updates, over the limit of {limit}")
    states = _STATES
    n_states = len(states)
    fast = _FAST_UPDATES
    new, set_state, set_member = _new_object, _set_state, _set_member
    set_incarnation, set_origin = _set_incarnation, _set_origin
    out: list[Update] = []
    append = out.append
    for row in value:
        if type(row) is tuple and len(row) == 4:
            state, member, incarnation, origin = row
            if (
                type(state) is int
                and 0 <= state < n_states
                and type(member) is str
                and type(incarnation) is int
                and 0 <= incarnation <= MAX_INT
                and type(origin) is str
            ):
                if fast:
                    update = new(Update)
                    set_state(update, states[state])
                    set_member(update, member)
                    set_incarnation(update, incarnation)
                    set_origin(update, origin)
                else:
                    update = Update(states[state], member, incarnation, origin)
                append(update)
                continue
            problem = _update_problem(row, decoding=True)
        else:
            problem = f": expected {_UPDATE_EXPECTED}, got {_show(row)}"
        raise RemoteProtocolError(f"{owner} field {field!r}[{len(out)}]{problem}")
    return tuple(out)


def _encode_update_array(value: Any, owner: str, field: str, limit: int) -> list[tuple[Any, ...]]:
    if type(value) is not tuple:
        raise LocalProtocolError(_field_error(owner, field, "a tuple of Update", value))
    if len(value) > limit:
        raise LocalProtocolError(f"{owner} field {field!r}: {len(value)} updates, over the limit of {limit}")
    short_id = MAX_NODE_ID_BYTES // 4
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for update in value:
        if type(update) is Update:
            state = update.state
            member = update.member
            incarnation = update.incarnation
            origin = update.origin
            if (
                type(state) is MemberState  # packs as its int value
                and type(member) is str
                and (len(member) <= short_id or _node_id_fits(member))
                and type(incarnation) is int
                and 0 <= incarnation <= MAX_INT
                and type(origin) is str
                and (len(origin) <= short_id or _node_id_fits(origin))
            ):
                append((state, member, incarnation, origin))
                continue
            problem = _update_problem((state, member, incarnation, origin), decoding=False)
        else:
            problem = f": expected an Update, got {_show(update)}"
        raise LocalProtocolError(f"{owner} field {field!r}[{len(rows)}]{problem}")
    return rows


def _decode_updates(value: Any, owner: str, field: str) -> tuple[Update, ...]:
    return _decode_update_array(value, owner, field, MAX_UPDATES_PER_MESSAGE)


def _encode_updates(value: Any, owner: str, field: str) -> list[tuple[Any, ...]]:
    return _encode_update_array(value, owner, field, MAX_UPDATES_PER_MESSAGE)


def _decode_members(value: Any, owner: str, field: str) -> tuple[Update, ...]:
    return _decode_update_array(value, owner, field, MAX_PUSH_PULL_MEMBERS)


def _encode_members(value: Any, owner: str, field: str) -> list[tuple[Any, ...]]:
    return _encode_update_array(value, owner, field, MAX_PUSH_PULL_MEMBERS)


def _rows(row: type[Any], columns: tuple[_Kind, ...]) -> _Kind:
    """The kind of an array of fixed-arity rows (a NamedTuple of `messages.py`), each element of
    the kind its column gives; at most MAX_PUSH_PULL_MEMBERS rows (MAX_MESSAGE_BYTES binds first)."""
    names: tuple[str, ...] = row._fields
    arity = len(names)
    expected = f"an array of [{', '.join(names)}] rows"

    def check(
        value: Any, owner: str, field: str, error: type[Exception], is_row: Callable[[Any], bool]
    ) -> None:
        if type(value) is not tuple:
            raise error(_field_error(owner, field, expected, value))
        if len(value) > MAX_PUSH_PULL_MEMBERS:
            raise error(
                f"{owner} field {field!r}: {len(value)} rows, over the limit of {MAX_PUSH_PULL_MEMBERS}"
            )
        for i, item in enumerate(value):
            if not is_row(item) or len(item) != arity:
                shape = f"a {arity}-element row [{', '.join(names)}]"
                raise error(f"{owner} field {field!r}[{i}]: expected {shape}, got {_show(item)}")

    def decode_rows(value: Any, owner: str, field: str) -> tuple[Any, ...]:
        check(value, owner, field, RemoteProtocolError, lambda item: type(item) is tuple)
        out = []
        for i, item in enumerate(value):
            cells = [
                k.decode(v, owner, f"{field}[{i}].{n}") for k, v, n in zip(columns, item, names, strict=True)
            ]
            out.append(row(*cells))
        return tuple(out)

    def encode_rows(value: Any, owner: str, field: str) -> list[list[Any]]:
        check(value, owner, field, LocalProtocolError, lambda item: type(item) is row)
        return [
            [k.encode(v, owner, f"{field}[{i}].{n}") for k, v, n in zip(columns, item, names, strict=True)]
            for i, item in enumerate(value)
        ]

    def size(value: tuple[Any, ...]) -> int:
        cells = sum(k.size(v) for item in value for k, v in zip(columns, item, strict=True))
        return array_header_size(len(value)) + len(value) * array_header_size(arity) + cells

    return _Kind(expected, decode_rows, encode_rows, size, False)


_UINT: Final = _Kind(_UINT_EXPECTED, _decode_uint, _encode_uint, _uint_size, False)
_NODE_ID: Final = _Kind(_NODE_ID_EXPECTED, _decode_node_id, _encode_node_id, _str_size, False)
_FLAG: Final = _Kind(_FLAG_EXPECTED, _decode_flag, _encode_flag, lambda _: 1, False)
_UPDATES: Final = _Kind("array of updates", _decode_updates, _encode_updates, _updates_size, True)
_MEMBERS: Final = _Kind("array of updates", _decode_members, _encode_members, _updates_size, True)

# The message-type table. ONLY APPEND TO THIS TABLE: a type id, once released, means that message
# with those fields in that order forever, or old and new nodes misread each other. To change a
# message, add a new type id; to retire one, delete its row and leave the id unused.
# Fields are listed in the dataclass field order of messages.py (a test checks that they match).
MESSAGE_TYPES: Final[tuple[tuple[int, type[Message], tuple[tuple[str, _Kind], ...]], ...]] = (
    # id  message   fields
    (1, Ping, (("seq", _UINT), ("target", _NODE_ID), ("updates", _UPDATES))),
    (2, Ack, (("seq", _UINT), ("updates", _UPDATES))),
    (3, Nack, (("seq", _UINT), ("updates", _UPDATES))),
    (4, PingReq, (("seq", _UINT), ("target", _NODE_ID), ("updates", _UPDATES))),
    (5, Gossip, (("updates", _UPDATES),)),
    (6, PushPull, (("members", _MEMBERS), ("join", _FLAG), ("reply", _FLAG))),
    (7, ManagerGossip, (
        ("members", _rows(MemberLife, (_NODE_ID, _UINT, _UINT))),
        ("downs", _rows(Downing, (_NODE_ID, _UINT, _NODE_ID))),
        ("observations", _rows(Observation, (_NODE_ID, _UINT, _UINT))),
        ("unreachable", _rows(Unreachability, (_NODE_ID, _NODE_ID))),
        ("reply", _FLAG),
    )),
    (8, StreamPing, (("seq", _UINT), ("target", _NODE_ID))),
    (9, StreamAck, (("seq", _UINT),)),
)  # fmt: skip


class _WireType(NamedTuple):
    type_id: int
    cls: type[Message]
    name: str
    fields: tuple[tuple[str, _Kind], ...]
    arity: int  # number of elements of the whole array, version and type id included
    signature: str  # "seq, target, updates", for arity errors


_BY_ID: Final = {
    type_id: _WireType(type_id, cls, cls.__name__, fields, 2 + len(fields), ", ".join(n for n, _ in fields))
    for type_id, cls, fields in MESSAGE_TYPES
}
_BY_CLASS: Final = {wire.cls: wire for wire in _BY_ID.values()}
_KNOWN_IDS: Final = ", ".join(map(str, _BY_ID))
# Version, type ids and the outer array header are 1 byte each (positive fixints, fixarray).
assert PROTOCOL_VERSION < 128 and all(0 <= i < 128 for i in _BY_ID)
assert all(w.arity < 16 for w in _BY_ID.values())


# Encode ------------------------------------------------------------------------------------

# One Packer for the process, not one per call: pack() returns fresh bytes and resets its buffer,
# also when it raises (a test checks). The C Packer packs our plain values (int, str, bool, tuple,
# list) without running Python code, so under the GIL two threads' calls cannot interleave. That
# would not hold with msgpack's pure-Python fallback or a free-threaded build; the protocol core
# is single-threaded anyway.
_packer: Final = msgpack.Packer(use_bin_type=True)


def encode(message: Message) -> bytes:
    """The wire bytes of `message`; `LocalProtocolError` if it is not a valid message.

    Valid means: a message type of `messages.py` with every field of its declared type (exact
    types: a bool is not an int, updates are a tuple of `Update` with a `MemberState`), seq and
    incarnation in 0..MAX_INT, node ids of at most MAX_NODE_ID_BYTES UTF-8 bytes, at most
    MAX_UPDATES_PER_MESSAGE updates (MAX_PUSH_PULL_MEMBERS members), and MAX_MESSAGE_BYTES in all.
    """
    wire = _BY_CLASS.get(type(message))
    if wire is None:
        raise LocalProtocolError(f"cannot encode {_show(message)}: not a message type")
    owner = wire.name
    row: list[Any] = [PROTOCOL_VERSION, wire.type_id]
    for name, kind in wire.fields:
        row.append(kind.encode(getattr(message, name), owner, name))
    try:
        payload: bytes = _packer.pack(row)
    except Exception as exc:  # e.g. a lone surrogate in a node id, which UTF-8 cannot encode
        raise LocalProtocolError(f"cannot encode {owner}: {exc}") from exc
    if len(payload) > MAX_MESSAGE_BYTES:
        raise LocalProtocolError(
            f"cannot encode {owner}: {len(payload)} bytes, over MAX_MESSAGE_BYTES ({MAX_MESSAGE_BYTES})"
        )
    return payload


_ROW: Final = operator.attrgetter("state", "member", "incarnation", "origin")


def encode_trusted(message: Message) -> bytes:
    """The same bytes as `encode`, without the per-field checks: for messages a Node built.

    A Node's messages are well formed by construction: their fields are typed (`mypy --strict`),
    the node's own name is checked when the Node is created, and every other node id or record
    in them came through `decode` (or from another such Node). The Driver, which only sends what
    its Node built, uses this on the simulator's hot path, where the checks of `encode` cost
    more than the packing itself. `encode` stays the checked entry point; a test asserts the
    two give identical bytes.
    """
    wire = _BY_CLASS[type(message)]
    row: list[Any] = [PROTOCOL_VERSION, wire.type_id]
    for name, kind in wire.fields:
        value = getattr(message, name)
        row.append(list(map(_ROW, value)) if kind.is_updates else value)
    payload: bytes = _packer.pack(row)
    if len(payload) > MAX_MESSAGE_BYTES:
        raise LocalProtocolError(
            f"cannot encode {wire.name}: {len(payload)} bytes, over MAX_MESSAGE_BYTES ({MAX_MESSAGE_BYTES})"
        )
    return payload


def message_overhead(message: Message) -> int:
    """Exact encoded size of `message` minus its updates array (PushPull: its members array).

    With `u` being `m.updates` (PushPull: `m.members`):

        len(encode(m)) == message_overhead(m) + array_header_size(len(u)) + sum(map(update_size, u))

    The overhead does not depend on the updates, so it can be computed on a message built with
    `updates=()`. Assumes a valid message.
    """
    wire = _BY_CLASS[type(message)]
    size = 3  # outer array header, version, type id
    for name, kind in wire.fields:
        if not kind.is_updates:
            size += kind.size(getattr(message, name))
    return size


def encoded_size(message: Message) -> int:
    """Exactly `len(encode(message))` for a valid message, computed without encoding it."""
    wire = _BY_CLASS[type(message)]
    size = 3
    for name, kind in wire.fields:
        size += kind.size(getattr(message, name))
    return size


def update_budget(message: Message, datagram_bytes: int, max_updates: int) -> int:
    """Bytes left for piggybacked updates if `message` (its own updates ignored) must fit in
    `datagram_bytes` and will carry at most `max_updates` updates.

    Any selection of at most `max_updates` updates whose `update_size`s sum to at most this many
    bytes fits. It is exact when the selection keeps the array header size the budget assumed
    (`array_header_size(max_updates)`), else conservative by 2 bytes: e.g. a budget computed for
    32 updates reserves a 3-byte header, but 15 selected updates need 1. Negative: nothing fits.
    """
    return datagram_bytes - message_overhead(message) - array_header_size(max_updates)


# Decode ------------------------------------------------------------------------------------

_unpackb: Final = msgpack.unpackb


class _Refused(ValueError):
    """Raised from inside msgpack by our hooks; its text is the whole explanation."""


def _reject_map(pairs: object) -> object:
    raise _Refused("a map, which is not part of the wire format")


def _reject_ext(code: int, data: bytes) -> object:
    raise _Refused(f"an ext type ({code}), which is not part of the wire format")


# What msgpack's own length-limit errors ("300 exceeds max_str_len(255)") mean on our wire.
_LIMIT_MEANINGS: Final = (
    (
        "max_str_len",
        f"a string over {MAX_NODE_ID_BYTES} UTF-8 bytes (node ids are the only strings)",
    ),
    ("max_array_len", f"an array over {MAX_PUSH_PULL_MEMBERS} elements"),
    ("max_map_len", "a map, which is not part of the wire format"),
    ("max_ext_len", "an ext type, which is not part of the wire format"),
    ("max_bin_len", "a bin (bytes) value, which is not part of the wire format"),
)


def _explain_unpack_error(exc: Exception, size: int) -> str:
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, msgpack.ExtraData):
        return f"{len(exc.extra)} trailing bytes after the message ({size} bytes in all)"
    if isinstance(exc, msgpack.StackError):
        return "arrays nested too deeply (the wire format nests at most 3 deep)"
    if isinstance(exc, msgpack.FormatError):
        return "not msgpack: invalid type byte"
    if isinstance(exc, UnicodeDecodeError):
        return f"a string is not valid UTF-8: {exc}"
    if isinstance(exc, RecursionError):  # msgpack's pure-Python fallback, on deep nesting
        return "arrays nested too deeply (the wire format nests at most 3 deep)"
    text = str(exc)
    if "incomplete input" in text:
        return f"truncated message: {size} bytes end inside a msgpack value"
    for limit, meaning in _LIMIT_MEANINGS:
        if limit in text:
            return f"{meaning} ({text})"
    return f"undecodable msgpack ({type(exc).__name__}: {text})"


def decode(data: bytes | bytearray | memoryview, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """The message in `data`; `RemoteProtocolError` naming the problem if it is not exactly one
    valid message of at most `max_bytes` (and MAX_MESSAGE_BYTES) bytes.

    Never raises anything else, for any input. Memory is bounded: msgpack refuses a length prefix
    over the limits below before allocating for it (a claimed 4 GiB string or 2**32-element array
    costs nothing), nesting stops at msgpack's stack limit, and what msgpack builds before we
    validate it is at most ~28x the input (measured worst case: arrays of 1-element arrays), so
    ~1.8 MB for a MAX_DATAGRAM_BYTES datagram and ~235 MB for a MAX_MESSAGE_BYTES stream message.
    A runtime that wants less passes a smaller `max_bytes`.
    """
    if type(data) is not bytes and not isinstance(data, bytes | bytearray | memoryview):
        raise RemoteProtocolError(f"expected bytes, got {_show(data)}")
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size > max_bytes or size > MAX_MESSAGE_BYTES:
        raise RemoteProtocolError(
            f"message of {size} bytes is over the {min(max_bytes, MAX_MESSAGE_BYTES)}-byte limit"
        )
    if size == 0:
        raise RemoteProtocolError("empty message (0 bytes)")
    try:
        obj = _unpackb(
            data,
            raw=False,  # strings as str; invalid UTF-8 raises
            use_list=False,  # arrays as tuples: what the dataclasses hold
            strict_map_key=True,
            object_pairs_hook=_reject_map,  # reached only by an empty map
            ext_hook=_reject_ext,  # reached only by an empty ext
            max_str_len=MAX_NODE_ID_BYTES,
            max_bin_len=0,
            max_array_len=MAX_PUSH_PULL_MEMBERS,
            max_map_len=0,
            max_ext_len=0,
        )
    except Exception as exc:  # the peer's bytes, whatever msgpack thinks of them
        raise RemoteProtocolError(_explain_unpack_error(exc, size)) from exc

    if type(obj) is not tuple:
        raise RemoteProtocolError(f"expected an array [version, type id, *fields], got {_show(obj)}")
    if not obj:
        raise RemoteProtocolError("expected an array [version, type id, *fields], got []")
    version = obj[0]
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise RemoteProtocolError(
            f"unsupported protocol version {_show(version)}; this node speaks version {PROTOCOL_VERSION}"
        )
    if len(obj) < 2:
        raise RemoteProtocolError("message has a version but no type id")
    type_id = obj[1]
    wire = _BY_ID.get(type_id) if type(type_id) is int else None
    if wire is None:
        raise RemoteProtocolError(f"unknown message type id {_show(type_id)} (known: {_KNOWN_IDS})")
    owner = wire.name
    if len(obj) != wire.arity:
        raise RemoteProtocolError(
            f"{owner}: expected {wire.arity - 2} fields ({wire.signature}), got {len(obj) - 2}"
        )
    args = [kind.decode(value, owner, name) for (name, kind), value in zip(wire.fields, obj[2:], strict=True)]
    return wire.cls(*args)
