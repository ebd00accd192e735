"""Publishing edits to the team's docs repo: pull, edit, commit only those files, push, and after a
push race rebase (or re-apply the edits on the new upstream) and push again. The only module that
imports git.

The bot works in a worktree of its own inside the clone's git folder (`.git/incident-bot/worktree`,
on the branch `incident-bot/publish`, tracking the clone's upstream), never in the clone's checkout:
whatever people leave in DOCS_REPO_PATH (edits, untracked files, a half-done rebase, commits not
pushed) neither stops a publish nor is touched by it. The worktree is the bot's alone: a write marks
the clone while it edits, and a run that finds the mark of one that never finished (it crashed, or was
killed) first puts the worktree back to its last commit (the half-written files go; nothing is stashed).
So the worktree is otherwise exactly the bot's last commit: files are read from it, and what a write
changed is what it wrote, without asking git.

Failure contract: every failure is a `PublishError` with a sentence for people (no paths of this host:
those are in `error.detail`, for operators). When the remote cannot be reached the commit stays in the
bot's worktree (`error.commit_sha`, `error.retryable`); calling `publish()` again with the same edits
finishes the job without a second commit.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import TYPE_CHECKING

from bot.core.checks import Check
from bot.core.ports import Edit, PublishError, PublishResult

if TYPE_CHECKING:
    import git

log = logging.getLogger(__name__)


def _git() -> ModuleType:
    """GitPython, imported on first use: `serve` idles without it (it is a tenth of the process's memory)."""
    import git

    return git


# The bot's own worktree (inside the clone's git folder) and its branch.
WORKTREE = "incident-bot/worktree"
BRANCH = "incident-bot/publish"
# In the clone's git folder while a write edits the worktree: left behind, it says the edits never finished.
EDITING = "incident-bot.editing"
# git holds a `<file>.lock` while it writes a file (the index, a ref) and leaves it behind when it is
# killed (SIGKILL, an OOM kill, the container stopped); while one is there every later git step that
# writes the file fails ("Unable to create '…/index.lock': File exists"), and so would every publish.
# Each git run of the bot's is under the clone's lock, so once the bot holds it no git of its own is
# running: a lock in its own worktree's git folder or on its branch is left over for sure; any other in
# the clone's refs (people may run git in the clone too) once it is this old.
STALE_LOCK_SECONDS = 60.0


@dataclass(frozen=True)
class _Upstream:
    remote: str
    branch: str

    @property
    def ref(self) -> str:
        return f"{self.remote}/{self.branch}"


@dataclass(frozen=True)
class _Plain:
    """What a plain-git publish came to: done (`result`), or left to the full session, which knows
    whether the remote was just fetched (`fetched`) or could not be (`offline`)."""

    result: PublishResult | None = None
    fetched: bool = False
    offline: PublishError | None = None
    raced: bool = False  # someone pushed first: the commit was taken back


class GitPublisher:
    """One clone of the docs repo, written to only through this object."""

    def __init__(
        self,
        repo_path: str | Path,
        *,
        author_name: str = "incident-bot",
        author_email: str = "incident-bot@users.noreply.local",
        push_attempts: int = 3,
        network_timeout: float = 60.0,
    ) -> None:
        self._path = Path(repo_path)
        self._push_attempts = max(1, push_attempts)
        self._timeout = network_timeout
        self._env = {
            "GIT_AUTHOR_NAME": author_name,
            "GIT_AUTHOR_EMAIL": author_email,
            "GIT_COMMITTER_NAME": author_name,
            "GIT_COMMITTER_EMAIL": author_email,
            # A bot has nobody to type a password: fail fast instead of hanging on a prompt.
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
        }
        self._lock = threading.Lock()
        # The first session of each process starts clean whatever it finds (files left by a version
        # that kept no marker, or by hand); later ones only after a write that never finished.
        self._checked = False
        # (remote, remote/branch) the bot's branch tracks, once looked up ("", "": none).
        self._tracking: tuple[str, str] | None = None
        # The last folder listing, by (commit, folder): the daily check, the similar-incidents job and the
        # home tab list the same folder at the same commit, and the second one costs no git process.
        self._listed: tuple[str, str, str] | None = None

    def publish(self, *, edits: Mapping[str, Edit], message: str, pulled: bool = False) -> PublishResult:
        """Apply `edits` (path → new content from current content), commit them alone and push.

        `pulled`: the caller has just pulled, so the clone is not fetched and rebased a second time
        before the commit (someone pushing in between is handled like any push race).
        """
        paths = {_repo_path(path): edit for path, edit in edits.items()}
        plain = self._plain_publish(paths, message, pulled=pulled)
        if plain.result is not None:
            return plain.result
        # After a lost race the upstream moved, whatever `pulled` said: fetch it and rebase onto it.
        fetch = plain.raced or not (pulled or plain.fetched)
        return self._publish_session(
            paths, message, fetch=fetch, catch_up=plain.raced or not pulled, offline=plain.offline
        )

    def _plain_publish(self, paths: Mapping[str, Edit], message: str, *, pulled: bool) -> _Plain:
        """The usual publish with plain git processes and no GitPython: nothing waits to be pushed and
        the upstream brought nothing, so it is write, add, commit and push (a fetch first unless `pulled`).
        Any other case is left to the full session (`_Plain.result` None), which starts over: whatever
        this left behind is its files under the editing mark (dropped) or nothing."""
        with self._plain_reads() as root:
            if root is None:
                return _Plain()
            tracking = self._plain_prepare(root)
            if tracking is None or not tracking[1]:
                return _Plain()
            remote, upstream = tracking
            fetched = False
            if not pulled:
                done = self._git_run("fetch", remote, cwd=root)
                if done.returncode != 0:
                    return _Plain(
                        offline=_unreachable(remote, _detail_text(done.stderr or done.stdout, done.returncode))
                    )
                fetched = True
            before = _head_of_worktree(root)
            if before is None or before != _ref_value(self._path / ".git", f"refs/remotes/{upstream}"):
                return _Plain(fetched=fetched)  # a rebase, or commits of an earlier push to send
            _refuse_links(root, paths)
            editing = self._path / ".git" / EDITING
            editing.touch()
            files = _write_edits(root, paths)
            if not files:
                editing.unlink(missing_ok=True)
                return _Plain(PublishResult(commit_sha=None, pushed=True))
            for step in (("add", "--", *files), ("commit", "-q", "-m", message)):
                if self._git_run(*step, cwd=root).returncode != 0:
                    return _Plain(fetched=fetched)  # the mark stays: the full session drops the files and redoes it
            editing.unlink(missing_ok=True)
            sha = _head_of_worktree(root) or ""
            branch = upstream.removeprefix(f"{remote}/")
            pushed = self._git_run("push", remote, f"HEAD:{branch}", cwd=root)
            if pushed.returncode == 0:
                return _Plain(PublishResult(commit_sha=sha, pushed=True, files=files))
            if "[rejected]" not in pushed.stderr:
                raise _push_failed(remote, pushed.stderr, _detail_text(pushed.stderr, pushed.returncode), sha)
            # Someone pushed first: the commit goes again, and the full session makes the edits on theirs.
            if self._git_run("reset", "-q", "--hard", before, cwd=root).returncode != 0:
                raise _push_failed(remote, pushed.stderr, _detail_text(pushed.stderr, pushed.returncode), sha)
            return _Plain(raced=True)

    def _publish_session(
        self, paths: Mapping[str, Edit], message: str, *, fetch: bool, catch_up: bool, offline: PublishError | None
    ) -> PublishResult:
        """Publish through GitPython: every case, the rebases, the races and the retries."""
        with self._session(write=True) as repo:
            upstream = _upstream(repo)
            if upstream and fetch and offline is None:
                try:
                    self._fetch(repo, upstream)
                except PublishError as error:
                    offline = error  # still commit locally, so a later push_pending() has it
            if upstream and catch_up and offline is None:
                self._catch_up(repo, upstream)
            files = self._commit(repo, paths, message)
            if upstream is None:
                return PublishResult(commit_sha=_head(repo) if files else None, pushed=False, files=files)
            if offline:
                sha = _head(repo) if files else None
                raise PublishError(
                    _kept_locally(offline.user_message, sha), retryable=True, commit_sha=sha, detail=offline.detail
                )
            if not files:
                self._push(repo, upstream, redo=None)  # commits an earlier failed push left behind
                return PublishResult(commit_sha=None, pushed=True)

            def redo() -> bool:
                nonlocal files
                files = self._commit(repo, paths, message)
                return bool(files)

            still_ours = self._push(repo, upstream, redo=redo, committed=True)
            if not still_ours:  # the upstream already had the same content
                return PublishResult(commit_sha=None, pushed=True)
            return PublishResult(commit_sha=_head(repo), pushed=True, files=files)

    def pull(self) -> None:
        """Bring the bot's worktree up to date with its upstream, keeping its unpushed commits."""
        fetched = self._plain_pull()
        if fetched is True:
            return
        with self._session() as repo:
            upstream = _upstream(repo)
            if upstream:
                if fetched is None:
                    self._fetch(repo, upstream)
                self._catch_up(repo, upstream)

    def _plain_pull(self) -> bool | None:
        """The usual pull (nothing came, nothing waits to go) with plain git processes and no GitPython,
        as the daily check makes it: True when that was all, False when it fetched but a rebase is
        needed, None when it could not even fetch this way (the full session does everything)."""
        with self._plain_reads() as root:
            if root is None:
                return None
            tracking = self._plain_prepare(root)
            if tracking is None:
                return None
            remote, upstream = tracking
            if not upstream:
                return True  # nothing to pull from
            done = self._git_run("fetch", remote, cwd=root)
            if done.returncode != 0:
                raise _unreachable(remote, (done.stderr or done.stdout).strip())
            ours = _head_of_worktree(root)
            return ours is not None and ours == _ref_value(self._path / ".git", f"refs/remotes/{upstream}")

    def prepare(self) -> None:
        """What the first publish of a process would do before its own work (put the worktree back to
        its last commit, look up what it tracks), done now: `serve` calls it at start, off the ack path."""
        with self._plain_reads() as root:
            if root is not None:
                self._plain_prepare(root)

    def _plain_prepare(self, root: Path) -> tuple[str, str] | None:
        """Under the clone's lock, with plain git: the first session of a process starts clean (as
        `_session` would), and the (remote, remote/branch) the bot's branch tracks is looked up once
        (("", ""): none). None when git failed (the full session does it, and says what is wrong)."""
        if not self._checked:
            for step in (("reset", "--hard", "-q"), ("clean", "-fdq")):
                if self._git_run(*step, cwd=root).returncode != 0:
                    return None
            self._checked = True
        if self._tracking is None:
            upstream = self._git_out("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", cwd=root)
            remote = self._git_out("config", "--get", f"branch.{BRANCH}.remote", cwd=root)
            self._tracking = (remote, upstream) if remote and upstream else ("", "")
        return self._tracking

    def read(self, path: str) -> str | None:
        """The file's content at the clone's HEAD, or None if it does not exist (call pull() first)."""
        relative = _repo_path(path)
        with self._plain_reads() as root:
            if root is not None and _plainly_inside(root, root / relative):
                # The worktree is HEAD (see the module's docstring): no git process, no GitPython.
                return _read_bytes_text(root / relative)
        with self._session() as repo:
            root = Path(str(repo.working_tree_dir))
            file = root / relative
            if _plainly_inside(root, file):
                return _read_bytes_text(file)
            try:
                # A symbolic link on the way: git's copy, never what the link points at on this host.
                data = repo.git.cat_file(
                    "blob", f"HEAD:{relative}", stdout_as_string=False, strip_newline_in_stdout=False
                )
            except _git().GitCommandError:
                return None  # no such file at HEAD (or no commit yet)
            return bytes(data).decode("utf-8", errors="replace")

    def head(self) -> str | None:
        """The commit the clone is at (None: no commit yet)."""
        with self._plain_reads() as root:
            if root is not None:
                found = _head_of_worktree(root)
                if found is not None:
                    return found
        with self._session() as repo:
            return _at(repo, "HEAD")

    @contextmanager
    def _worktree_to_read(self) -> Iterator[Path]:
        """The bot's worktree under the clone's lock: as plain files when it can be (no GitPython), else
        through a full session (which first puts right what a crash left)."""
        with self._plain_reads() as root:
            if root is not None:
                yield root
                return
        with self._session() as repo:
            yield Path(str(repo.working_tree_dir))

    @contextmanager
    def _plain_reads(self) -> Iterator[Path | None]:
        """The bot's worktree, under the clone's lock, when it can be read as plain files: it exists, no
        write was left unfinished and no rebase is under way. None otherwise (a full session is needed).
        Reads that take this way (the runbook at start, the head after each pull) load no GitPython."""
        git_dir = self._path / ".git"
        worktree = git_dir / WORKTREE
        if not git_dir.is_dir():
            yield None
            return
        with self._lock, open(git_dir / "incident-bot.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                _clear_left_locks(git_dir, worktree)
                if not (worktree / ".git").is_file():
                    try:
                        self._make_worktree(worktree)
                    except PublishError:
                        yield None  # the full session says what is wrong, as it always has
                        return
                own = _worktree_git_dir(worktree)
                unfinished = (git_dir / EDITING).exists() or own is None
                rebasing = own is not None and ((own / "rebase-merge").exists() or (own / "rebase-apply").exists())
                yield None if unfinished or rebasing else worktree
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def list_blobs(self, folder: str, *, suffix: str = ".md") -> dict[str, str]:
        """Repo-relative paths of the files directly in `folder` at HEAD, with their blob ids (one git call)."""
        relative = _repo_path(folder)
        with self._worktree_to_read() as root:
            # Under the clone's lock: callers at the same commit wait for one listing instead of racing.
            head = _head_of_worktree(root)
            if head is not None and self._listed is not None and self._listed[:2] == (head, relative):
                listing = self._listed[2]
            else:
                done = self._git_run("ls-tree", "-z", "HEAD", "--", f"{relative}/", cwd=root)
                if done.returncode != 0:
                    return {}
                listing = done.stdout
                self._listed = (head, relative, listing) if head is not None else None
        found: dict[str, str] = {}
        for entry in _names(listing):
            meta, _, path = entry.partition("\t")
            _mode, kind, blob_id = meta.split(" ", 2)
            if kind == "blob" and path.endswith(suffix) and "/" not in path[len(relative) + 1 :]:
                found[path] = blob_id
        return found

    def read_blobs(self, blob_ids: Sequence[str]) -> dict[str, str]:
        """The contents of these blobs through one `git cat-file --batch` process."""
        if not blob_ids:
            return {}
        with self._worktree_to_read() as root:
            # The whole batch in one pipe: reading object by object costs a round trip per blob.
            done = subprocess.run(
                ["git", "cat-file", "--batch"],
                input="".join(f"{blob_id}\n" for blob_id in blob_ids).encode(),
                cwd=root,
                env={**os.environ, **self._env},
                capture_output=True,
                check=False,
            )
        if done.returncode != 0:
            raise PublishError("Could not read the docs repo.", detail=done.stderr.decode(errors="replace"))
        return _batch_contents(done.stdout)

    def list_files(self, folder: str, *, suffix: str = ".md") -> list[str]:
        """Repo-relative paths of the files directly in `folder` at HEAD (call pull() first)."""
        return sorted(self.list_blobs(folder, suffix=suffix))

    def diagnose(self, *, network: bool) -> list[Check]:
        """What stands between this clone and a publish: the clone itself, its upstream, and (with
        `network`) whether the remote answers and would take a push (`git push --dry-run`).

        Plain git processes, not GitPython: `serve` runs this at start and idles without GitPython.
        """
        name = "docs repo (DOCS_REPO_PATH)"
        fix_clone = "clone the team's docs repo there: git clone <url> <path>"
        if not self._path.is_dir():
            what = "does not exist" if not self._path.exists() else "is not a folder"
            return [Check(name, False, f"the docs repo clone (DOCS_REPO_PATH) {what}", fix_clone)]
        inside = self._git_out("rev-parse", "--is-inside-work-tree")
        if inside is None:
            return [Check(name, False, "the docs repo clone (DOCS_REPO_PATH) is not a git repository", fix_clone)]
        if inside != "true":
            return [Check(name, False, "the docs repo clone (DOCS_REPO_PATH) is a bare repository", fix_clone)]
        if self._git_out("rev-parse", "--verify", "-q", "HEAD") is None:
            return [Check(name, False, "the clone has no commit yet", "clone a docs repo that has a commit")]
        worktree = self.worktree if (self.worktree / ".git").is_file() else self._path
        tracking = self._git_out("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}", cwd=worktree)
        if tracking is None or "/" not in tracking:
            on_branch = self._git_out("symbolic-ref", "-q", "HEAD", cwd=worktree) is not None
            problem = (
                "its branch has no upstream, so nothing would be pushed"
                if on_branch
                else "the clone is not on a branch (detached HEAD)"
            )
            fix = "git -C <path> switch main && git -C <path> branch --set-upstream-to origin/main"
            return [Check(name, False, problem, fix)]
        remote_name, _, branch = tracking.partition("/")
        if not network:
            return [Check(name, True, f"a clone of {tracking}")]
        local = [line for line in (self._git_out("status", "--porcelain") or "").splitlines() if line]
        state = f"{len(local)} local change(s) in the checkout, which the bot leaves alone" if local else "clean"
        found = [Check(name, True, f"a clone of {tracking}; {state}")]
        remote = f"docs repo remote ({remote_name})"
        answer = self._git_run("ls-remote", "--heads", remote_name, branch)
        if answer.returncode != 0:
            why = f"unreachable: {_last_line(answer.stderr)}"
            found.append(Check(remote, False, why, "check the remote's URL and the bot's SSH key or HTTPS token"))
            return found
        found.append(Check(remote, True, "reachable"))
        pushed = self._git_run("push", "--dry-run", remote_name, f"refs/remotes/{tracking}:refs/heads/{branch}")
        if pushed.returncode != 0:
            why = f"a dry-run push failed: {_last_line(pushed.stderr)}"
            found.append(Check("docs repo push", False, why, "give the bot's key or token write access"))
        else:
            found.append(Check("docs repo push", True, f"a dry-run push to {branch} is accepted"))
        return found

    def _git_run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["git", *args],
                cwd=cwd or self._path,
                env={**os.environ, **self._env},
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return subprocess.CompletedProcess(["git", *args], 1, "", str(error))

    def _git_out(self, *args: str, cwd: Path | None = None) -> str | None:
        done = self._git_run(*args, cwd=cwd)
        return done.stdout.strip() if done.returncode == 0 else None

    @property
    def worktree(self) -> Path:
        """Where the bot commits: a worktree of the clone's, inside its git folder."""
        return self._path / ".git" / WORKTREE

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[git.Repo]:
        main = self._open()
        lock_path = Path(main.git_dir) / "incident-bot.lock"
        # The web process and the worker may share one clone: serialise threads and processes alike.
        with self._lock, open(lock_path, "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            repo: git.Repo | None = None
            editing = Path(main.git_dir) / EDITING
            try:
                _clear_left_locks(Path(main.git_dir), Path(main.git_dir) / WORKTREE)
                main.git.update_environment(**self._env)
                repo = self._own_worktree(main)
                repo.git.update_environment(**self._env)
                try:
                    if _rebase_in_progress(repo):
                        repo.git.rebase("--abort")  # left behind by a crash; only this bot rebases here
                    if editing.exists() or not self._checked:
                        _start_clean(repo)  # a write that never finished: its half-written files go
                        editing.unlink(missing_ok=True)
                        self._checked = True
                except _git().GitCommandError as error:
                    raise PublishError(
                        "git refused to put the bot's copy of the docs repo back to its last commit; "
                        "an operator should look at the bot's log.",
                        retryable=True,
                        detail=_detail(error),
                    ) from error
                if write:
                    editing.touch()
                try:
                    yield repo
                except PublishError:
                    # Every PublishError is met between git's own steps: the worktree is at a commit.
                    editing.unlink(missing_ok=True)
                    raise
                editing.unlink(missing_ok=True)
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
                if repo is not None:
                    repo.close()
                main.close()

    def _own_worktree(self, main: git.Repo) -> git.Repo:
        """The bot's worktree, made the first time from the clone's upstream (or its HEAD without one)."""
        path = Path(main.git_dir) / WORKTREE
        if not (path / ".git").is_file():
            self._make_worktree(path)
        worktree: git.Repo = _git().Repo(path)
        return worktree

    def _make_worktree(self, path: Path) -> None:
        """Make the bot's worktree with plain git processes (no GitPython: `serve` reads the runbook
        through it at start). The caller holds the clone's lock."""
        if self._git_out("rev-parse", "--verify", "-q", "HEAD") is None:
            raise PublishError("The docs repo clone (DOCS_REPO_PATH) has no commit yet.", detail=str(self._path))
        if self._git_out("symbolic-ref", "-q", "HEAD") is None:
            raise PublishError(
                "The docs repo clone (DOCS_REPO_PATH) is not on a branch (detached HEAD).", detail=str(self._path)
            )
        upstream = self._git_out("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
        steps = [
            ("worktree", "prune"),
            ("worktree", "add", "--force", "-q", "-B", BRANCH, str(path), upstream or "HEAD"),
        ]
        if upstream:
            steps.append(("branch", f"--set-upstream-to={upstream}", BRANCH))
        for step in steps:
            done = self._git_run(*step)
            if done.returncode != 0:
                raise PublishError(
                    "Could not set up the bot's working copy in the docs repo clone (DOCS_REPO_PATH).",
                    detail=f"git {' '.join(step[:2])} {path}: {(done.stderr or done.stdout).strip()}",
                )

    def _open(self) -> git.Repo:
        if not self._path.exists():
            raise PublishError("The docs repo clone (DOCS_REPO_PATH) does not exist.", detail=str(self._path))
        if not self._path.is_dir():
            raise PublishError("The docs repo clone (DOCS_REPO_PATH) is not a folder.", detail=str(self._path))
        try:
            repo: git.Repo = _git().Repo(self._path)
        except (_git().InvalidGitRepositoryError, _git().NoSuchPathError) as error:
            raise PublishError(
                "The docs repo clone (DOCS_REPO_PATH) is not a git repository.", detail=str(self._path)
            ) from error
        if repo.bare or repo.working_tree_dir is None:
            raise PublishError(
                "The docs repo clone (DOCS_REPO_PATH) is a bare repository; it needs a checkout.",
                detail=str(self._path),
            )
        return repo

    def _commit(self, repo: git.Repo, edits: Mapping[str, Edit], message: str) -> list[str]:
        root = Path(str(repo.working_tree_dir))
        _refuse_links(root, edits)
        files = _write_edits(root, edits)
        if not files:
            return []  # the worktree was the last commit, so nothing changed
        repo.git.add("--", *files)
        try:
            # The index was the last commit's (a crashed run's is reset), so what is staged is `files`
            # alone: no paths named, which would make git build a second index of the whole tree.
            repo.git.commit("-m", message)
        except _git().GitCommandError:
            # Written, yet the same content to git (say, a checkout filter changed line endings).
            if _names(repo.git.diff("--cached", "--name-only", "-z", "HEAD", "--", *files)):
                raise
            return []
        return files

    def _fetch(self, repo: git.Repo, upstream: _Upstream) -> None:
        try:
            repo.git.fetch(upstream.remote, kill_after_timeout=self._timeout)
        except _git().GitCommandError as error:
            raise _unreachable(upstream.remote, _detail(error)) from error

    def _catch_up(self, repo: git.Repo, upstream: _Upstream) -> None:
        """Rebase the bot's unpushed commits (if any) onto the fetched upstream."""
        if _at(repo, "HEAD") == _at(repo, f"refs/remotes/{upstream.ref}"):
            return  # nothing came and nothing is waiting to go: no rebase to run
        try:
            self._integrate(repo, upstream, redo=None)
        except PublishError:
            # Maybe files nobody committed stand in the way: start from the last commit (the bot's
            # worktree holds nothing else) and try once more.
            _start_clean(repo)
            self._integrate(repo, upstream, redo=None)

    def _integrate(self, repo: git.Repo, upstream: _Upstream, *, redo: Callable[[], bool] | None) -> bool:
        """Rebase local commits onto upstream; on a conflict drop the newest (the bot's) and `redo` it.

        True while HEAD is still the bot's commit (rebased or made again).
        """
        try:
            repo.git.rebase(upstream.ref)
        except _git().GitCommandError as error:
            if not _rebase_in_progress(repo):
                raise PublishError(
                    f"Could not bring the docs repo clone up to date with {upstream.ref}.",
                    detail=f"git rebase in {self._path}: {_detail(error)}",
                ) from error
            repo.git.rebase("--abort")
            if redo is None:
                raise PublishError(
                    f"Unpushed commits in the docs repo clone conflict with {upstream.ref}; "
                    "someone needs to rebase them by hand.",
                    detail=str(self._path),
                ) from error
            repo.git.reset("--keep", "HEAD~1")
            self._integrate(repo, upstream, redo=None)
            return redo()
        return True

    def _push(
        self, repo: git.Repo, upstream: _Upstream, *, redo: Callable[[], bool] | None, committed: bool = False
    ) -> bool:
        """Push HEAD, integrating races; True while HEAD is still the commit `redo` would make again.

        `committed`: HEAD is a commit just made, so it is ahead of the upstream without asking git.
        """
        ours = redo is not None
        for attempt in range(self._push_attempts):
            if not (committed and attempt == 0) and not _ahead(repo, upstream):
                return ours
            try:
                repo.git.push(upstream.remote, f"HEAD:{upstream.branch}", kill_after_timeout=self._timeout)
                return ours
            except _git().GitCommandError as error:
                if "[rejected]" not in str(error.stderr):
                    raise _push_failed(upstream.remote, str(error.stderr), _detail(error), _head(repo)) from error
            # Someone pushed first: take their commits and put ours on top.
            self._fetch(repo, upstream)
            ours = self._integrate(repo, upstream, redo=redo if ours else None) and ours
        if _ahead(repo, upstream):
            sha = _head(repo)
            tries = f"{self._push_attempts} push attempt{'s' if self._push_attempts > 1 else ''}"
            message = f"{upstream.ref} kept moving; gave up after {tries}."
            raise PublishError(_kept_locally(message, sha), retryable=True, commit_sha=sha)
        return ours


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no answer"


def _start_clean(repo: git.Repo) -> None:
    """Only the bot writes in its worktree: a crashed run's half-written files are dropped, so work
    starts from the bot's last commit (its unpushed commits stay). Nothing is stashed."""
    repo.git.reset("--hard", "-q")
    repo.git.clean("-fdq")


def _at(repo: git.Repo, ref: str) -> str | None:
    """The commit `ref` points at, read from the ref files (no git process)."""
    try:
        return str(_git().SymbolicReference.dereference_recursive(repo, ref))
    except (ValueError, OSError):
        return None


def _names(output: str) -> list[str]:
    return [name for name in output.split("\0") if name]


def _repo_path(path: str) -> str:
    pure = PurePosixPath(path)
    if not path or "\\" in path or pure.is_absolute() or ".." in pure.parts or pure.parts[0] == ".git":
        raise PublishError(f"{path!r} is not a file path inside the docs repository.")
    return str(pure)


def _upstream(repo: git.Repo) -> _Upstream | None:
    tracking = repo.active_branch.tracking_branch()
    if tracking is None:
        return None
    return _Upstream(remote=tracking.remote_name, branch=tracking.remote_head)


def _ahead(repo: git.Repo, upstream: _Upstream) -> bool:
    head = _at(repo, "HEAD")
    if head is None or head == _at(repo, f"refs/remotes/{upstream.ref}"):
        return False  # the same commit, seen in the ref files (no git process)
    return int(repo.git.rev_list("--count", f"{upstream.ref}..HEAD")) > 0


def _head(repo: git.Repo) -> str:
    """The commit HEAD is at, from the ref files (asking GitPython for it starts a git process)."""
    sha = _at(repo, "HEAD")
    if sha is None:
        raise ValueError("no commit yet")
    return sha


def _plainly_inside(root: Path, file: Path) -> bool:
    """Whether `file` is under `root` with no symbolic link on the way (so reading it reads the worktree)."""
    at = root
    for part in file.relative_to(root).parts:
        at = at / part
        if at.is_symlink():
            return False
    return True


def _changed_files(repo: git.Repo, revisions: str) -> list[str]:
    return _names(repo.git.diff("--name-only", "-z", revisions))


def _read_bytes_text(file: Path) -> str | None:
    return file.read_bytes().decode("utf-8", errors="replace") if file.is_file() else None


def _clear_left_locks(git_dir: Path, worktree: Path) -> None:
    """Remove the lock files a killed git left in the clone (see STALE_LOCK_SECONDS); under the clone's lock."""
    own = _worktree_git_dir(worktree)
    certain = [*own.glob("*.lock")] if own is not None else []
    certain.append(git_dir / "refs" / "heads" / f"{BRANCH}.lock")
    refs = git_dir / "refs"
    others = [path for path in refs.rglob("*.lock") if path not in certain] if refs.is_dir() else []
    others.append(git_dir / "packed-refs.lock")
    now = time.time()
    for path, left_over in [*((path, True) for path in certain), *((path, False) for path in others)]:
        try:
            if not left_over and now - path.stat().st_mtime < STALE_LOCK_SECONDS:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as error:
            log.warning("could not remove %s, which a killed git left in the docs clone: %s", path, error)
            continue
        log.warning("removed %s from the docs clone: a git that was killed left it behind", path)


def _worktree_git_dir(worktree: Path) -> Path | None:
    """The git folder a linked worktree's `.git` file names (`gitdir: …`)."""
    try:
        line = (worktree / ".git").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    found = Path(line.removeprefix("gitdir:").strip())
    found = found if found.is_absolute() else worktree / found
    return found if found.is_dir() else None


def _head_of_worktree(worktree: Path) -> str | None:
    """The commit a linked worktree's HEAD points at, from git's files (a loose ref or packed-refs);
    None when it cannot be read that way (the caller asks git)."""
    own = _worktree_git_dir(worktree)
    if own is None:
        return None
    try:
        head = (own / "HEAD").read_text(encoding="utf-8").strip()
        common_line = (own / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not head.startswith("ref: "):
        return head if _is_object_id(head) else None
    ref = head.removeprefix("ref: ").strip()
    common = Path(common_line) if Path(common_line).is_absolute() else own / common_line
    try:
        loose = (own / ref).read_text(encoding="utf-8").strip()
    except OSError:
        return _ref_value(common, ref)
    return loose if _is_object_id(loose) else None


def _ref_value(git_dir: Path, ref: str) -> str | None:
    """The commit `ref` names in `git_dir`, from a loose ref file or packed-refs (no git process)."""
    try:
        loose = (git_dir / ref).read_text(encoding="utf-8").strip()
    except OSError:
        loose = None
    if loose is not None:
        return loose if _is_object_id(loose) else None
    try:
        packed = (git_dir / "packed-refs").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in packed.splitlines():
        object_id, _, name = line.partition(" ")
        if name == ref and _is_object_id(object_id):
            return object_id
    return None


def _is_object_id(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def _rebase_in_progress(repo: git.Repo) -> bool:
    git_dir = Path(repo.git_dir)
    return (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists()


def _read_text(file: Path) -> str | None:
    if not file.is_file():
        return None
    with open(file, encoding="utf-8", newline="") as handle:
        return handle.read()


def _detail(error: git.GitCommandError) -> str:
    """The line of git's stderr that says what went wrong (a server's own words first)."""
    return _detail_text(str(error.stderr).split("stderr: '", 1)[-1].rstrip().removesuffix("'"), error.status)


def _detail_text(stderr: str, status: object) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for prefix in ("remote:", "fatal:", "error:"):
        found = [line.removeprefix(prefix).strip() for line in lines if line.startswith(prefix)]
        if any(found):
            return "; ".join(line.rstrip(".") for line in found if line)
    return lines[-1] if lines else f"git exited with status {status}"


def _unreachable(remote: str, detail: str) -> PublishError:
    return PublishError(
        "Could not reach the docs repo's remote: it may be down, or it refused the bot's credentials.",
        retryable=True,
        detail=f"git fetch {remote}: {detail}",
    )


def _push_failed(remote: str, stderr: str, detail: str, sha: str) -> PublishError:
    """A push git refused for another reason than a race: the commit stays in the bot's worktree."""
    # A hook or branch protection saying no will say no again; a network failure may not.
    declined = "[remote rejected]" in stderr
    message = (
        "The docs repo's remote refused the push (a hook or branch protection)."
        if declined
        else "Could not push to the docs repo's remote: it may be down, or it refused the bot's login."
    )
    return PublishError(
        _kept_locally(message, sha), retryable=not declined, commit_sha=sha, detail=f"git push {remote}: {detail}"
    )


def _refuse_links(root: Path, edits: Mapping[str, Edit]) -> None:
    """The bot writes files of the docs repo, never what a symbolic link in it points at on this host."""
    for path in edits:
        if not _plainly_inside(root, root / path):
            raise PublishError(
                f"{path} passes through a symbolic link in the docs repo; the bot does not write through links.",
                detail=str(root / path),
            )


def _write_edits(root: Path, edits: Mapping[str, Edit]) -> list[str]:
    """Write each edit's new content into the worktree; the sorted paths that changed."""
    written: list[str] = []
    for path, edit in edits.items():
        file = root / path
        current = _read_text(file)
        new = edit(current)
        if new != current:
            file.parent.mkdir(parents=True, exist_ok=True)
            with open(file, "w", encoding="utf-8", newline="") as handle:
                handle.write(new)
            written.append(path)
    return sorted(written)


def _kept_locally(message: str, sha: str | None) -> str:
    if sha is None:
        return message
    return f"{message.rstrip('.')}. Commit {sha[:12]} is kept in the docs clone until it can be pushed."


def _batch_contents(output: bytes) -> dict[str, str]:
    """`git cat-file --batch` output (`<id> blob <size>` and the bytes, or `<id> missing`) by blob id."""
    contents: dict[str, str] = {}
    at = 0
    while at < len(output):
        end = output.index(b"\n", at)
        header = output[at:end].split()
        at = end + 1
        if len(header) != 3:
            continue  # `<id> missing`: nothing follows it
        size = int(header[2])
        contents[header[0].decode()] = output[at : at + size].decode("utf-8", errors="replace")
        at += size + 1
    return contents
