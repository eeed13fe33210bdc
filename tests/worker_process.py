"""A closer worker as a real subprocess (`python worker.py`), for crash tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .conftest import emulator_env

REPO = Path(__file__).resolve().parent.parent
READY_LINE = "closer worker polling"


class WorkerProcess:
    def __init__(self, temporal_address: str, task_queue: str, emulator_url: str, **extra_env: str) -> None:
        self.env = {**emulator_env(temporal_address, task_queue, emulator_url), **extra_env}
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile("w+", prefix="closer-worker-", suffix=".log", delete=False)  # noqa: SIM115 (open for the process's life)

    def start(self, timeout: float = 20.0) -> None:
        self._spawn()
        deadline = time.monotonic() + timeout
        while READY_LINE not in Path(self.log.name).read_text():
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited {self.process.returncode}:\n{Path(self.log.name).read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not ready in {timeout}s:\n{Path(self.log.name).read_text()}")
            time.sleep(0.05)

    def refusal(self, timeout: float = 20.0) -> tuple[int, str]:
        """Run a worker expected to refuse to start: its exit status and all it printed."""
        self._spawn()
        assert self.process is not None
        try:
            return self.process.wait(timeout), self.output()
        finally:
            self.stop()  # still running: it did not refuse, and must not outlive the test

    def _spawn(self) -> None:
        self.log.seek(0)
        self.log.truncate()
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "worker.py")], cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """SIGKILL: no cleanup, no graceful shutdown, exactly like a crashed host."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return Path(self.log.name).read_text()
