"""The `/incident` grammar: text in, a typed command out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.errors import InvalidCommand, InvalidInput, InvalidSeverity
from bot.core.models import Severity, known_severities
from bot.core.roles import DEFAULT_ROLES, Role, commander_first

_SEVERITY_RE = re.compile(r"^sev[-_ ]?([0-9]+)$", re.IGNORECASE)


def parse_severity(text: str) -> Severity:
    """Read `sev1`, `SEV-1`, `SEV1` (any case) as one of the runbook's severities."""
    match = _SEVERITY_RE.match(text.strip())
    known = known_severities()
    names = ", ".join(known[:-1]) + f" and {known[-1]}" if len(known) > 1 else known[0]
    if match is None:
        raise InvalidSeverity(f"`{text}` is not a severity. Use {_shorthands(known)}.")
    severity = Severity(f"SEV-{int(match.group(1))}") if int(match.group(1)) > 0 else None
    if severity is None or severity not in known:
        raise InvalidSeverity(f"There is no {text.upper()}: the runbook knows {names}.")
    return severity


def _shorthands(known: tuple[Severity, ...]) -> str:
    words = [f"sev{severity.level}" for severity in known]
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]


def looks_like_severity(word: str) -> bool:
    return _SEVERITY_RE.match(word) is not None


@dataclass(frozen=True)
class OpenDeclareForm:
    """`/incident` with no text: open the declare modal."""


@dataclass(frozen=True)
class SeverityCommand:
    """`/incident sevN [title]`: declare with a title, change severity without one."""

    severity: Severity
    title: str | None


@dataclass(frozen=True)
class AddNote:
    text: str


@dataclass(frozen=True)
class ShowTimeline:
    pass


@dataclass(frozen=True)
class ShowStatus:
    pass


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class ListIncidents:
    pass


@dataclass(frozen=True)
class ChangeCommander:
    who: str


@dataclass(frozen=True)
class AssignRole:
    """`/incident role <role> @someone`: the role as typed (checked against the team's roles later)."""

    role: str
    who: str


@dataclass(frozen=True)
class UnassignRole:
    """`/incident role <role> none`: the role is left without a holder."""

    role: str


@dataclass(frozen=True)
class AddActionItem:
    owner: str
    action: str


@dataclass(frozen=True)
class Resolve:
    pass


@dataclass(frozen=True)
class PreviewRca:
    pass


@dataclass(frozen=True)
class Reopen:
    """`/incident reopen`, in the incident's channel or naming it (`/incident reopen #channel`, say once archived)."""

    room_id: str | None = None


@dataclass(frozen=True)
class MarkDone:
    number: int


@dataclass(frozen=True)
class PostUpdate:
    """`/incident update <text>`: a status update in the channel (and the announcement's thread)."""

    text: str


@dataclass(frozen=True)
class OpenUpdateForm:
    """`/incident update` with no text: the status update form."""


Command = (
    OpenDeclareForm
    | SeverityCommand
    | AddNote
    | ShowTimeline
    | ShowStatus
    | ShowHelp
    | AddActionItem
    | Resolve
    | PreviewRca
    | Reopen
    | MarkDone
    | ListIncidents
    | ChangeCommander
    | AssignRole
    | UnassignRole
    | PostUpdate
    | OpenUpdateForm
)

_HELP = """\
*/incident* — run the incident runbook from Slack
• `/incident` — open a form to declare an incident
• `/incident list` — the open incidents
• `/incident sev1 <title>` — declare a SEV-1 (also {others}; `SEV-2` and `SEV2` work too)
In an incident channel:
• `/incident {levels}` — change the severity
• `/incident note <text>` — add a note to the timeline
• `/incident update <text>` — post a status update here (SEV-1s: in the announcement's thread too); no text: a form
• `/incident lead @someone` — hand over the commander role
• `/incident role <role> @someone` — give someone a role ({roles}); `/incident role <role> none` clears it
• `/incident timeline` — show the timeline so far (only to you)
• `/incident status` — title, severity, roles, age, timeline count
• `/incident action @owner <what needs doing>` — add an action item
• `/incident done <n>` — mark action item n as ✅ DONE (in the RCA too)
• `/incident rca` — show the RCA draft (only to you)
• `/incident resolve` — resolve: the RCA and fleet-status entry are committed to the docs repo
• `/incident reopen` — reopen a resolved incident (from any channel: `/incident reopen #its-channel`)
• React with the timeline emoji on any message to add it to the timeline
• `/incident help` — this help
*Severities* (the runbook's Severity Guide):
{guide}"""


def help_text(roles: Sequence[Role] = DEFAULT_ROLES) -> str:
    """The help, with the severities in force and their criteria, and the team's roles."""
    known = known_severities()
    guide = "\n".join(
        f"• *{sev}* — {sev.info.criteria}. Response: {sev.info.response_time}; "
        f"RCA {'required' if sev.info.rca_required else 'not required'}."
        for sev in known
    )
    others = ", ".join(f"`sev{sev.level}`" for sev in known if sev.level != 1) or "none"
    levels = "|".join(f"sev{sev.level}" for sev in known)
    role_keys = ", ".join(f"`{role.key}`" for role in commander_first(roles))
    return _HELP.format(others=others, levels=levels, guide=guide, roles=role_keys)


_ROLE_USAGE = (
    "Usage: `/incident role <role> @someone`, e.g. `/incident role comms @bob`; `/incident role comms none` "
    "clears the role."
)
# The last word of `/incident role <role> …` that leaves the role without a holder.
_NOBODY = frozenset({"none", "nobody", "-"})

_SIMPLE: dict[str, Command] = {
    "timeline": ShowTimeline(),
    "status": ShowStatus(),
    "help": ShowHelp(),
    "resolve": Resolve(),
    "rca": PreviewRca(),
    "list": ListIncidents(),
}


def parse_command(text: str) -> Command:
    """Parse what followed `/incident`; raise InvalidCommand with a helpful sentence."""
    stripped = text.strip()
    if not stripped:
        return OpenDeclareForm()
    first, *more = stripped.split(None, 1)
    if first.lower() == "update":
        # The update keeps its lines as written (a newline may follow the word, too).
        return PostUpdate(text=more[0].strip()) if more else OpenUpdateForm()
    head, _, rest = stripped.partition(" ")
    word = head.lower()
    rest = rest.strip()
    if looks_like_severity(word):
        return SeverityCommand(severity=parse_severity(word), title=rest or None)
    if word in _SIMPLE:
        if rest:
            raise InvalidCommand(f"`/incident {word}` takes no text. Try `/incident help`.")
        return _SIMPLE[word]
    if word == "note":
        if not rest:
            raise InvalidInput("A note needs text: `/incident note <text>`.")
        return AddNote(text=rest)
    if word == "action":
        owner, _, action = rest.partition(" ")
        if not owner or not action.strip():
            raise InvalidInput("Usage: `/incident action @owner <what needs doing>`.")
        return AddActionItem(owner=owner, action=action.strip())
    if word == "lead":
        if not rest or " " in rest:
            raise InvalidInput("Usage: `/incident lead @someone` makes them the incident commander.")
        return ChangeCommander(who=rest)
    if word == "role":
        # The person comes last, so a role may be named by its label: `/incident role communications lead @bob`.
        role, _, who = rest.rpartition(" ")
        if not role.strip() or not who:
            raise InvalidInput(_ROLE_USAGE)
        if who.lower() in _NOBODY:
            return UnassignRole(role=role.strip())
        return AssignRole(role=role.strip(), who=who)
    if word == "reopen":
        return _reopen(rest)
    if word == "done":
        number = rest.lstrip("#")
        if not number.isdigit():
            raise InvalidInput("Usage: `/incident done <action item number>`, for example `/incident done 2`.")
        return MarkDone(number=int(number))
    raise InvalidCommand(f"I don't know `/incident {head}`.\n\n{help_text()}")


# A channel as Slack writes it in an escaped command: <#C123|name> (or <#C123>).
_CHANNEL_LINK = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


def _reopen(rest: str) -> Reopen:
    if not rest:
        return Reopen()
    match = _CHANNEL_LINK.match(rest)
    if match is None:
        raise InvalidInput(
            "Usage: `/incident reopen` in the incident's channel, or `/incident reopen #its-channel` "
            "from anywhere (for a channel that was archived, say)."
        )
    return Reopen(room_id=match.group(1))
