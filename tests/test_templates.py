"""One RCA template ships in the package; a team's TEMPLATES_DIR overrides it, file by file."""

from __future__ import annotations

from pathlib import Path

from bot.container import rca_templates
from tests.paths import ROOT

SHIPPED = ROOT / "bot" / "templates" / "rca.md.j2"


def test_the_repo_holds_exactly_one_rca_template() -> None:
    found = [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*.j2")
        if not any(part.startswith(".") or part in {"build", "dist"} for part in path.relative_to(ROOT).parts)
    ]
    assert found == ["bot/templates/rca.md.j2"]


def test_without_a_templates_dir_the_shipped_template_is_used() -> None:
    assert rca_templates(None).get_template("rca.md.j2").filename == str(SHIPPED)


def test_a_templates_dir_overrides_the_shipped_template(tmp_path: Path) -> None:
    (tmp_path / "rca.md.j2").write_text("Custom {{ title }} / {{ severity }}\n", encoding="utf-8")
    rendered = rca_templates(str(tmp_path)).get_template("rca.md.j2").render(title="Leak", severity="SEV-1")
    assert rendered == "Custom Leak / SEV-1\n"


def test_a_templates_dir_without_the_rca_template_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "other.md.j2").write_text("unrelated", encoding="utf-8")
    environment = rca_templates(str(tmp_path))
    assert environment.get_template("rca.md.j2").filename == str(SHIPPED)
