"""The git publisher against real repositories: a bare remote, the bot's clone, and a human's clone."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.rca import insert_fleet_status_entry
from bot.publish import GitPublisher, PublishError
from tests.paths import FLEET_REPO

FLEET = "fleet-status.md"
RCA = "DOCS/incidents/2026-11-25-db-down-rca.md"
ENTRY = "- [system] **INCIDENT — SEV-1 DB down (2026-11-25 10:00–10:30 UTC).** Failed over. Full RCA: `" + RCA + "`"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.rstrip("\n")


@pytest.fixture(autouse=True)
def no_git_config_on_this_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """CI has no global git identity; make every machine look like that."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class DocsRepo:
    root: Path
    remote: Path
    clone: Path

    def human_clone(self, name: str = "human") -> Path:
        path = self.root / name
        git(self.root, "clone", "-q", str(self.remote), str(path))
        git(path, "config", "user.name", "Human")
        git(path, "config", "user.email", "human@example.com")
        return path

    def remote_file(self, path: str) -> str:
        return git(self.remote, "show", f"main:{path}") + "\n"

    def remote_log(self) -> list[str]:
        """`author | subject` of every commit on the remote's main, newest first."""
        return git(self.remote, "log", "--format=%an | %cn | %s", "main").splitlines()


@pytest.fixture
def docs(tmp_path: Path) -> DocsRepo:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(remote), str(seed))
    shutil.copytree(FLEET_REPO, seed, dirs_exist_ok=True)
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "-q", "-m", "Seed docs")
    git(seed, "push", "-q", "-u", "origin", "main")
    clone = tmp_path / "bot-clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    return DocsRepo(root=tmp_path, remote=remote, clone=clone)


def add_entry(current: str | None) -> str:
    return insert_fleet_status_entry(current or "", ENTRY)


def write_rca(current: str | None) -> str:
    return "# RCA: DB down\n"


def human_pushes(clone: Path, path: str, change: Callable[[str], str], message: str) -> None:
    git(clone, "pull", "-q", "--rebase")
    file = clone / path
    file.write_text(change(file.read_text(encoding="utf-8")), encoding="utf-8")
    git(clone, "commit", "-q", "-am", message)
    git(clone, "push", "-q")


def path_with_git_that_writes_down_calls(folder: Path, calls: Path) -> str:
    """A PATH whose `git` is the real one behind a wrapper that appends each call's arguments to `calls`."""
    wrapper = folder / "bin"
    wrapper.mkdir()
    real = shutil.which("git")
    (wrapper / "git").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexec "{real}" "$@"\n', encoding="utf-8")
    (wrapper / "git").chmod(0o755)
    return f"{wrapper}:{Path(str(real)).parent}"


def test_publish_commits_only_the_edited_files_as_the_bot_and_pushes(docs: DocsRepo) -> None:
    result = GitPublisher(docs.clone).publish(edits={FLEET: add_entry, RCA: write_rca}, message="RCA: DB down")

    assert result.pushed and sorted(result.files) == sorted([FLEET, RCA])
    assert result.commit_sha == git(docs.remote, "rev-parse", "main")
    assert docs.remote_log()[0] == "incident-bot | incident-bot | RCA: DB down"
    assert git(docs.remote, "show", "--format=%ae", "-s", "main") == "incident-bot@users.noreply.local"
    assert docs.remote_file(RCA) == "# RCA: DB down\n"
    fleet = docs.remote_file(FLEET)
    assert fleet.index(ENTRY) == fleet.index("## Recent Activity\n\n") + len("## Recent Activity\n\n")
    assert git(docs.clone, "status", "--porcelain") == ""


def test_unrelated_uncommitted_changes_in_the_clone_are_left_exactly_as_they_were(docs: DocsRepo) -> None:
    human_pushes(docs.human_clone(), FLEET, lambda t: t + "\nUpstream line.\n", "Upstream note")
    (docs.clone / "DOCS/system-operations.md").write_text("local edit, not for the bot\n", encoding="utf-8")
    (docs.clone / "scratch.txt").write_text("untracked\n", encoding="utf-8")
    (docs.clone / "staged.md").write_text("staged by someone\n", encoding="utf-8")
    git(docs.clone, "add", "staged.md")
    before = git(docs.clone, "status", "--porcelain")

    result = GitPublisher(docs.clone).publish(edits={FLEET: add_entry}, message="Fleet status")

    assert result.files == [FLEET]
    assert git(docs.clone, "status", "--porcelain") == before
    assert (docs.clone / "DOCS/system-operations.md").read_text(encoding="utf-8") == "local edit, not for the bot\n"
    assert (docs.clone / "scratch.txt").read_text(encoding="utf-8") == "untracked\n"
    assert git(docs.remote, "show", "--name-only", "--format=", "main") == FLEET
    assert "Upstream line." in docs.remote_file(FLEET) and ENTRY in docs.remote_file(FLEET)


def test_local_changes_that_clash_with_upstream_neither_stop_the_publish_nor_are_touched(docs: DocsRepo) -> None:
    ops = "DOCS/system-operations.md"
    human_pushes(docs.human_clone(), ops, lambda t: t + "\nUpstream line.\n", "Ops note")
    (docs.clone / ops).write_text("local edit\n", encoding="utf-8")
    (docs.clone / FLEET).write_text("someone's draft of the fleet status\n", encoding="utf-8")
    head = git(docs.clone, "rev-parse", "HEAD")

    result = GitPublisher(docs.clone).publish(edits={FLEET: add_entry}, message="Fleet status")

    assert result.pushed and ENTRY in docs.remote_file(FLEET) and "Upstream line." in docs.remote_file(ops)
    assert sorted(git(docs.clone, "status", "--porcelain").splitlines()) == sorted([f" M {FLEET}", f" M {ops}"])
    assert (docs.clone / ops).read_text(encoding="utf-8") == "local edit\n"
    assert git(docs.clone, "rev-parse", "HEAD") == head
    assert git(docs.clone, "stash", "list") == ""


def test_leftovers_of_a_crashed_run_are_dropped_and_the_edits_made_again(docs: DocsRepo) -> None:
    publisher = GitPublisher(docs.clone)
    publisher.pull()  # the bot's worktree exists from the first use on

    def killed(current: str | None) -> str:
        raise KeyboardInterrupt  # the run dies with two files half written

    with pytest.raises(KeyboardInterrupt):
        publisher.publish(
            edits={FLEET: lambda _: "half written", RCA: lambda _: "# RCA: half", "DOCS/later.md": killed},
            message="RCA",
        )
    assert (publisher.worktree / FLEET).read_text(encoding="utf-8") == "half written"

    for _ in range(3):
        result = publisher.publish(edits={FLEET: add_entry, RCA: write_rca}, message="RCA")

    assert result.pushed
    assert ENTRY in docs.remote_file(FLEET) and docs.remote_file(RCA) == "# RCA: DB down\n"
    assert "half written" not in docs.remote_file(FLEET)
    assert git(publisher.worktree, "status", "--porcelain") == ""
    assert git(docs.clone, "stash", "list") == "" and git(docs.clone, "status", "--porcelain") == ""


def test_a_new_process_drops_leftovers_it_finds_without_a_marker(docs: DocsRepo) -> None:
    GitPublisher(docs.clone).pull()  # an earlier process made the bot's worktree
    worktree = GitPublisher(docs.clone).worktree
    (worktree / FLEET).write_text("left by an older version", encoding="utf-8")
    (worktree / "DOCS" / "stray.md").write_text("stray\n", encoding="utf-8")

    result = GitPublisher(docs.clone).publish(edits={FLEET: add_entry, RCA: write_rca}, message="RCA", pulled=True)

    assert result.pushed
    assert ENTRY in docs.remote_file(FLEET) and "left by an older version" not in docs.remote_file(FLEET)
    assert "stray" not in git(docs.clone, "ls-tree", "-r", "--name-only", "origin/main")
    assert git(worktree, "status", "--porcelain") == ""


def test_a_pull_gets_past_a_crashed_runs_leftovers(docs: DocsRepo) -> None:
    publisher = GitPublisher(docs.clone)
    publisher.pull()
    (publisher.worktree / FLEET).write_text("half written", encoding="utf-8")
    human_pushes(docs.human_clone(), FLEET, lambda t: t + "\nUpstream line.\n", "Upstream note")

    publisher.pull()

    assert "Upstream line." in (publisher.read(FLEET) or "")
    assert git(publisher.worktree, "status", "--porcelain") == ""


def test_a_clone_in_any_state_people_leave_it_still_publishes(docs: DocsRepo) -> None:
    # a half-done rebase, a detached HEAD and untracked files in the clone's own checkout
    (docs.clone / "notes.txt").write_text("untracked\n", encoding="utf-8")
    publisher = GitPublisher(docs.clone)
    publisher.pull()
    git(docs.clone, "checkout", "-q", "--detach")
    (docs.clone / ".git" / "rebase-merge").mkdir()

    assert publisher.publish(edits={FLEET: add_entry}, message="Fleet status").pushed
    assert ENTRY in docs.remote_file(FLEET)
    assert (docs.clone / "notes.txt").read_text(encoding="utf-8") == "untracked\n"


def test_publishing_the_same_content_again_makes_no_commit(docs: DocsRepo) -> None:
    publisher = GitPublisher(docs.clone)
    first = publisher.publish(edits={FLEET: add_entry}, message="Fleet status")
    again = publisher.publish(edits={FLEET: add_entry}, message="Fleet status")
    unchanged = publisher.publish(edits={FLEET: lambda text: text or ""}, message="Nothing")

    assert first.commit_sha is not None
    assert (again.commit_sha, again.files, unchanged.commit_sha) == (None, [], None)
    assert git(docs.remote, "rev-parse", "main") == first.commit_sha
    assert [line for line in docs.remote_log() if line.startswith("incident-bot")] == [
        "incident-bot | incident-bot | Fleet status"
    ]


def test_a_push_race_ends_with_both_changes_and_one_bot_commit(docs: DocsRepo) -> None:
    human = docs.human_clone()

    def add_entry_while_someone_pushes(current: str | None) -> str:
        if "Human note" not in (current or ""):
            human_pushes(human, FLEET, lambda t: t.replace("## Notes\n\n", "## Notes\n\n- Human note.\n"), "Note")
        return add_entry(current)

    result = GitPublisher(docs.clone).publish(edits={FLEET: add_entry_while_someone_pushes}, message="Fleet status")

    fleet = docs.remote_file(FLEET)
    assert ENTRY in fleet and "- Human note.\n" in fleet
    assert docs.remote_log()[:2] == ["incident-bot | incident-bot | Fleet status", "Human | Human | Note"]
    assert result.commit_sha == git(docs.remote, "rev-parse", "main")


def test_a_conflicting_race_reapplies_the_edits_on_top_of_the_new_upstream(docs: DocsRepo) -> None:
    human = docs.human_clone()
    calls: list[str | None] = []
    human_entry = "- [human] Rotated the gateway keys."

    def add_entry_while_someone_edits_the_same_lines(current: str | None) -> str:
        calls.append(current)
        if len(calls) == 1:
            human_pushes(human, FLEET, lambda t: insert_fleet_status_entry(t, human_entry), "Human entry")
        return add_entry(current)

    result = GitPublisher(docs.clone).publish(
        edits={FLEET: add_entry_while_someone_edits_the_same_lines}, message="Fleet status"
    )

    assert len(calls) == 2 and human_entry in (calls[1] or "")
    assert docs.remote_file(FLEET).count(ENTRY) == 1
    assert f"## Recent Activity\n\n{ENTRY}\n{human_entry}\n" in docs.remote_file(FLEET)
    assert docs.remote_log()[:2] == ["incident-bot | incident-bot | Fleet status", "Human | Human | Human entry"]
    assert result.commit_sha == git(docs.remote, "rev-parse", "main")
    assert git(docs.clone, "status", "--porcelain") == ""


def test_retrying_publish_after_a_failed_push_pushes_the_first_commit_without_a_second(docs: DocsRepo) -> None:
    publisher = GitPublisher(docs.clone)
    away = docs.remote.rename(docs.root / "remote-away.git")
    with pytest.raises(PublishError) as raised:
        publisher.publish(edits={FLEET: add_entry}, message="Fleet status")
    assert raised.value.retryable and raised.value.commit_sha == git(publisher.worktree, "rev-parse", "HEAD")
    assert "kept in the docs clone until it can be pushed" in raised.value.user_message
    assert str(docs.root) not in raised.value.user_message  # no path of the bot's host for chat
    assert raised.value.detail and "git fetch origin" in raised.value.detail  # but the operator learns why
    assert git(publisher.worktree, "log", "--format=%s", "origin/main..HEAD") == "Fleet status"
    with pytest.raises(PublishError):
        publisher.publish(edits={FLEET: add_entry}, message="Fleet status")  # still down
    away.rename(docs.remote)

    retry = publisher.publish(edits={FLEET: add_entry}, message="Fleet status")

    assert retry.commit_sha is None and retry.pushed
    assert [line for line in docs.remote_log() if line.startswith("incident-bot")] == [
        "incident-bot | incident-bot | Fleet status"
    ]


def test_a_clone_without_upstream_commits_locally(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    with pytest.raises(PublishError, match="has no commit yet"):
        GitPublisher(tmp_path).publish(edits={FLEET: add_entry}, message="First")
    git(
        tmp_path,
        "-c",
        "user.name=Team",
        "-c",
        "user.email=team@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Start",
    )
    result = GitPublisher(tmp_path).publish(edits={FLEET: add_entry}, message="First")

    assert (result.pushed, result.files) == (False, [FLEET])
    # committed on the bot's own branch, for someone to merge or push
    assert git(tmp_path, "log", "--format=%an %s", "incident-bot/publish") == "incident-bot First\nTeam Start"


def test_read_gives_the_committed_content(docs: DocsRepo) -> None:
    publisher = GitPublisher(docs.clone)
    publisher.publish(edits={RCA: write_rca}, message="RCA")
    assert publisher.read(RCA) == "# RCA: DB down\n"
    assert publisher.read("DOCS/incidents/missing.md") is None


def test_read_never_follows_a_link_in_the_repo_out_of_it(docs: DocsRepo) -> None:
    secret = docs.root / "host-secret.txt"
    secret.write_text("a file of this host\n", encoding="utf-8")
    human = docs.human_clone()
    (human / "DOCS" / "outside").symlink_to(docs.root)
    (human / "DOCS" / "link.md").symlink_to(secret)
    git(human, "add", "-A")
    git(human, "commit", "-q", "-m", "Links")
    git(human, "push", "-q")
    publisher = GitPublisher(docs.clone)
    publisher.pull()

    assert publisher.read("DOCS/link.md") == str(secret)  # what git holds: the link's target, as text
    assert publisher.read("DOCS/outside/host-secret.txt") is None


def test_pull_brings_in_what_others_pushed(docs: DocsRepo) -> None:
    human_pushes(docs.human_clone(), FLEET, lambda t: t + "\nMore.\n", "More")
    publisher = GitPublisher(docs.clone)
    publisher.pull()
    assert (publisher.read(FLEET) or "").endswith("\nMore.\n")


def test_a_missing_folder_or_a_plain_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"\(DOCS_REPO_PATH\) does not exist") as missing:
        GitPublisher(tmp_path / "nope").publish(edits={FLEET: add_entry}, message="x")
    assert missing.value.detail == str(tmp_path / "nope") and str(tmp_path) not in missing.value.user_message
    with pytest.raises(PublishError, match=r"\(DOCS_REPO_PATH\) is not a git repository") as plain:
        GitPublisher(tmp_path).pull()
    assert str(tmp_path) in str(plain.value) and str(tmp_path) not in plain.value.user_message


def test_paths_outside_the_repository_are_refused(docs: DocsRepo) -> None:
    for bad in ("../escape.md", "/etc/passwd", ".git/config", "a\\b.md"):
        with pytest.raises(PublishError, match="not a file path inside"):
            GitPublisher(docs.clone).publish(edits={bad: write_rca}, message="x")


def test_a_push_the_server_declines_is_reported_in_its_words_and_not_retried(docs: DocsRepo) -> None:
    hook = docs.remote / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)

    publisher = GitPublisher(docs.clone)
    with pytest.raises(PublishError, match="refused the push") as raised:
        publisher.publish(edits={FLEET: add_entry}, message="Fleet status")

    assert raised.value.detail == "git push origin: main is protected"  # the server's own words, for operators

    assert not raised.value.retryable
    assert raised.value.commit_sha == git(publisher.worktree, "rev-parse", "HEAD")


def test_running_out_of_push_attempts_keeps_the_commit_for_later(docs: DocsRepo) -> None:
    human = docs.human_clone()

    def add_entry_while_someone_pushes(current: str | None) -> str:
        human_pushes(human, "DOCS/system-operations.md", lambda t: t + "\nMore.\n", "More")
        return add_entry(current)

    publisher = GitPublisher(docs.clone, push_attempts=1)
    with pytest.raises(PublishError, match="gave up after 1 push attempt\\.") as raised:
        publisher.publish(edits={FLEET: add_entry_while_someone_pushes}, message="Fleet status")

    assert raised.value.retryable
    assert publisher.publish(edits={FLEET: add_entry}, message="Fleet status").pushed
    assert docs.remote_log()[:2] == ["incident-bot | incident-bot | Fleet status", "Human | Human | More"]


READS_WITHOUT_GITPYTHON = """
import sys
from bot.publish import GitPublisher

publisher = GitPublisher(sys.argv[1])
publisher.pull()
print(publisher.head())
print(len(publisher.read(sys.argv[2]) or ""))
print(len(publisher.read_blobs(list(publisher.list_blobs("DOCS/incidents").values()))))
print("git" in sys.modules)
"""


def test_reads_and_a_pull_that_brings_nothing_need_no_gitpython_and_agree_with_git(docs: DocsRepo) -> None:
    first = GitPublisher(docs.clone)
    assert first.publish(edits={FLEET: add_entry, RCA: write_rca}, message="RCA").pushed
    git(docs.clone, "pack-refs", "--all")  # the refs in packed-refs only, as after a `git gc`
    human_pushes(docs.human_clone(), FLEET, lambda t: t + "\nUpstream line.\n", "Upstream note")
    GitPublisher(docs.clone).pull()  # the upstream's commit, taken with a full session (a rebase)

    done = subprocess.run(
        [sys.executable, "-c", READS_WITHOUT_GITPYTHON, str(docs.clone), FLEET],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    head, fleet_length, rcas, loaded = done.stdout.split()
    assert head == git(first.worktree, "rev-parse", "HEAD") == git(docs.remote, "rev-parse", "main")
    assert int(fleet_length) == len(docs.remote_file(FLEET))
    assert int(rcas) == len(git(docs.remote, "ls-tree", "--name-only", "main", "DOCS/incidents/").split())
    assert loaded == "False"


def test_listing_a_folder_again_at_the_same_commit_starts_no_git_and_a_new_commit_is_seen(
    docs: DocsRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "git-calls.log"
    monkeypatch.setenv("PATH", path_with_git_that_writes_down_calls(tmp_path, calls))

    publisher = GitPublisher(docs.clone)
    assert publisher.publish(edits={RCA: write_rca}, message="RCA").pushed
    first = publisher.list_blobs("DOCS/incidents", suffix="-rca.md")
    assert publisher.list_blobs("DOCS/incidents", suffix="-rca.md") == first
    assert RCA in first
    listings = [line for line in calls.read_text(encoding="utf-8").splitlines() if line.startswith("ls-tree")]
    assert len(listings) == 1

    later = "DOCS/incidents/2026-11-26-queue-stuck-rca.md"
    human = docs.human_clone()
    (human / later).write_text("# RCA: queue stuck\n", encoding="utf-8")
    git(human, "add", later)
    git(human, "commit", "-q", "-m", "Another RCA")
    git(human, "push", "-q")
    publisher.pull()
    again = publisher.list_blobs("DOCS/incidents", suffix="-rca.md")
    assert set(again) == set(first) | {later}
    assert again[later] == git(docs.remote, "rev-parse", f"main:{later}")


PUBLISH_WITHOUT_GITPYTHON = """
import sys
from bot.publish import GitPublisher

publisher = GitPublisher(sys.argv[1])
publisher.prepare()
open(sys.argv[2], "w").close()  # from here on, only the publish's own git processes are written down
result = publisher.publish(edits={sys.argv[3]: lambda current: "# RCA: DB down\\n"}, message="RCA")
print(result.commit_sha)
print("git" in sys.modules)
"""


def test_the_usual_publish_is_fetch_add_commit_and_push_without_gitpython(docs: DocsRepo, tmp_path: Path) -> None:
    calls = tmp_path / "git-calls.log"
    path = path_with_git_that_writes_down_calls(tmp_path, calls)

    done = subprocess.run(
        [sys.executable, "-c", PUBLISH_WITHOUT_GITPYTHON, str(docs.clone), str(calls), RCA],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PATH": path},
    )

    sha, loaded = done.stdout.split()
    assert sha == git(docs.remote, "rev-parse", "main")
    assert docs.remote_file(RCA) == "# RCA: DB down\n"
    assert docs.remote_log()[0] == "incident-bot | incident-bot | RCA"
    assert [line.split()[0] for line in calls.read_text(encoding="utf-8").splitlines()] == [
        "fetch",
        "add",
        "commit",
        "push",
    ]
    assert loaded == "False"
    assert git(GitPublisher(docs.clone).worktree, "status", "--porcelain") == ""


def test_a_write_through_a_link_in_the_repo_is_refused_and_nothing_outside_changes(docs: DocsRepo) -> None:
    outside = docs.root / "outside"
    outside.mkdir()
    human = docs.human_clone()
    (human / "DOCS" / "incidents-link").symlink_to(outside)
    git(human, "add", "-A")
    git(human, "commit", "-q", "-m", "A link")
    git(human, "push", "-q")

    publisher = GitPublisher(docs.clone)
    with pytest.raises(PublishError, match="symbolic link") as raised:
        publisher.publish(edits={"DOCS/incidents-link/x-rca.md": write_rca}, message="RCA")

    assert not raised.value.retryable
    assert list(outside.iterdir()) == []
    assert docs.remote_log()[0] == "Human | Human | A link"
    assert publisher.publish(edits={RCA: write_rca}, message="RCA").pushed  # and the next publish is fine


def test_lock_files_a_killed_git_left_behind_do_not_stop_the_next_publish(docs: DocsRepo) -> None:
    publisher = GitPublisher(docs.clone)
    publisher.pull()  # the bot's worktree exists
    own_git_dir = Path(git(publisher.worktree, "rev-parse", "--absolute-git-dir"))
    common = Path(git(publisher.worktree, "rev-parse", "--path-format=absolute", "--git-common-dir"))
    # What `git commit` and `git fetch` hold while they run, left as they were when the host killed them.
    left = [
        own_git_dir / "index.lock",
        common / "refs" / "heads" / "incident-bot" / "publish.lock",
        common / "refs" / "remotes" / "origin" / "main.lock",
    ]
    for lock in left:
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text("", encoding="utf-8")
        os.utime(lock, (1, 1))  # long ago: no git of anyone's is still writing it

    result = GitPublisher(docs.clone).publish(edits={FLEET: add_entry, RCA: write_rca}, message="RCA: DB down")

    assert result.pushed and docs.remote_file(RCA) == "# RCA: DB down\n"
    assert not [lock for lock in left if lock.exists()]


def test_a_fresh_lock_in_the_clones_refs_is_left_to_the_git_that_may_hold_it(docs: DocsRepo) -> None:
    publisher = GitPublisher(docs.clone)
    publisher.pull()
    common = Path(git(publisher.worktree, "rev-parse", "--path-format=absolute", "--git-common-dir"))
    held = common / "refs" / "remotes" / "origin" / "main.lock"  # someone's `git fetch` in the clone, now
    held.write_text("", encoding="utf-8")

    with contextlib.suppress(PublishError):
        GitPublisher(docs.clone).publish(edits={FLEET: add_entry}, message="Fleet entry")

    assert held.exists()
