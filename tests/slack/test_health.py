"""/healthz says the process is up; /readyz says whether it should be sent work (Kubernetes' probes)."""

from __future__ import annotations

import urllib.error
import urllib.request

from bot.server import RunningBot


def get(bot: RunningBot, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{bot.port}{path}", timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_running_bot_is_alive_and_ready(running_bot: RunningBot) -> None:
    assert get(running_bot, "/healthz") == (200, "ok\n")
    assert get(running_bot, "/readyz") == (200, "ready\n")


def test_a_bot_whose_job_runner_stopped_is_alive_but_not_ready(running_bot: RunningBot) -> None:
    running_bot.container.runner.stop(1)
    assert get(running_bot, "/healthz") == (200, "ok\n")
    assert get(running_bot, "/readyz") == (503, "job runner not running\n")
