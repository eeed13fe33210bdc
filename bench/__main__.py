"""``python -m bench [part ...]``: runs the measurements, prints a table, writes bench/latest.json."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

from closer.dev_server import start_dev_server

from . import throughput
from .env import SHORT

PARTS = {"throughput": throughput.measure}


async def main(selected: list[str]) -> dict:
    results: dict = {}
    env = await start_dev_server()
    try:
        for name in selected:
            started = time.monotonic()
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            results[name] = await PARTS[name](env.client)
            print(f"[bench] {name}: {time.monotonic() - started:.0f} s {results[name]}", file=sys.stderr, flush=True)
    finally:
        await env.shutdown()
    return results


if __name__ == "__main__":
    selected = sys.argv[1:] or list(PARTS)
    results = asyncio.run(main(selected))
    print(json.dumps(results, indent=2))
