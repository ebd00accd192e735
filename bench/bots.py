"""The processes under test: `incident-bot serve` (from this or another checkout) and the bare Bolt app."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[1]
# Where the measured processes keep their compiled modules (None: as the environment says).
_bytecode: Path | None = None


def use_bytecode_cache(folder: Path, trees: list[Tree]) -> None:
    """Measure bots as they are installed: `pip install` (and the Dockerfile's image) compiles every
    module once, so a start reads bytecode. A checkout under PYTHONDONTWRITEBYTECODE=1 would compile
    the bot's modules from source at every start instead, which costs time and ≈1.3 MB of memory that
    no deployed bot pays. Each tree is compiled once here, into `folder` (the checkouts stay clean)."""
    global _bytecode
    _bytecode = folder
    jobs = [(tree.python, tree.root / "bot") for tree in trees] + [(sys.executable, REPO_ROOT / "bench")]
    for python, folder in jobs:
        subprocess.run(
            [python, "-m", "compileall", "-q", str(folder)], env=child_environ({}), check=True, capture_output=True
        )


def child_environ(env: dict[str, str]) -> dict[str, str]:
    """This process's environment plus `env`, with the bytecode cache (when one is in use)."""
    merged = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    if _bytecode is not None:
        merged.pop("PYTHONDONTWRITEBYTECODE", None)
        merged["PYTHONPYCACHEPREFIX"] = str(_bytecode)
    return merged


_LISTENING = re.compile(r"listening on http://[\d.]+:(\d+)")


@dataclass(frozen=True)
class Tree:
    """A checkout of this repo whose bot is measured: its own virtualenv's python runs `-m bot`."""

    label: str
    root: Path
    python: str

    @classmethod
    def current(cls) -> Tree:
        return cls(label="this", root=REPO_ROOT, python=sys.executable)

    @classmethod
    def at(cls, folder: str) -> Tree:
        root = Path(folder).resolve()
        if root == REPO_ROOT:
            return cls(label=root.name, root=root, python=sys.executable)
        python = root / ".venv" / "bin" / "python"
        if not python.exists():
            raise SystemExit(f"bench: {python} does not exist; make the checkout's virtualenv first")
        return cls(label=root.name, root=root, python=str(python))

    def bot(self, *args: str) -> list[str]:
        return [self.python, "-m", "bot", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    """A child process whose output goes to a log file (so no pipe ever fills up and blocks it)."""

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self.started = time.perf_counter()
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(argv, env=child_environ(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        self.port = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_listening(self, timeout: float = 60.0) -> int:
        """Wait for the "listening on" line (as the crash tests do) and return the port it names."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.output())
            if found:
                self.port = int(found.group(1))
                return self.port
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.log.name}: exited early:\n{self.output()[-3000:]}")
            time.sleep(0.01)
        raise RuntimeError(f"{self.log.name}: not listening after {timeout:.0f} s:\n{self.output()[-3000:]}")

    def wait_healthy(self, port: int, timeout: float = 60.0, poll: float = 0.005) -> float:
        """Poll /healthz until it answers 200; returns seconds since the process was spawned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if healthz(port):
                return time.perf_counter() - self.started
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.log.name}: exited early:\n{self.output()[-3000:]}")
            time.sleep(poll)
        raise RuntimeError(f"{self.log.name}: /healthz not 200 after {timeout:.0f} s")

    def rss_mb(self) -> float:
        """Resident memory (VmRSS) in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)

    def __enter__(self) -> Process:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def bot_env(env: dict[str, str], git_wrapper: Path | None) -> dict[str, str]:
    """The bot's environment, with the counting git wrapper first on PATH when given."""
    if git_wrapper is None:
        return env
    return {**env, "PATH": f"{git_wrapper}{os.pathsep}{os.environ.get('PATH', '')}"}


def start_bot(
    tree: Tree, env: dict[str, str], *, log: Path, git_wrapper: Path | None = None, port: int | None = None
) -> Process:
    """`incident-bot serve` as a child process, like the crash tests' `Serve`; returns once it listens."""
    # Port 0: the bot binds a free port itself and names it (a port picked here could be taken meanwhile).
    argv = tree.bot("serve", "--host", "127.0.0.1", "--port", "0" if port is None else str(port))
    return _listening(Process(argv, env=bot_env(env, git_wrapper), cwd=tree.root, log=log))


def _listening(process: Process) -> Process:
    """The process once it says it listens; stopped if it never does."""
    try:
        process.wait_listening()
    except BaseException:
        process.stop()
        raise
    return process


def start_bare(
    secret: str,
    api_url: str,
    *,
    log: Path,
    port: int | None = None,
    wait: bool = True,
    store: str | None = None,
    env: dict[str, str] | None = None,
) -> Process:
    """The bare Bolt app as its own process (run with this interpreter, from this checkout, with `env`
    added to its environment); with `store` (a database URL), the one that stores a row before each ack."""
    chosen = free_port() if port is None else port
    argv = [sys.executable, "-m", "bench.bare_app", "--port", str(chosen), "--secret", secret, "--api-url", api_url]
    if store is not None:
        argv += ["--store", store]
    process = Process(argv, env=env or {}, cwd=REPO_ROOT, log=log)
    process.port = chosen
    return _listening(process) if wait else process


def run_cli(tree: Tree, env: dict[str, str], *args: str, log: Path, timeout: float = 600.0) -> tuple[float, str]:
    """`incident-bot <args>` to completion: (its wall time in seconds, its stdout); raises if it failed.
    Its stderr (the log) goes to `log`."""
    started = time.perf_counter()
    with open(log, "wb") as err:
        done = subprocess.run(
            tree.bot(*args),
            env=child_environ(env),
            cwd=tree.root,
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=timeout,
            check=False,
        )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"incident-bot {' '.join(args)} exited {done.returncode}:\n{log.read_text()[-3000:]}")
    return elapsed, done.stdout.decode("utf-8", errors="replace")
