"""The wire codec: round trips, exact sizes, and decode raising only RemoteProtocolError."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swimlab.protocol import codec
from swimlab.protocol.codec import (
    MAX_DATAGRAM_BYTES,
    MAX_INT,
    MAX_MESSAGE_BYTES,
    MAX_NODE_ID_BYTES,
    MAX_PUSH_PULL_MEMBERS,
    MAX_UPDATES_ARRAY_HEADER_BYTES,
    MAX_UPDATES_PER_MESSAGE,
    MESSAGE_TYPES,
    PROTOCOL_VERSION,
    array_header_size,
    decode,
    encode,
    encoded_size,
    message_overhead,
    update_budget,
    update_size,
)
from swimlab.protocol.errors import LocalProtocolError, RemoteProtocolError
from swimlab.protocol.messages import (
    PIGGYBACKING,
    Ack,
    Gossip,
    ManagerGossip,
    MemberState,
    Message,
    Nack,
    Ping,
    PingReq,
    PushPull,
    StreamAck,
    StreamPing,
    Update,
)

# Strategies ---------------------------------------------------------------------------------


def _fit_node_id(text: str) -> str:
    """Cut `text` to at most MAX_NODE_ID_BYTES UTF-8 bytes without splitting a character."""
    return text.encode()[:MAX_NODE_ID_BYTES].decode("utf-8", "ignore")


# Ids at each msgpack str size class edge (fixstr < 32 bytes <= str8) and at the byte limit.
EDGE_NODE_IDS = ["", "a" * 31, "a" * 32, "a" * 255, "é" * 127 + "a", "😀" * 63 + "abc", "ü" * 16]
node_ids = st.one_of(
    st.text(max_size=12),
    st.text(max_size=MAX_NODE_ID_BYTES).map(_fit_node_id),
    st.sampled_from(EDGE_NODE_IDS),
)
# Ints at each msgpack int size class edge, and anywhere in range.
EDGE_UINTS = [0, 127, 128, 255, 256, 65_535, 65_536, 2**32 - 1, 2**32, MAX_INT]
uints = st.one_of(st.sampled_from(EDGE_UINTS), st.integers(0, MAX_INT))
updates = st.builds(Update, st.sampled_from(MemberState), node_ids, uints, node_ids)
# Up to 20 crosses the array header change at 16 entries.
update_tuples = st.lists(updates, max_size=20).map(tuple)
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(Ping, uints, node_ids, update_tuples),
    st.builds(Ack, uints, update_tuples),
    st.builds(Nack, uints, update_tuples),
    st.builds(PingReq, uints, node_ids, update_tuples),
    st.builds(Gossip, update_tuples),
    st.builds(PushPull, update_tuples, st.booleans(), st.booleans()),
)


def updates_of(message: Message) -> tuple[Update, ...]:
    return message.members if isinstance(message, PushPull) else message.updates


def with_news(message: Message, news: tuple[Update, ...]) -> Message:
    if isinstance(message, PushPull):
        return dataclasses.replace(message, members=news)
    return dataclasses.replace(message, updates=news)


def update(n: int = 0, state: MemberState = MemberState.ALIVE) -> Update:
    return Update(state, f"node-{n}", n, "node-origin")


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


# Round trips --------------------------------------------------------------------------------


@given(messages)
def test_round_trip(message: Message) -> None:
    decoded = decode(encode(message))
    assert decoded == message
    assert type(decoded) is type(message)
    assert type(updates_of(decoded)) is tuple
    assert all(type(u.state) is MemberState for u in updates_of(decoded))


@given(messages)
def test_round_trip_without_the_fast_update_constructor(message: Message) -> None:
    """The plain-constructor fallback (used if Update grows a __post_init__) decodes the same."""
    codec._FAST_UPDATES = False  # type: ignore[misc]
    try:
        assert decode(encode(message)) == message
    finally:
        codec._FAST_UPDATES = True  # type: ignore[misc]


def test_max_counts_round_trip() -> None:
    full = tuple(update(i) for i in range(MAX_UPDATES_PER_MESSAGE))
    for message in (Gossip(full), Ping(1, "t", full), PingReq(2, "t", full)):
        assert decode(encode(message)) == message
    members = tuple(Update(MemberState.DEAD, str(i), i, "o") for i in range(MAX_PUSH_PULL_MEMBERS))
    push_pull = PushPull(members, join=True, reply=False)
    assert decode(encode(push_pull)) == push_pull


@given(st.one_of(st.builds(StreamPing, uints, node_ids), st.builds(StreamAck, uints)))
def test_the_fallback_probes_messages_round_trip(message: StreamPing | StreamAck) -> None:
    data = encode(message)
    assert decode(data) == message and encoded_size(message) == len(data)


def test_golden_bytes() -> None:
    """The wire format is a contract with other versions: these bytes must never change."""
    ping = Ping(7, "b", (Update(MemberState.SUSPECT, "a", 2, "c"),))
    assert encode(ping) == bytes.fromhex("95 01 01 07 a162 91 94 01 a161 02 a163")
    assert encode(Ack(300)) == bytes.fromhex("94 01 02 cd012c 90")
    assert encode(Nack(0)) == bytes.fromhex("94 01 03 00 90")
    assert encode(PingReq(1, "x")) == bytes.fromhex("95 01 04 01 a178 90")
    assert encode(Gossip(())) == bytes.fromhex("93 01 05 90")
    assert encode(PushPull((), join=True)) == bytes.fromhex("95 01 06 90 c3 c2")
    assert encode(StreamPing(7, "b")) == bytes.fromhex("94 01 08 07 a162")
    assert encode(StreamAck(300)) == bytes.fromhex("93 01 09 cd012c")


def test_type_table_follows_the_dataclasses() -> None:
    assert [type_id for type_id, _, _ in MESSAGE_TYPES] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert [cls for _, cls, _ in MESSAGE_TYPES] == [
        Ping,
        Ack,
        Nack,
        PingReq,
        Gossip,
        PushPull,
        ManagerGossip,
        StreamPing,
        StreamAck,
    ]
    for _, cls, fields in MESSAGE_TYPES:
        assert [name for name, _ in fields] == [f.name for f in dataclasses.fields(cls)], cls
    assert "ONLY APPEND TO THIS TABLE" in inspect.getsource(codec)
    assert {cls for _, cls, _ in MESSAGE_TYPES} >= set(PIGGYBACKING)


def test_decode_accepts_bytearray_and_memoryview() -> None:
    data = encode(Ping(1, "t", (update(),)))
    assert decode(bytearray(data)) == decode(memoryview(data)) == decode(data)


def test_packer_is_clean_after_a_failed_encode() -> None:
    with pytest.raises(LocalProtocolError):
        encode(Ping(1, "\ud800"))  # a lone surrogate fails inside msgpack, mid-message
    assert encode(Gossip(())) == bytes.fromhex("93 01 05 90")


# Exact sizes --------------------------------------------------------------------------------


@given(messages)
def test_size_arithmetic_is_exact(message: Message) -> None:
    size = len(encode(message))
    assert encoded_size(message) == size
    news = updates_of(message)
    overhead = message_overhead(message)
    assert overhead + array_header_size(len(news)) + sum(map(update_size, news)) == size
    assert message_overhead(with_news(message, ())) == overhead


@given(updates)
def test_update_size_is_exact(u: Update) -> None:
    assert update_size(u) == len(encode(Gossip((u,)))) - len(encode(Gossip(())))
    row = pack([int(u.state), u.member, u.incarnation, u.origin])
    assert update_size(u) == len(row)


@pytest.mark.parametrize(
    ("count", "header"), [(0, 1), (15, 1), (16, 3), (65_535, 3), (65_536, 5), (2**32 - 1, 5)]
)
def test_array_header_size(count: int, header: int) -> None:
    assert array_header_size(count) == header
    if count <= 65_536:  # msgpack agrees (None packs to 1 byte)
        assert len(pack([None] * count)) == header + count


@given(messages, st.lists(updates, max_size=40), st.integers(1, 40), st.integers(0, 4000))
def test_update_budget_fills_a_datagram(
    base: Message, candidates: list[Update], max_updates: int, datagram_bytes: int
) -> None:
    """Greedy selection within update_budget always fits; exact when the header size agrees."""
    budget = update_budget(base, datagram_bytes, max_updates)
    chosen: list[Update] = []
    used = 0
    for u in candidates[:max_updates]:
        if used + update_size(u) <= budget:
            chosen.append(u)
            used += update_size(u)
    message = with_news(base, tuple(chosen))
    if budget >= 0:
        assert len(encode(message)) <= datagram_bytes
    slack = array_header_size(max_updates) - array_header_size(len(chosen))
    assert len(encode(message)) == datagram_bytes - (budget - used) - slack
    assert 0 <= slack <= MAX_UPDATES_ARRAY_HEADER_BYTES - 1


# decode never raises anything but RemoteProtocolError -----------------------------------------


def decodes_or_refuses(data: bytes) -> Message | None:
    """Decode `data`; a refusal must be a RemoteProtocolError, an acceptance a valid message."""
    try:
        message = decode(data)
    except RemoteProtocolError as exc:
        assert str(exc)
        return None
    # Whatever decode accepts, encode accepts too, no larger (the input may be non-canonical).
    assert decode(encode(message)) == message
    assert len(encode(message)) <= len(data)
    return message


@given(st.binary())
def test_arbitrary_bytes(data: bytes) -> None:
    decodes_or_refuses(data)


@st.composite
def mutated_encodings(draw: st.DrawFn) -> bytes:
    data = bytearray(encode(draw(messages)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "set", "truncate", "extend", "insert", "delete"]))
        if action == "flip" and i < len(data):
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and i < len(data):
            data[i] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[i:]
        elif action == "extend":
            data += draw(st.binary(min_size=1, max_size=8))
        elif action == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[i : i + draw(st.integers(1, 8))]
    return bytes(data)


@given(mutated_encodings())
@settings(max_examples=300)  # cheap, and the best way to reach each validation branch
def test_mutated_valid_encodings(data: bytes) -> None:
    decodes_or_refuses(data)


# Almost-valid arrays: the right version and a real type id, then arbitrary msgpack values.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.sampled_from([*EDGE_UINTS, -1, MAX_INT + 1, 2**64 - 1]),
    st.sampled_from([0, 1, 2, 3, 4]),
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner, max_size=2)


msgpack_values = st.recursive(scalars, _containers, max_leaves=20)
raw_updates = st.lists(
    st.one_of(
        st.tuples(scalars, scalars, scalars, scalars).map(list),
        st.tuples(st.sampled_from(MemberState).map(int), node_ids, uints, node_ids).map(list),
        msgpack_values,
    ),
    max_size=4,
)


@given(
    st.sampled_from([PROTOCOL_VERSION, PROTOCOL_VERSION, 0, 2, True, 1.0]),
    st.integers(0, 7),
    st.lists(st.one_of(msgpack_values, raw_updates, uints, node_ids, st.booleans()), max_size=4),
)
def test_almost_valid_arrays(version: Any, type_id: int, fields: list[Any]) -> None:
    data = pack([version, type_id, *fields])
    message = decodes_or_refuses(data)
    if message is not None:  # packb is canonical, so an accepted array re-encodes to itself
        assert encode(message) == data


# Hostile inputs, each refused with a message naming the problem --------------------------------

VALID_UPDATE = [0, "a", 1, "b"]
HOSTILE = {
    "empty": (b"", "empty message"),
    "truncated": (encode(Ping(1, "target", (update(),)))[:-3], "truncated"),
    "trailing bytes": (encode(Ack(1)) + b"\x00\x00", "2 trailing bytes"),
    "array header 2**32-1, no body": (b"\xdd\xff\xff\xff\xff", "an array over 100000"),
    "array header 100000, no body": (b"\xdd\x00\x01\x86\xa0", "truncated"),
    "str header 4 GiB, no body": (b"\xdb\xff\xff\xff\xff", "truncated"),
    # msgpack sees the missing body before the length limit: either way nothing is allocated.
    "str header 4 GiB inside a message": (bytes.fromhex("95 01 01 01 db ffffffff"), "truncated"),
    "bin header 4 GiB": (b"\xc6\xff\xff\xff\xff", "truncated"),
    "a bin value": (pack([1, 2, 1, b"x"]), "a bin (bytes) value"),
    "nested 10,000 deep": (b"\x91" * 10_000 + b"\x90", "nested too deeply"),
    "a map": (pack({"version": 1}), "a map"),
    "an empty map": (pack({}), "a map"),
    "a map as an update": (pack([1, 5, [{}]]), "a map"),
    "an ext type": (pack(msgpack.ExtType(1, b"ab")), "ext type"),
    "an empty ext type": (b"\xc7\x00\x05", "ext type"),
    "a timestamp": (bytes.fromhex("d6 ff 00 00 00 01"), "ext type"),
    "reserved byte": (b"\xc1", "not msgpack"),
    "invalid utf-8": (bytes.fromhex("95 01 01 01 a1 ff 90"), "UTF-8"),
    "not an array": (pack(1), "expected an array"),
    "empty array": (pack([]), "expected an array"),
    "version 2": (pack([2, 1, 1, "a", []]), "version 2; this node speaks version 1"),
    "version 0": (pack([0, 5, []]), "version 0; this node speaks version 1"),
    "version true": (pack([True, 5, []]), "version True (bool)"),
    "version float": (pack([1.0, 5, []]), "version 1.0"),
    "no type id": (pack([1]), "no type id"),
    "type id 99": (pack([1, 99]), "unknown message type id 99"),
    "type id 0": (pack([1, 0, []]), "unknown message type id 0"),
    "type id true": (pack([1, True, 1, "a", []]), "unknown message type id True"),
    "too few fields": (
        pack([1, 1, 1, "a"]),
        "Ping: expected 3 fields (seq, target, updates), got 2",
    ),
    "too many fields": (pack([1, 2, 1, [], 7]), "Ack: expected 2 fields (seq, updates), got 3"),
    "bool as seq": (
        pack([1, 1, True, "a", []]),
        "Ping field 'seq': expected int in [0, 2**63), got True",
    ),
    "negative seq": (pack([1, 2, -1, []]), "Ack field 'seq': expected int in [0, 2**63), got -1"),
    "seq 2**63": (pack([1, 3, 2**63, []]), "Nack field 'seq': expected int in [0, 2**63)"),
    "float seq": (pack([1, 2, 1.5, []]), "Ack field 'seq': expected int in [0, 2**63), got 1.5"),
    "bytes node id": (pack([1, 4, 1, b"a", []]), "bin"),
    "int node id": (pack([1, 4, 1, 5, []]), "PingReq field 'target': expected str node id"),
    "node id 256 bytes": (pack([1, 1, 1, "a" * 256, []]), "a string over 255 UTF-8 bytes"),
    "updates not an array": (pack([1, 5, 3]), "Gossip field 'updates': expected an array"),
    "update of 3": (pack([1, 5, [[0, "a", 1]]]), "Gossip field 'updates'[0]: expected a 4-element"),
    "update not an array": (pack([1, 5, [VALID_UPDATE, 7]]), "Gossip field 'updates'[1]"),
    "negative incarnation": (
        pack([1, 5, [[0, "a", -1, "b"]]]),
        "Gossip field 'updates'[0].incarnation: expected int in [0, 2**63), got -1",
    ),
    "bool incarnation": (pack([1, 5, [[0, "a", False, "b"]]]), ".incarnation: expected int"),
    "state 4": (pack([1, 5, [[4, "a", 1, "b"]]]), "'updates'[0].state: expected a MemberState"),
    "bool state": (pack([1, 5, [[True, "a", 1, "b"]]]), ".state: expected a MemberState"),
    "int member": (pack([1, 5, [[0, 1, 1, "b"]]]), "'updates'[0].member: expected str node id"),
    "none origin": (pack([1, 5, [[0, "a", 1, None]]]), ".origin: expected str node id"),
    "int join flag": (pack([1, 6, [], 1, False]), "PushPull field 'join': expected bool, got 1"),
    "too many updates": (
        pack([1, 5, [VALID_UPDATE] * (MAX_UPDATES_PER_MESSAGE + 1)]),
        "Gossip field 'updates': 1025 updates, over the limit of 1024",
    ),
    "too many members": (
        pack([1, 6, [[]] * (MAX_PUSH_PULL_MEMBERS + 1), False, False]),
        "an array over 100000 elements",
    ),
    "too many members, counted": (
        b"\x95\x01\x06\xdd\x00\x01\x86\xa1" + b"\x90" * 100_001 + b"\xc2\xc2",
        "an array over 100000 elements",
    ),
    "oversized": (b"\x00" * (MAX_MESSAGE_BYTES + 1), "over the 8388608-byte limit"),
}


@pytest.mark.parametrize(("data", "problem"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_refused_with_the_reason(data: bytes, problem: str) -> None:
    with pytest.raises(RemoteProtocolError) as excinfo:
        decode(data)
    assert problem in str(excinfo.value)


def test_hostile_array_of_members_is_refused_at_the_first_bad_one() -> None:
    members = [VALID_UPDATE] * 500 + [[0, "a", 1, 2]] + [VALID_UPDATE] * 10
    with pytest.raises(RemoteProtocolError, match=r"'members'\[500\]\.origin"):
        decode(pack([1, 6, members, False, False]))


def test_datagram_limit_is_the_callers_choice() -> None:
    news = (Update(MemberState.ALIVE, "n" * 40 + str(i), i, "o" * 40) for i in range(1000))
    big = Gossip(tuple(news))
    data = encode(big)
    assert MAX_DATAGRAM_BYTES < len(data) <= MAX_MESSAGE_BYTES
    assert decode(data) == big  # fine on a stream
    with pytest.raises(RemoteProtocolError, match="over the 65507-byte limit"):
        decode(data, max_bytes=MAX_DATAGRAM_BYTES)


def test_non_bytes_input_is_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="expected bytes"):
        decode("not bytes")  # type: ignore[arg-type]


# encode refuses what is not a valid message: our bug, LocalProtocolError -----------------------

SURROGATE = "\ud800"
INVALID: dict[str, tuple[Any, str]] = {
    "not a message": ("hello", "not a message type"),
    "a bare Update": (update(), "not a message type"),
    "negative seq": (Ping(-1, "t"), "Ping field 'seq': expected int in [0, 2**63), got -1"),
    "seq 2**63": (Ack(2**63), "Ack field 'seq'"),
    "bool seq": (Nack(True), "Nack field 'seq': expected int in [0, 2**63), got True (bool)"),
    "float seq": (Ack(1.0), "got 1.0"),  # type: ignore[arg-type]
    "int target": (PingReq(1, 5), "PingReq field 'target': expected str node id"),  # type: ignore[arg-type]
    "bytes target": (Ping(1, b"t"), "Ping field 'target'"),  # type: ignore[arg-type]
    "target 256 bytes": (Ping(1, "a" * 256), "at most 255 UTF-8 bytes"),
    "target 128 two-byte chars": (Ping(1, "é" * 128), "at most 255 UTF-8 bytes"),
    "surrogate target": (Ping(1, SURROGATE), "surrogates not allowed"),
    "updates as a list": (Gossip([update()]), "expected a tuple of Update, got a list of 1"),  # type: ignore[arg-type]
    "updates element not an Update": (Gossip((update(), "x")), "'updates'[1]: expected an Update"),  # type: ignore[arg-type]
    "int state": (Gossip((Update(0, "a", 1, "b"),)), "'updates'[0].state: expected a MemberState"),  # type: ignore[arg-type]
    "negative incarnation": (Gossip((Update(MemberState.DEAD, "a", -1, "b"),)), ".incarnation"),
    "member too long": (Gossip((Update(MemberState.DEAD, "m" * 256, 1, "b"),)), ".member"),
    "origin not str": (Gossip((Update(MemberState.DEAD, "a", 1, None),)), ".origin"),  # type: ignore[arg-type]
    "int join": (PushPull((), 1), "PushPull field 'join': expected bool, got 1"),  # type: ignore[arg-type]
    "too many updates": (
        Gossip((update(),) * (MAX_UPDATES_PER_MESSAGE + 1)),
        "1025 updates, over the limit of 1024",
    ),
    "too many members": (
        PushPull((update(),) * (MAX_PUSH_PULL_MEMBERS + 1)),
        "100001 updates, over the limit of 100000",
    ),
}


@pytest.mark.parametrize(("message", "problem"), INVALID.values(), ids=INVALID.keys())
def test_encode_refuses_invalid_messages(message: Any, problem: str) -> None:
    with pytest.raises(LocalProtocolError) as excinfo:
        encode(message)
    assert problem in str(excinfo.value)


def test_encode_refuses_an_oversized_message() -> None:
    long_id = "x" * MAX_NODE_ID_BYTES
    members = tuple(Update(MemberState.ALIVE, long_id, i, long_id) for i in range(20_000))
    with pytest.raises(LocalProtocolError, match="over MAX_MESSAGE_BYTES"):
        encode(PushPull(members))


@given(messages)
def test_encode_trusted_gives_the_same_bytes_as_encode(message: Message) -> None:
    assert codec.encode_trusted(message) == codec.encode(message)
