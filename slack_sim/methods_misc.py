"""auth.test, apps.connections.open, team.info and users.* methods of the fake Web API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sim.state import WORKSPACE_DOMAIN, WORKSPACE_URL, ApiError, Args, Workspace, paginate

Handler = Callable[[Workspace, Args], dict[str, Any]]


def auth_test(ws: Workspace, args: Args) -> dict[str, Any]:
    return {
        "url": WORKSPACE_URL,
        "team": ws.team_name,
        "user": ws.users[ws.bot_user_id]["name"],
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def connections_open(ws: Workspace, args: Args) -> dict[str, Any]:
    if ws.socket_mode_url is None:
        # Nothing to connect to: the test did not set up a Socket Mode endpoint.
        raise ApiError("internal_error")
    return {"url": ws.socket_mode_url}


def team_info(ws: Workspace, args: Args) -> dict[str, Any]:
    if args.has("team") and args.string("team") != ws.team_id:
        raise ApiError("team_not_found")
    icon = {f"image_{size}": f"https://example.invalid/team_{size}.png" for size in (34, 44, 68, 88, 102, 132)}
    return {
        "team": {
            "id": ws.team_id,
            "name": ws.team_name,
            "url": WORKSPACE_URL,
            "domain": WORKSPACE_DOMAIN,
            "email_domain": "example.com",
            "icon": {**icon, "image_default": True},
            "avatar_base_url": "https://example.invalid/",
            "is_verified": False,
        }
    }


def users_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"user": ws.user_object(ws.require_user(args.string("user")))}


def users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    # Without a limit Slack tries to return everyone in one page.
    page, cursor = paginate(list(ws.users.values()), args, default_limit=0, max_limit=1000)
    return {
        "members": [ws.user_object(u) for u in page],
        "cache_ts": int(ws.clock()),
        "response_metadata": {"next_cursor": cursor},
    }


def users_lookup_by_email(ws: Workspace, args: Args) -> dict[str, Any]:
    email = args.string("email").strip().lower()
    for user in ws.users.values():
        if user["email"] and user["email"].lower() == email and not user["deleted"]:
            return {"user": ws.user_object(user)}
    raise ApiError("users_not_found")


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "apps.connections.open": connections_open,
    "team.info": team_info,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
}
