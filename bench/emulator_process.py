"""The emulator in a process of its own: ``python -m bench.emulator_process PORT CONFIG_JSON``.

Like ``python -m emulator``, without uvicorn's per-request access log (it would cost the emulator
as much CPU as the requests) and with a config from the command line.
"""

from __future__ import annotations

import json
import sys

import uvicorn

from emulator.app import create_app
from emulator.config import EmulatorConfig


def main() -> None:
    port, config = int(sys.argv[1]), EmulatorConfig(**json.loads(sys.argv[2]))
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)


if __name__ == "__main__":
    main()
