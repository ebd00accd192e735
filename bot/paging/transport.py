"""POSTing JSON to a pager: no redirects, errors sorted into retryable or not, and no key in any message."""

from __future__ import annotations

import email.utils
import http.client
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO

from bot.core.paging import PagingError

USER_AGENT = "incident-bot (paging)"

_BODY_LIMIT = 64 * 1024  # what is read of an answer; pagers answer in a few hundred bytes
_DETAIL_LIMIT = 300  # how much of a pager's own complaint goes into the error message


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib turns a redirected POST into a GET that still carries the Authorization header, to whatever
    # host the Location names. A pager endpoint never redirects, so a 3xx is an error, not a hop.
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects())


def post_json(
    *,
    service: str,
    label: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    secrets: tuple[str, ...],
) -> Answer:
    """POST a JSON body; the answer when it is a 2xx, else PagingError saying whether a retry can help."""
    request = urllib.request.Request(url, data=body, method="POST")
    for name, value in {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}.items():
        request.add_header(name, value)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Answer(status=response.status, body=response.read(_BODY_LIMIT))
    except urllib.error.HTTPError as error:
        answer = Answer(status=error.code, body=_read_quietly(error))
        retry_after = _retry_after(error.headers.get("Retry-After"))
        error.close()
        # `from None`: the urllib error holds the request, whose URL or headers may carry the key.
        raise _refusal(service=service, label=label, answer=answer, retry_after=retry_after, secrets=secrets) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        said = reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
        text = _scrub(said, secrets=secrets)
        raise PagingError(f"{label} could not be reached ({text})", service=service, retryable=True) from None


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(_BODY_LIMIT)
    except (OSError, http.client.HTTPException):
        return b""


def _refusal(
    *, service: str, label: str, answer: Answer, retry_after: float | None, secrets: tuple[str, ...]
) -> PagingError:
    # 429 and 5xx pass; anything else (a bad key, a bad event, a redirect) fails the same way every time.
    retryable = answer.status == 429 or answer.status >= 500
    detail = _scrub(_complaint(answer.body), secrets=secrets)
    if 300 <= answer.status < 400:
        detail = "; ".join(part for part in ("redirects are not followed", detail) if part)
    message = f"{label} answered HTTP {answer.status}" + (f": {detail}" if detail else "")
    return PagingError(message, service=service, retryable=retryable, retry_after=retry_after if retryable else None)


def _complaint(body: bytes) -> str:
    """The service's own words from an error body: PagerDuty's message and errors, Opsgenie's message."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return _clip(" ".join(text.split()))
    if not isinstance(parsed, dict):
        return _clip(text)
    parts = [str(parsed["message"])] if parsed.get("message") else []
    errors = parsed.get("errors")
    if isinstance(errors, list):
        parts += [str(item) for item in errors]
    elif isinstance(errors, dict):
        parts += [f"{key}: {value}" for key, value in errors.items()]
    return _clip("; ".join(parts) if parts else text)


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


def _scrub(text: str, *, secrets: tuple[str, ...]) -> str:
    # A service may echo what it was sent; never let a key through into a log line.
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now: either a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def encode_json(document: object) -> bytes:
    """Compact UTF-8 JSON, the bytes that are sent (and, for the webhook, signed)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def answer_field(body: bytes, key: str) -> str | None:
    """One top-level field of a JSON answer (a dedup_key, a requestId), shortened for the log."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    value = parsed.get(key) if isinstance(parsed, dict) else None
    return str(value)[:100] if value is not None else None
