"""A docs repo to publish into: a bare "remote" and a clone of it, like a team's real setup."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import git

SKELETON = Path(__file__).with_name("docs_skeleton")
_IDENTITY = {"user.name": "Docs Seeder", "user.email": "seeder@example.com"}


@dataclass(frozen=True)
class DocsRepo:
    remote: Path
    clone: Path

    def remote_file(self, path: str) -> str | None:
        """A file as the remote's main branch has it (what the team would pull)."""
        try:
            return str(git.Repo(self.remote).git.show(f"main:{path}"))
        except git.GitCommandError:
            return None

    def remote_log(self) -> list[str]:
        """Commit subjects on the remote's main branch, newest first."""
        return str(git.Repo(self.remote).git.log("main", "--format=%s")).splitlines()

    def person_clone(self, where: Path, name: str = "Human Editor", email: str = "human@example.com") -> git.Repo:
        """Another clone, as a person editing the docs by hand would have (with their own identity)."""
        repo = git.Repo.clone_from(self.remote, where)
        with repo.config_writer() as config:
            config.set_value("user", "name", name)
            config.set_value("user", "email", email)
        return repo

    def update_checkout(self) -> None:
        """Bring the clone's own checkout up to the remote (the bot commits in a worktree of its own)."""
        git.Repo(self.clone).git.pull("--ff-only", "-q")

    def remote_commit_files(self, rev: str = "main") -> list[str]:
        """Files changed by one commit on the remote."""
        out = git.Repo(self.remote).git.show(rev, "--name-only", "--format=")
        return [line for line in str(out).splitlines() if line]


def create_docs_repo(base: Path, *, seed: Path | None = None) -> DocsRepo:
    """Seed a bare remote from `seed` (default: a small fleet-repo skeleton) and clone it."""
    work = base / "seed"
    shutil.copytree(seed or SKELETON, work)
    (work / "DOCS" / "incidents").mkdir(parents=True, exist_ok=True)
    keep = work / "DOCS" / "incidents" / ".gitkeep"
    if not any((work / "DOCS" / "incidents").iterdir()):
        keep.write_text("")
    repo = git.Repo.init(work, initial_branch="main")
    with repo.config_writer() as config:
        for key, value in _IDENTITY.items():
            section, option = key.split(".")
            config.set_value(section, option, value)
    repo.git.add(A=True)
    repo.index.commit("Seed the docs repo")
    remote = base / "docs.git"
    git.Repo.clone_from(work, remote, bare=True)
    clone = base / "docs"
    git.Repo.clone_from(remote, clone)
    shutil.rmtree(work)
    return DocsRepo(remote=remote, clone=clone)
