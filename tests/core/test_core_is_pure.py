"""Imports point inward: the domain core and the use cases load no Slack, SQL or git library."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlalchemy", "git", "alembic", "psycopg", "slack_sim", "waitress")

# Import every module of bot.core and bot.services in a fresh interpreter, then list what got loaded.
PROBE = f"""
import importlib, pkgutil, sys
import bot.core, bot.services
names = []
for package in (bot.core, bot.services):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
        names.append(module.name)
print(len(names))
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r})))
"""


def test_core_and_services_import_no_slack_sql_or_git() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    count, loaded = out.stdout.splitlines()
    assert int(count) >= 15  # every module was walked, not a handful
    assert loaded == ""
