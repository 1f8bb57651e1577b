#!/usr/bin/env python3
"""permessage-deflate (RFC 7692) interop client for wsup's `echo` example.

Usage: deflate_client.py [--verbose] [--threshold] ws://127.0.0.1:PORT/PATH
       deflate_client.py [--verbose] [--threshold] wss://127.0.0.1:PORT/PATH --ca CA.pem

`--threshold`: the server sends small messages uncompressed (a size
threshold, as wsup's default `DeflateConfig` has); at least one echo must
still arrive compressed. Without it, every echo must.

Drives the echo server with the Python `websockets` package (an independent
implementation of RFC 6455 and RFC 7692) once per negotiation configuration:
the default offer, each `*_no_context_takeover`, both, and every
`server_max_window_bits` / `client_max_window_bits` from 9 to 15. Each
connection checks the negotiated parameters, round-trips a set of text and
binary messages several times (so that, with context takeover, later messages
refer back to earlier ones), sends fragmented messages, checks that the
server's echoes really were compressed, and closes with 1000.

Over wss://, the server's certificate must be signed by the CA in --ca and
name the host (Python's default context checks both).

Prints one line per configuration, then `N passed, M failed`; exits 1 if any
configuration failed. Run by `cargo xtask interop`.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import sys
import time
import traceback
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
)
from websockets.frames import Opcode

# Per configuration: handshake, every exchange and the closing handshake.
CONFIG_TIMEOUT = 30.0
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 10.0
# The largest message is ~300 KiB; websockets' default limit is 1 MiB.
MAX_SIZE = 16 * 1024 * 1024
REPEATS = 3


def mixed_unicode(size: int, seed: int) -> str:
    """At least `size` bytes of UTF-8 text: words from several scripts, from
    one to four bytes per character, in a seeded random order."""
    words = [
        "hello", "world", "deflate", "window", "context", "takeover",
        "café", "naïve", "Grüße", "façade", "œuvre",
        "Ελληνικά", "λόγος", "Привет", "мир", "שלום", "مرحبا",
        "日本語", "漢字", "中文", "한국어", "ไทย", "हिन्दी",
        "😀", "🚀", "🎉", "𝄞", "𐍈", "👩\u200d💻",
    ]
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words)
        sep = rng.choice(" ,.\n")
        parts.append(word + sep)
        length += len(word.encode()) + 1
    return "".join(parts)


def payloads() -> list[tuple[str, str | bytes]]:
    rng = random.Random(7692)
    repetitive = ("The quick brown fox jumps over the lazy dog. " * 2000)[: 64 * 1024]
    return [
        ("text empty", ""),
        ("text short", "Hello, permessage-deflate!"),
        ("text 64 KiB repetitive", repetitive),
        ("text 200 KiB mixed unicode", mixed_unicode(200 * 1024, seed=6455)),
        ("binary 1 KiB random", rng.randbytes(1024)),
        ("binary 300 KiB zeros", bytes(300 * 1024)),
    ]


PAYLOADS = payloads()


def fragments(message: str | bytes, sizes: list[int]) -> list[str | bytes]:
    """`message` cut into pieces of the given sizes (cycled), the last piece
    taking the rest; an empty piece is kept where a size is 0."""
    out: list[str | bytes] = []
    pos = 0
    i = 0
    while pos < len(message):
        size = sizes[i % len(sizes)]
        out.append(message[pos : pos + size])
        pos += size
        i += 1
    return out or [message[:0]]


@dataclass
class Config:
    name: str
    # None: `compression="deflate"`, websockets' default offer.
    factory: ClientPerMessageDeflateFactory | None
    # Expected negotiated values, from the client's point of view.
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    # Response parameters the server must include.
    required_params: list[str] = field(default_factory=list)


def configurations() -> list[Config]:
    configs = [
        Config("default (compression=\"deflate\")", None),
        Config(
            "client_no_context_takeover",
            ClientPerMessageDeflateFactory(client_no_context_takeover=True),
            client_no_context_takeover=True,
        ),
        Config(
            "server_no_context_takeover",
            ClientPerMessageDeflateFactory(server_no_context_takeover=True),
            server_no_context_takeover=True,
            required_params=["server_no_context_takeover"],
        ),
        Config(
            "client_no_context_takeover + server_no_context_takeover",
            ClientPerMessageDeflateFactory(
                client_no_context_takeover=True, server_no_context_takeover=True
            ),
            client_no_context_takeover=True,
            server_no_context_takeover=True,
            required_params=["server_no_context_takeover"],
        ),
    ]
    # Every window size on each side, server's first; the server must
    # answer a server_max_window_bits offer with it, and may leave the
    # client's out of its response.
    for side, required in (("server", True), ("client", False)):
        param = f"{side}_max_window_bits"
        for bits in range(9, 16):
            setting = {param: bits}
            configs.append(
                Config(
                    f"{param}={bits}",
                    ClientPerMessageDeflateFactory(**setting),
                    **setting,
                    required_params=[f"{param}={bits}"] if required else [],
                )
            )
    return configs


class Failure(Exception):
    pass


def describe(message: str | bytes) -> str:
    kind = "text" if isinstance(message, str) else "binary"
    encoded = message.encode() if isinstance(message, str) else message
    return f"{kind}, {len(encoded)} bytes"


def check_echo(label: str, sent: str | bytes, got: str | bytes) -> None:
    if type(got) is not type(sent):
        raise Failure(
            f"{label}: sent {describe(sent)}, got back {describe(got)} (wrong type)"
        )
    if got != sent:
        first = next(
            (i for i, (a, b) in enumerate(zip(sent, got)) if a != b),
            min(len(sent), len(got)),
        )
        raise Failure(
            f"{label}: sent {describe(sent)}, got back {describe(got)}; "
            f"first difference at index {first}"
        )


def parse_extensions(header: str) -> list[tuple[str, list[str]]]:
    """`Sec-WebSocket-Extensions` as (name, [param, ...]), params with
    whitespace removed (`a=1`, `b`)."""
    result = []
    for item in header.split(","):
        parts = [p.strip().replace(" ", "") for p in item.split(";")]
        if parts[0]:
            result.append((parts[0], [p for p in parts[1:] if p]))
    return result


class CompressedCounter:
    """Wraps the negotiated extension's `decode` to count incoming data
    messages that arrived compressed (RSV1 on their first frame)."""

    def __init__(self, ext: PerMessageDeflate) -> None:
        self.compressed = 0
        self.plain = 0
        original = ext.decode

        def decode(frame, *, max_size=None):
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                if frame.rsv1:
                    self.compressed += 1
                else:
                    self.plain += 1
            return original(frame, max_size=max_size)

        ext.decode = decode  # type: ignore[method-assign]


def check_negotiation(ws, config: Config) -> tuple[str, CompressedCounter]:
    header = ws.response.headers.get("Sec-WebSocket-Extensions")
    if header is None:
        raise Failure("no Sec-WebSocket-Extensions in the response: deflate not negotiated")
    offered = parse_extensions(header)
    if [name for name, _ in offered] != ["permessage-deflate"]:
        raise Failure(f"unexpected Sec-WebSocket-Extensions: {header!r}")
    params = offered[0][1]
    for required in config.required_params:
        if required not in params:
            raise Failure(f"response {header!r} lacks {required}")

    extensions = ws.protocol.extensions
    if len(extensions) != 1 or not isinstance(extensions[0], PerMessageDeflate):
        raise Failure(f"negotiated extensions: {extensions!r}")
    ext = extensions[0]
    expected = {
        "remote_no_context_takeover": config.server_no_context_takeover,
        "local_no_context_takeover": config.client_no_context_takeover,
        "remote_max_window_bits": config.server_max_window_bits,
        "local_max_window_bits": config.client_max_window_bits,
    }
    for attr, value in expected.items():
        if getattr(ext, attr) != value:
            raise Failure(
                f"negotiated {attr}={getattr(ext, attr)}, expected {value} "
                f"(response {header!r})"
            )
    return header, CompressedCounter(ext)


async def exchange(ws, config: Config) -> tuple[str, int, CompressedCounter]:
    header, counter = check_negotiation(ws, config)
    messages = 0

    # Round trips, each payload several times, interleaved so that the
    # compression contexts carry a mix of earlier messages.
    for round_ in range(REPEATS):
        for label, payload in PAYLOADS:
            await ws.send(payload)
            got = await ws.recv()
            check_echo(f"round {round_ + 1}, {label}", payload, got)
            messages += 1

    # Pipelined: every payload sent before any echo is read.
    for _, payload in PAYLOADS:
        await ws.send(payload)
    for label, payload in PAYLOADS:
        check_echo(f"pipelined, {label}", payload, await ws.recv())
        messages += 1

    # Fragmented sends (an async iterator of fragments: one compressed
    # message across several frames), including uneven and empty fragments.
    text = PAYLOADS[3][1]
    binary = PAYLOADS[5][1]
    random_binary = PAYLOADS[4][1]
    fragmented = [
        ("fragmented text, 3 x 1 byte", "abc", [1]),
        ("fragmented text 200 KiB unicode, 4 KiB pieces", text, [4096]),
        ("fragmented text 200 KiB unicode, uneven pieces", text, [1, 0, 7, 65536, 333]),
        ("fragmented binary 300 KiB zeros, 64 KiB pieces", binary, [65536]),
        ("fragmented binary 1 KiB random, uneven pieces", random_binary, [0, 1, 100, 17]),
    ]
    for round_ in range(REPEATS):
        for label, payload, sizes in fragmented:
            pieces = fragments(payload, sizes)

            async def iterate(pieces=pieces):
                for piece in pieces:
                    yield piece

            await ws.send(iterate())
            got = await ws.recv()
            check_echo(f"round {round_ + 1}, {label} ({len(pieces)} frames)", payload, got)
            messages += 1

    return header, messages, counter


async def run_config(
    url: str, config: Config, tls: ssl.SSLContext | None
) -> tuple[bool, str]:
    started = time.monotonic()
    kwargs = dict(
        open_timeout=OPEN_TIMEOUT,
        close_timeout=CLOSE_TIMEOUT,
        max_size=MAX_SIZE,
        ping_interval=None,
    )
    if tls is not None:
        kwargs["ssl"] = tls
    if config.factory is None:
        kwargs["compression"] = "deflate"
    else:
        kwargs["compression"] = None
        kwargs["extensions"] = [config.factory]
    ws = None
    try:
        async with asyncio.timeout(CONFIG_TIMEOUT):
            ws = await connect(url, **kwargs)
            header, messages, counter = await exchange(ws, config)
            await ws.close()
            if ws.close_code != 1000:
                raise Failure(
                    f"closing handshake: server answered with code {ws.close_code} "
                    f"{ws.close_reason!r}, expected 1000"
                )
            if THRESHOLD and counter.compressed == 0:
                raise Failure(f"none of {messages} echoes arrived compressed")
            if not THRESHOLD and (counter.plain or counter.compressed != messages):
                raise Failure(
                    f"{counter.compressed} of {messages} echoes arrived compressed "
                    f"({counter.plain} uncompressed); the server compresses every message"
                )
    except TimeoutError:
        detail = f"timed out after {CONFIG_TIMEOUT:.0f} s"
        if ws is not None and ws.close_code is not None:
            detail += f" (connection closed with {ws.close_code} {ws.close_reason!r})"
        return False, detail
    except Failure as e:
        detail = str(e)
        if ws is not None and ws.close_code is not None:
            detail += f" (connection closed with {ws.close_code} {ws.close_reason!r})"
        return False, detail
    except Exception as e:  # noqa: BLE001 - any error fails the configuration
        detail = f"{type(e).__name__}: {e}"
        if ws is not None and ws.close_code is not None:
            detail += f" (close code {ws.close_code} {ws.close_reason!r})"
        if "--verbose" in sys.argv:
            traceback.print_exc()
        return False, detail
    finally:
        if ws is not None:
            await ws.close()
    elapsed = time.monotonic() - started
    return True, (
        f"{header}; {messages} messages echoed, {counter.compressed} compressed, "
        f"closed 1000 ({elapsed:.2f} s)"
    )


async def main(url: str, tls: ssl.SSLContext | None) -> int:
    passed = failed = 0
    for config in configurations():
        ok, detail = await run_config(url, config, tls)
        if ok:
            passed += 1
            print(f"ok   {config.name}: {detail}", flush=True)
        else:
            failed += 1
            print(f"FAIL {config.name}: {detail}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


def tls_context(args: list[str]) -> ssl.SSLContext | None:
    """A context trusting only the CA after `--ca`, checking the host name;
    `None` without `--ca`."""
    if "--ca" not in args:
        return None
    ctx = ssl.create_default_context(cafile=args[args.index("--ca") + 1])
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


THRESHOLD = "--threshold" in sys.argv

if __name__ == "__main__":
    args = sys.argv[1:]
    ca = args[args.index("--ca") + 1] if "--ca" in args[:-1] else None
    urls = [a for a in args if not a.startswith("--") and a != ca]
    wss = len(urls) == 1 and urls[0].startswith("wss://")
    if len(urls) != 1 or wss != (ca is not None):
        print(
            f"usage: {sys.argv[0]} [--verbose] [--threshold] "
            "ws://HOST:PORT/PATH | wss://HOST:PORT/PATH --ca CA.pem",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(asyncio.run(main(urls[0], tls_context(args))))
