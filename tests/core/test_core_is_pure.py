import subprocess
import sys

FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlalchemy", "git", "alembic", "psycopg")


def test_core_and_services_import_no_slack_sql_or_git() -> None:
    code = (
        "import sys, bot.core.models, bot.core.lifecycle, bot.core.commands, bot.core.naming, bot.core.ports, "
        "bot.services.incidents, bot.services.timeline, bot.services.jobs\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(','.join(sorted(bad)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
