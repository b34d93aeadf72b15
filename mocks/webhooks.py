"""Signed webhook deliveries to a receiver under test (AINative's ``X-Signature``).

The mock signs the raw body with the session's secret (hex HMAC-SHA256, seed 004), posts it
to the receiver's URL, and journals what the receiver answered, so a receiver is graded on
accepting the good delivery (200) and refusing the forged or unsigned one (401). A tampered
delivery is signed first and altered after, exactly what an attacker in the middle produces.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from faultproof.contracts import Catalogue, Scenario

from . import journal
from .webhook_targets import Target, TargetError, resolve

PROVIDER = "ainative"
#: Bytes of the receiver's reply the mock reads and reports: enough to see its error message,
#: too little to make the mock a reader of what it can reach.
REPLY_LIMIT = 512


class WebhookError(ValueError):
    """A delivery request the mock cannot carry out; the message says why."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery, ready to send.

    Attributes:
        url: The receiver.
        target: The receiver's checked address (``webhook_targets.py``), where it is sent.
        scenario: ``webhook_signed``, ``webhook_tampered`` or ``webhook_missing_signature``.
        body: The raw bytes sent.
        headers: The headers sent (``X-Signature`` unless omitted).
        signature: The signature computed over the untampered body.
        timeout_s: How long the receiver has to answer.
    """

    url: str
    target: Target
    scenario: Scenario
    body: bytes
    headers: dict[str, str]
    signature: str
    timeout_s: float


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def prepare(request: Any, catalogue: Catalogue, secret: str, allow: Sequence[str] = ()) -> Delivery:
    """Validate a delivery request (``{url, event, data, tamper, omit_signature}``) and build it;
    ``allow`` are the ``--webhook-allow`` values that widen where it may go."""
    if not isinstance(request, dict):
        raise WebhookError(
            "the body is a JSON object: {url, event?, data?, tamper?, omit_signature?}"
        )
    unknown = sorted(
        set(request) - {"url", "event", "data", "tamper", "omit_signature", "timeout_s"}
    )
    if unknown:
        raise WebhookError(
            f"unknown fields {unknown}; valid: url, event, data, tamper, omit_signature, timeout_s"
        )
    url = request.get("url")
    if not isinstance(url, str):
        raise WebhookError(f"'url' must be an http(s) URL of the receiver, got {url!r}")
    provider = catalogue.provider(PROVIDER)
    events = list(provider.rules["webhook_events"].value)
    event = request.get("event", events[0])
    if event not in events:
        raise WebhookError(f"unknown event {event!r}; documented events: {', '.join(events)}")
    tamper, omit = request.get("tamper", False), request.get("omit_signature", False)
    if not isinstance(tamper, bool) or not isinstance(omit, bool):
        raise WebhookError("'tamper' and 'omit_signature' are booleans")
    deadline = provider.rules["webhook_response_deadline"].value
    timeout = request.get("timeout_s", deadline["timeout_s"])
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
        raise WebhookError(f"'timeout_s' is a number of seconds in (0, 300], got {timeout!r}")
    name = (
        "webhook_missing_signature" if omit else "webhook_tampered" if tamper else "webhook_signed"
    )
    scenario = catalogue.scenario(name, provider=PROVIDER)
    payload = scenario.render(now=time.time()).body
    payload = {**payload, "type": event, "data": request.get("data", payload["data"])}
    body = orjson.dumps(payload)
    signature = sign(secret, body)
    if tamper:
        body = orjson.dumps({**payload, "data": {"tampered": True, "original": payload["data"]}})
    header = str(provider.rules["webhook_signature"].value["header"])
    headers = {"Content-Type": "application/json", "User-Agent": "faultproof-webhooks"}
    if not omit:
        headers[header] = signature
    try:
        target = resolve(url, allow)
    except TargetError as exc:
        raise WebhookError(str(exc)) from None
    return Delivery(url, target, scenario, body, headers, signature, float(timeout))


def _post(delivery: Delivery) -> tuple[int, dict[str, str], str]:
    """POST to the checked address, no redirects, no proxy; at most ``REPLY_LIMIT`` bytes read."""
    target = delivery.target
    extensions = {"sni_hostname": target.server_name} if target.server_name else {}
    with (
        httpx.Client(timeout=delivery.timeout_s, follow_redirects=False, trust_env=False) as http,
        http.stream(
            "POST",
            target.url,
            content=delivery.body,
            headers={**delivery.headers, "Host": target.host},
            extensions=extensions,
        ) as response,
    ):
        kept = b""
        for chunk in response.iter_bytes():
            kept += chunk
            if len(kept) >= REPLY_LIMIT:
                break
        text = kept[:REPLY_LIMIT].decode(response.encoding or "utf-8", errors="replace")
        return response.status_code, dict(response.headers), text


def deliver(delivery: Delivery, now: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send it; the answer for the caller and the journal entry (``direction: outbound``)."""
    sent_at = now()
    status: int | None = None
    error: str | None = None
    response_headers: dict[str, str] = {}
    reply: str | None = None
    try:
        status, response_headers, reply = _post(delivery)
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    expected = delivery.scenario.status
    entry = journal.entry(
        provider=PROVIDER,
        method="POST",
        path=delivery.url,
        query={},
        headers=delivery.headers,
        body=delivery.body,
        received_at=sent_at,
        responded_at=now(),
        status=status,
        scenario=delivery.scenario.id,
        response_headers=response_headers,
    )
    entry.update(direction="outbound", expected_status=expected, receiver_body=reply, error=error)
    answer = {
        "scenario": delivery.scenario.id,
        "status": status,
        "expected_status": expected,
        "receiver_ok": status == expected,
        "signature": delivery.signature,
        "tampered": delivery.scenario.name == "webhook_tampered",
        "error": error,
        "reply": reply,
    }
    return answer, entry
