"""Webhook deliveries checked by a receiver that verifies the HMAC on its own."""

from __future__ import annotations

import hashlib
import hmac
import threading

import pytest
from flask import Flask, request
from werkzeug.serving import make_server

from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig


def receiver(secret_box: dict, received: list, strict: bool = True):
    """A receiver as the seed's example writes it: HMAC-SHA256 hex of the raw body."""
    app = Flask("receiver")

    @app.post("/webhook")
    def handle():
        raw = request.get_data()
        expected = hmac.new(secret_box["secret"].encode(), raw, hashlib.sha256).hexdigest()
        given = request.headers.get("X-Signature", "")
        received.append((raw, given, expected))
        if strict and not hmac.compare_digest(given, expected):
            return {"error": "Invalid signature"}, 401
        return {"status": "ok"}, 200

    return app


@pytest.fixture
def servers():
    started = []

    def serve(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return f"http://127.0.0.1:{server.port}"

    yield serve
    for server, thread in started:
        server.shutdown()
        thread.join(timeout=5)


def _setup(servers, strict=True):
    mock = create_app(MockConfig(providers=("ainative",)))
    mock.testing = True
    client = mock.test_client()
    session = client.post("/__faultproof/sessions").get_json()
    box, received = {"secret": session["webhook_secret"]}, []
    url = servers(receiver(box, received, strict)) + "/webhook"
    return client, session["id"], url, received


def test_signed_tampered_and_unsigned_deliveries(servers):
    client, sid, url, received = _setup(servers)
    signed = client.post(f"/__faultproof/sessions/{sid}/webhooks", json={"url": url}).get_json()
    assert (signed["status"], signed["expected_status"], signed["receiver_ok"]) == (200, 200, True)
    raw, given, expected = received[-1]
    assert given == expected == signed["signature"]
    assert b'"type":"agent.task.completed"' in raw

    tampered = client.post(
        f"/__faultproof/sessions/{sid}/webhooks", json={"url": url, "tamper": True}
    ).get_json()
    assert (tampered["status"], tampered["receiver_ok"], tampered["tampered"]) == (401, True, True)
    raw, given, expected = received[-1]
    assert given != expected  # an independent HMAC of what arrived does not match the header

    unsigned = client.post(
        f"/__faultproof/sessions/{sid}/webhooks", json={"url": url, "omit_signature": True}
    ).get_json()
    assert (unsigned["status"], unsigned["receiver_ok"]) == (401, True)
    assert received[-1][1] == ""

    entries = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()["entries"]
    assert [(e["direction"], e["scenario"], e["status"]) for e in entries] == [
        ("outbound", "ainative.webhook_signed", 200),
        ("outbound", "ainative.webhook_tampered", 401),
        ("outbound", "ainative.webhook_missing_signature", 401),
    ]


def test_a_receiver_that_accepts_forgeries_is_caught(servers):
    client, sid, url, _ = _setup(servers, strict=False)
    tampered = client.post(
        f"/__faultproof/sessions/{sid}/webhooks", json={"url": url, "tamper": True}
    ).get_json()
    assert (tampered["status"], tampered["expected_status"], tampered["receiver_ok"]) == (
        200,
        401,
        False,
    )


def test_unreachable_receiver_is_journaled_not_raised(servers):
    client, sid, _, _ = _setup(servers)
    answer = client.post(
        f"/__faultproof/sessions/{sid}/webhooks",
        json={"url": "http://127.0.0.1:9/webhook", "timeout_s": 2},
    ).get_json()
    assert answer["status"] is None and answer["error"]
    entry = client.get(f"/__faultproof/sessions/{sid}/journal").get_json()["entries"][-1]
    assert entry["status"] is None and entry["error"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"url": "ftp://x"}, "http(s) URL"),
        ({}, "http(s) URL"),
        ({"url": "http://x", "event": "nope"}, "documented events"),
        ({"url": "http://x", "tamper": "yes"}, "booleans"),
        ({"url": "http://x", "colour": 1}, "unknown fields"),
        ({"url": "http://x", "timeout_s": 0}, "timeout_s"),
        ([], "JSON object"),
    ],
)
def test_bad_webhook_requests(servers, body, needle):
    client, sid, _, _ = _setup(servers)
    response = client.post(f"/__faultproof/sessions/{sid}/webhooks", json=body)
    assert response.status_code == 400
    assert needle in response.get_json()["faultproof_error"]
    assert client.get(f"/__faultproof/sessions/{sid}/journal").get_json()["entries"] == []


def test_signature_is_plain_hmac_sha256_hex():
    from faultproof.mocks.webhooks import sign

    assert sign("k", b"body") == hmac.new(b"k", b"body", hashlib.sha256).hexdigest()
