"""Where webhooks may go (``webhook_targets.py``) and what the caller gets back (issue 14)."""

from __future__ import annotations

import socket

import pytest
from flask import Flask, redirect, request

from faultproof.mocks import webhook_targets, webhooks
from faultproof.mocks.app import create_app
from faultproof.mocks.config import MockConfig
from faultproof.mocks.control_input import MAX_DEPTH
from faultproof.mocks.webhook_targets import TargetError, resolve
from tests.mock.test_webhooks import servers  # noqa: F401  (the fixture)


def table(**names: list[str]):
    """A ``getaddrinfo`` that answers from a table and counts its calls."""
    calls: list[str] = []

    def lookup(name, port, type=0):
        calls.append(name)
        return [(socket.AF_INET, type, 6, "", (address, port)) for address in names[name]]

    lookup.calls = calls
    return lookup


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://169.254.169.254/latest/meta-data/", "--webhook-allow 169.254.169.254:80"),
        ("http://10.0.0.5:9000/hook", "--webhook-allow 10.0.0.5:9000"),
        ("http://[fe80::1]/hook", "loopback receivers only"),
        ("http://0.0.0.0:8080/hook", "loopback receivers only"),
        ("http://127.0.0.1:8080/__faultproof/sessions", "control plane"),
        ("http://127.0.0.1:8080/s/x/__FAULTPROOF/health", "control plane"),
        ("http://127.0.0.1:8080/%5F%5Ffaultproof/health", "control plane"),
        ("http://127.0.0.1:8080/%255F%255Ffaultproof/health", "control plane"),
        ("http://user:pw@127.0.0.1/hook", "user info"),
        ("file:///etc/passwd", "http(s) URL"),
        ("http://127.0.0.1:99999/hook", "bad port"),
    ],
)
def test_refused_targets(url, needle):
    with pytest.raises(TargetError) as caught:
        resolve(url, ())
    assert needle in str(caught.value)


def test_a_name_is_resolved_once_and_pinned_to_the_checked_address():
    lookup = table(**{"receiver.test": ["127.0.0.1"]})
    target = resolve("https://receiver.test:8443/hook?x=1", (), lookup)
    assert lookup.calls == ["receiver.test"]
    assert target.url == "https://127.0.0.1:8443/hook?x=1"
    assert (target.host, target.server_name, target.address) == (
        "receiver.test:8443",
        "receiver.test",
        "127.0.0.1",
    )


def test_a_name_with_any_non_loopback_address_is_refused():
    lookup = table(**{"mixed.test": ["127.0.0.1", "10.1.2.3"]})
    with pytest.raises(TargetError, match=r"10\.1\.2\.3"):
        resolve("http://mixed.test/hook", (), lookup)


def test_webhook_allow_widens_by_name_and_port():
    lookup = table(**{"hooks.ci": ["10.1.2.3"]})
    assert resolve("http://hooks.ci:9000/h", ("hooks.ci",), lookup).address == "10.1.2.3"
    assert resolve("http://hooks.ci:9000/h", ("hooks.ci:9000",), lookup).address == "10.1.2.3"
    with pytest.raises(TargetError):
        resolve("http://hooks.ci:9001/h", ("hooks.ci:9000",), lookup)


def test_metadata_addresses_need_the_address_itself_allowed():
    lookup = table(**{"meta.ci": ["169.254.169.254"]})
    with pytest.raises(TargetError, match="names that address itself"):
        resolve("http://meta.ci/latest", ("meta.ci",), lookup)
    allowed = resolve("http://169.254.169.254/latest", ("169.254.169.254",))
    assert allowed.address == "169.254.169.254"


@pytest.fixture
def mock():
    app = create_app(MockConfig(providers=("ainative",)))
    app.testing = True
    client = app.test_client()
    sid = client.post("/__faultproof/sessions").get_json()["id"]
    return client, f"/__faultproof/sessions/{sid}/webhooks"


def test_the_mock_refuses_forgery_targets_with_a_400(mock):
    client, path = mock
    for url in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/__faultproof/"):
        response = client.post(path, json={"url": url})
        assert response.status_code == 400
        assert response.headers["X-Faultproof-Error"] == "bad-webhook"


def loud_receiver(hits: list[str]) -> Flask:
    app = Flask("loud")

    @app.post("/hook")
    def hook():
        hits.append(request.path)
        return "x" * 100_000, 500

    @app.post("/moved")
    def moved():
        hits.append(request.path)
        return redirect("/elsewhere", 307)

    @app.post("/elsewhere")
    def elsewhere():
        hits.append(request.path)
        return {"host": request.host}

    return app


def test_only_a_small_excerpt_comes_back_and_redirects_are_not_followed(mock, servers):  # noqa: F811
    client, path = mock
    hits: list[str] = []
    base = servers(loud_receiver(hits))
    loud = client.post(path, json={"url": base + "/hook"}).get_json()
    assert loud["status"] == 500
    assert loud["reply"] == "x" * webhooks.REPLY_LIMIT
    moved = client.post(path, json={"url": base + "/moved"}).get_json()
    assert moved["status"] == 307
    assert hits == ["/hook", "/moved"]


def test_delivery_goes_to_the_checked_address_whatever_dns_says_later(
    mock,
    servers,  # noqa: F811
    monkeypatch,
):
    client, path = mock
    hits: list[str] = []
    port = servers(loud_receiver(hits)).rpartition(":")[2]
    real, answers = socket.getaddrinfo, iter([["127.0.0.1"], ["10.9.9.9"]])

    def rebinding(name, *args, **kwargs):
        if name != "receiver.test":
            return real(name, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers)[0], int(port)))]

    monkeypatch.setattr(webhook_targets.socket, "getaddrinfo", rebinding)
    answer = client.post(path, json={"url": f"http://receiver.test:{port}/elsewhere"}).get_json()
    assert answer["status"] == 200
    assert f'"host":"receiver.test:{port}"' in answer["reply"]
    assert next(answers) == ["10.9.9.9"]  # the second, rebound answer was never asked for


def test_deep_webhook_data_is_a_400_naming_the_limit(mock):
    client, path = mock
    deep: object = 1
    for _ in range(300):
        deep = {"d": deep}
    response = client.post(path, json={"url": "http://127.0.0.1:9/hook", "data": deep})
    assert response.status_code == 400
    assert f"deeper than {MAX_DEPTH} levels" in response.get_json()["faultproof_error"]
