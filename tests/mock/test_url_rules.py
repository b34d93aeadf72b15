"""The app's URL rules compile their builders on first use only (``mocks/url_rules.py``)."""

from __future__ import annotations

from flask import url_for
from werkzeug.routing import Rule

from faultproof.mocks.app import create_app


def test_building_the_app_compiles_no_url_builder_and_url_for_still_builds(monkeypatch):
    compiled = []
    original = Rule._compile_builder

    def counting(rule, append_unknown=True):
        compiled.append(rule.rule)
        return original(rule, append_unknown)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    app = create_app()
    assert len(list(app.url_map.iter_rules())) > 50
    assert compiled == []
    with app.test_request_context():
        url = url_for("faultproof_control.health", _external=True)
        again = url_for("faultproof_control.health")
    assert url == "http://localhost/__faultproof/health"
    assert again == "/__faultproof/health"
    assert compiled == ["/__faultproof/health"]  # once, then reused
