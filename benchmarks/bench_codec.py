"""Codec speed: encode and decode µs/op for a Ping with 8 updates and a PushPull of 1,000 members.

Run: .venv/bin/python benchmarks/bench_codec.py. Prints figures (median of 5 timeit runs); asserts
nothing, as timings depend on the machine.
"""

from __future__ import annotations

import platform
import statistics
import timeit

import msgpack  # type: ignore[import-untyped]

from swimlab.protocol.codec import decode, encode
from swimlab.protocol.messages import MemberState, Message, Ping, PushPull, Update

REPEATS = 5


def _update(i: int) -> Update:
    return Update(MemberState(i % 4), f"node-{i:05d}.dc1", 1_000 + i, f"node-{i // 7:05d}.dc1")


CASES: dict[str, tuple[Message, int]] = {  # name -> (message, calls per timeit run)
    "Ping, 8 updates": (
        Ping(42_017, "node-00003.dc1", tuple(_update(i) for i in range(8))),
        20_000,
    ),
    "PushPull, 1000 members": (PushPull(tuple(_update(i) for i in range(1_000)), join=True), 100),
}


def median_us_per_op(stmt: object, number: int) -> float:
    runs = timeit.repeat(stmt, number=number, repeat=REPEATS)  # type: ignore[arg-type]
    return statistics.median(runs) / number * 1e6


def main() -> None:
    print(
        f"python {platform.python_version()}, msgpack {msgpack.version}, "
        f"C extension: {msgpack.Packer.__module__ != 'msgpack.fallback'}"
    )
    print("baseline: bare msgpack packb/unpackb of the same bytes, no validation, no dataclasses")
    header = f"{'message':<24}{'bytes':>7}{'encode µs':>11}{'decode µs':>11}"
    print(f"{header}{'baseline pack':>15}{'baseline unpack':>17}")
    for name, (message, number) in CASES.items():
        data = encode(message)
        assert decode(data) == message
        raw = msgpack.unpackb(data)
        encode_us = median_us_per_op(lambda m=message: encode(m), number)
        decode_us = median_us_per_op(lambda d=data: decode(d), number)
        pack_us = median_us_per_op(lambda r=raw: msgpack.packb(r), number)
        unpack_us = median_us_per_op(lambda d=data: msgpack.unpackb(d), number)
        print(
            f"{name:<24}{len(data):>7}{encode_us:>11.2f}{decode_us:>11.2f}{pack_us:>15.2f}{unpack_us:>17.2f}"
        )


if __name__ == "__main__":
    main()
