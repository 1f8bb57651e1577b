#!/usr/bin/env python3
"""permessage-deflate (RFC 7692) echo server for wsup's client.

Usage: deflate_server.py [--no-compression] [--server-max-window-bits N]
                         [--client-max-window-bits N]
                         [--server-no-context-takeover]
                         [--client-no-context-takeover]
                         [--tls CERT.pem KEY.pem]

Serves WebSocket on 127.0.0.1 (a free port) with the Python `websockets`
package, an independent implementation of RFC 6455 and RFC 7692, its
permessage-deflate configured by the flags (the parameters of
`ServerPerMessageDeflateFactory`; `--no-compression` turns it off). Echoes
every data message as it came (text as text, binary as binary). With
`--tls`, serves `wss://` with that certificate and key.

Prints `listening on 127.0.0.1:PORT` once it accepts, then one line per
connection when it ends:

    connection: extensions=VALUE received=N compressed=M close=CODE

VALUE is the `Sec-WebSocket-Extensions` the server answered (`none`), N the
data messages received, M how many of them arrived compressed (RSV1 on the
first frame), CODE the close code the client sent (`none` without one).
Runs until killed. Started by `cargo xtask interop --client`, once per
configuration.
"""

from __future__ import annotations

import asyncio
import ssl
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Opcode

# wsup's client sends messages of up to a few MiB.
MAX_SIZE = 64 * 1024 * 1024


class CompressedCounter:
    """Counts the data messages that arrive compressed, wrapping the
    negotiated extension's `decode`."""

    def __init__(self, ws) -> None:
        self.received = 0
        self.compressed = 0
        for ext in ws.protocol.extensions:
            if isinstance(ext, PerMessageDeflate):
                original = ext.decode

                def decode(frame, *, max_size=None, original=original):
                    if frame.opcode in (Opcode.TEXT, Opcode.BINARY) and frame.rsv1:
                        self.compressed += 1
                    return original(frame, max_size=max_size)

                ext.decode = decode  # type: ignore[method-assign]


async def echo(ws) -> None:
    counter = CompressedCounter(ws)
    header = ws.response.headers.get("Sec-WebSocket-Extensions", "none")
    try:
        async for message in ws:
            counter.received += 1
            await ws.send(message)
    except ConnectionClosed:
        pass
    close = ws.close_code if ws.close_code is not None else "none"
    print(
        f"connection: extensions={header} received={counter.received} "
        f"compressed={counter.compressed} close={close}",
        flush=True,
    )


def parse(args: list[str]) -> dict:
    """The `serve` keyword arguments the flags ask for."""
    factory: dict = {}
    compression = True
    tls: dict = {}
    it = iter(args)
    for flag in it:
        if flag == "--tls":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(next(it), next(it))
            tls["ssl"] = context
        elif flag == "--no-compression":
            compression = False
        elif flag in ("--server-no-context-takeover", "--client-no-context-takeover"):
            factory[flag[2:].replace("-", "_")] = True
        elif flag in ("--server-max-window-bits", "--client-max-window-bits"):
            factory[flag[2:].replace("-", "_")] = int(next(it))
        else:
            print(f"{sys.argv[0]}: unknown flag {flag}\n{__doc__}", file=sys.stderr)
            sys.exit(2)
    if not compression:
        return {"compression": None, **tls}
    return {
        "compression": None,
        "extensions": [ServerPerMessageDeflateFactory(**factory)],
        **tls,
    }


async def main(kwargs: dict) -> None:
    async with serve(
        echo, "127.0.0.1", 0, max_size=MAX_SIZE, ping_interval=None, **kwargs
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
