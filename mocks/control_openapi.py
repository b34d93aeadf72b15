"""The control plane's OpenAPI 3.1 document, served at ``GET /__faultproof/openapi.json``.

Every answer the control plane gives is listed, its own errors included: the mock's error body
(``{"faultproof_error": ..., "valid": [...]}`` with ``X-Faultproof-Error``), 400 for bad input,
404 for an unknown or expired session, and the access rule's (``access.py``) 401, 403, 413 and
415. Links from ``POST /sessions``
let schemathesis's stateful phase drive real sessions. Scenario ids in plans are the served
catalogue's, so a generated plan names scenarios that exist; what a schema cannot say (a
step's ``params`` must fit its scenario, a literal response's header values) is refused with a
400 saying why.
"""

from __future__ import annotations

from typing import Any

from faultproof.contracts import Catalogue

from .access import MAX_BODY_BYTES
from .control_input import MAX_DEPTH, MAX_STEPS
from .plans import AFTER, METHODS
from .webhooks import PROVIDER as WEBHOOK_PROVIDER

JSON = "application/json"
ERROR_KINDS = [
    "bad-request",
    "bad-plan",
    "bad-webhook",
    "unknown-session",
    "unknown-id",
    "unauthorized",
    "forbidden",
    "forbidden-host",
    "cross-site",
    "unsupported-media-type",
    "too-large",
    "default-session",
    "session-key",
    "http",
]

MOCK_ERROR = {
    "type": "object",
    "description": "The mock's own error, never a provider envelope: what is wrong, what is valid.",
    "required": ["faultproof_error"],
    "properties": {
        "faultproof_error": {"type": "string", "minLength": 1},
        "valid": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}

BASE_URLS = {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
NUMBER_OR_NULL = {"type": ["number", "null"]}
STRING_OR_NULL = {"type": ["string", "null"]}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "X-Faultproof-Error": {
                "required": True,
                "schema": {"type": "string", "enum": ERROR_KINDS},
            }
        },
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/MockError"}}},
    }


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


GUARD = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}
#: What the access rule adds for a method that may carry a body.
BODY_GUARD = {**GUARD, "415": {"$ref": "#/components/responses/NotJson"}}
SIZED_GUARD = {**BODY_GUARD, "413": {"$ref": "#/components/responses/TooLarge"}}
UNKNOWN_SESSION = {"404": {"$ref": "#/components/responses/UnknownSession"}}
#: The journal's filters (``journal_query.py``): globs are fnmatch's, a status a code or class.
JOURNAL_FILTERS = [
    {"name": "method", "in": "query", "schema": {"type": "string"}, "example": "POST"},
    {"name": "path", "in": "query", "schema": {"type": "string"}, "example": "/api/v1/*"},
    {
        "name": "status",
        "in": "query",
        "schema": {"type": "string", "pattern": "^[1-5]([0-9]{2}|xx)$"},
        "example": "4xx",
    },
    {"name": "scenario", "in": "query", "schema": {"type": "string"}, "example": "alana.RATE_*"},
    {"name": "provider", "in": "query", "schema": {"type": "string"}, "example": "alana"},
]
JOURNAL_COUNT = {
    "type": "object",
    "required": ["count", "in_flight", "dropped"],
    "properties": {
        "count": {"type": "integer", "minimum": 0},
        "in_flight": {"type": "integer", "minimum": 0},
        "dropped": {"type": "integer", "minimum": 0},
    },
}
VERDICTS = {
    "type": "object",
    "required": ["client", "results"],
    "properties": {
        "client": {"type": "string"},
        "results": {"type": "array", "items": {"type": "object"}},
    },
}
SESSION_ID = {
    "name": "session_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "A session id from POST /__faultproof/sessions.",
}
SESSION_KEY = {
    "name": "X-Faultproof-Session-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The session's key from POST /__faultproof/sessions, where the mock has "
    "session keys (a control token or --session-keys); 403 session-key without it.",
}
FROM_CREATED = {"session_id": "$response.body#/id"}


def _session_links() -> dict[str, Any]:
    """What a new session's id unlocks, for schemathesis's stateful phase."""
    ops = ["getSession", "putPlan", "deletePlan", "getJournal", "postWebhook", "deleteSession"]
    return {op[0].upper() + op[1:]: {"operationId": op, "parameters": FROM_CREATED} for op in ops}


def _any_case(words: tuple[str, ...]) -> str:
    """A pattern matching any of ``words`` in any letter case (the plan's method is)."""
    either = ("".join(f"[{c.upper()}{c.lower()}]" for c in word) for word in words)
    return f"^({'|'.join(either)})$"


def _plan_schema(catalogue: Catalogue, providers: tuple[str, ...]) -> dict[str, Any]:
    scenario_ids = [
        s.id
        for s in catalogue.scenarios()
        if (s.provider is None or s.provider in providers) and s.kind != "webhook"
    ]
    catalogue_step = {
        "type": "object",
        "required": ["scenario"],
        "properties": {
            "scenario": {"type": "string", "enum": scenario_ids},
            "params": {"type": ["object", "null"], "description": "The scenario's parameters."},
        },
        "additionalProperties": False,
    }
    literal_step = {
        "type": "object",
        "required": ["response"],
        "properties": {
            "response": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"type": "integer", "minimum": 200, "maximum": 599},
                    "headers": STRING_MAP,
                    "body": {},
                },
                "additionalProperties": False,
            },
            "id": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$"},
        },
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "required": ["steps"],
        "properties": {
            "match": {
                "type": ["object", "null"],
                "properties": {
                    "method": {"type": ["string", "null"], "pattern": _any_case(METHODS)},
                    "path": {"type": ["string", "null"], "pattern": "^/"},
                    "provider": {"enum": [*providers, None]},
                },
                "additionalProperties": False,
            },
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STEPS,
                "items": {"oneOf": [catalogue_step, literal_step]},
            },
            "after": {"type": "string", "enum": list(AFTER)},
        },
        "additionalProperties": False,
    }


JOURNAL_ENTRY = {
    "type": "object",
    "required": [
        "seq",
        "received_at",
        "responded_at",
        "method",
        "path",
        "query",
        "headers",
        "body",
        "status",
        "scenario",
        "retry_after_s",
    ],
    "properties": {
        "seq": {"type": "integer", "minimum": 1},
        "received_at": {"type": "number"},
        "responded_at": NUMBER_OR_NULL,
        "provider": {"type": "string"},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "query": STRING_MAP,
        "headers": STRING_MAP,
        "body": STRING_OR_NULL,
        "status": {"type": ["integer", "null"]},
        "scenario": STRING_OR_NULL,
        "retry_after_s": NUMBER_OR_NULL,
        "in_flight": {
            "type": "boolean",
            "description": "True while the request has no answer yet (responded_at and status "
            "null); absent once it is answered.",
        },
    },
}


def _webhook_request(catalogue: Catalogue) -> dict[str, Any]:
    events = list(catalogue.provider(WEBHOOK_PROVIDER).rules["webhook_events"].value)
    return {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
            "event": {"type": "string", "enum": events},
            "data": {},
            "tamper": {"type": "boolean"},
            "omit_signature": {"type": "boolean"},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
        },
        "additionalProperties": False,
    }


WEBHOOK_ANSWER = {
    "type": "object",
    "required": ["scenario", "status", "expected_status", "receiver_ok", "signature", "tampered"],
    "properties": {
        "scenario": {"type": "string"},
        "status": {"type": ["integer", "null"]},
        "expected_status": {"type": ["integer", "null"]},
        "receiver_ok": {"type": "boolean"},
        "signature": {"type": "string"},
        "tampered": {"type": "boolean"},
        "error": STRING_OR_NULL,
        "reply": STRING_OR_NULL,
    },
}


def _paths(catalogue: Catalogue, providers: tuple[str, ...]) -> dict[str, Any]:
    session_created = {
        "type": "object",
        "required": ["id", "base_urls", "header", "webhook_secret"],
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            "base_urls": BASE_URLS,
            "header": STRING_MAP,
            "webhook_secret": {"type": "string"},
            "key": {
                "type": "string",
                "description": "The session's key (X-Faultproof-Session-Key), where the mock "
                "has session keys.",
            },
        },
    }
    session = {
        "type": "object",
        "required": ["id", "created_at", "plan", "base_urls"],
        "properties": {
            "id": {"type": "string"},
            "created_at": {"type": "number"},
            "plan": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Plan"}]},
            "base_urls": BASE_URLS,
        },
    }
    journal = {
        "type": "object",
        "required": ["session", "entries", "dropped", "limit", "in_flight"],
        "properties": {
            "session": {"type": "string"},
            "entries": {"type": "array", "items": JOURNAL_ENTRY},
            "dropped": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "in_flight": {
                "type": "integer",
                "minimum": 0,
                "description": "Entries whose request is still being answered.",
            },
        },
    }
    plan_body = {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Plan"}}},
    }
    return {
        "/health": {
            "get": {
                "operationId": "getHealth",
                "responses": {
                    "200": _ok(
                        "The mock is up; the providers it serves.",
                        {
                            "type": "object",
                            "required": ["status", "providers"],
                            "properties": {
                                "status": {"const": "ok"},
                                "providers": {"type": "array", "items": {"enum": list(providers)}},
                            },
                        },
                    ),
                    **GUARD,
                },
            }
        },
        "/scenarios": {
            "get": {
                "operationId": "getScenarios",
                "responses": {
                    "200": _ok(
                        "The served catalogue (DESIGN.md's scenario objects).",
                        {"type": "array", "items": {"$ref": "#/components/schemas/Scenario"}},
                    ),
                    **GUARD,
                },
            }
        },
        "/sessions": {
            "post": {
                "operationId": "createSession",
                "responses": {
                    "201": {
                        **_ok("A new isolated session.", session_created),
                        "links": _session_links(),
                    },
                    **BODY_GUARD,
                },
            },
            "get": {
                "operationId": "listSessions",
                "responses": {
                    "200": _ok(
                        "How many sessions are live; their ids only from a mock with a control "
                        "token (an id is its session's capability).",
                        {
                            "type": "object",
                            "required": ["count"],
                            "properties": {
                                "count": {"type": "integer", "minimum": 0},
                                "sessions": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    ),
                    **GUARD,
                },
            },
        },
        "/sessions/{session_id}": {
            "parameters": [SESSION_ID, SESSION_KEY],
            "get": {
                "operationId": "getSession",
                "responses": {"200": _ok("The session.", session), **UNKNOWN_SESSION, **GUARD},
            },
            "delete": {
                "operationId": "deleteSession",
                "responses": {
                    "204": {"description": "Deleted."},
                    "409": _error("The default session, which cannot be deleted."),
                    **UNKNOWN_SESSION,
                    **BODY_GUARD,
                },
            },
        },
        "/sessions/{session_id}/plan": {
            "parameters": [SESSION_ID, SESSION_KEY],
            "put": {
                "operationId": "putPlan",
                "requestBody": plan_body,
                "responses": {
                    "200": _ok(
                        "The plan installed, in normal form.",
                        {
                            "type": "object",
                            "required": ["id", "plan"],
                            "properties": {
                                "id": {"type": "string"},
                                "plan": {"$ref": "#/components/schemas/Plan"},
                            },
                        },
                    ),
                    "400": _error(
                        f"Not a plan, more than {MAX_STEPS} steps, nesting deeper than "
                        f"{MAX_DEPTH} levels, or a step this mock cannot serve; nothing applied."
                    ),
                    **UNKNOWN_SESSION,
                    **SIZED_GUARD,
                },
            },
            "delete": {
                "operationId": "deletePlan",
                "responses": {
                    "204": {"description": "Plan cleared."},
                    **UNKNOWN_SESSION,
                    **BODY_GUARD,
                },
            },
        },
        "/sessions/{session_id}/journal": {
            "parameters": [SESSION_ID, SESSION_KEY, *JOURNAL_FILTERS],
            "get": {
                "operationId": "getJournal",
                "responses": {
                    "200": _ok(
                        "Entries kept (oldest first) that match the filters, and entries dropped.",
                        journal,
                    ),
                    "400": _error("A filter the journal does not have, or a malformed status."),
                    **UNKNOWN_SESSION,
                    **GUARD,
                },
            },
        },
        "/sessions/{session_id}/journal/count": {
            "parameters": [SESSION_ID, SESSION_KEY, *JOURNAL_FILTERS],
            "get": {
                "operationId": "countJournal",
                "responses": {
                    "200": _ok("How many kept entries match the filters.", JOURNAL_COUNT),
                    "400": _error("A filter the journal does not have, or a malformed status."),
                    **UNKNOWN_SESSION,
                    **GUARD,
                },
            },
        },
        "/sessions/{session_id}/verdicts": {
            "parameters": [SESSION_ID, SESSION_KEY],
            "post": {
                "operationId": "postVerdicts",
                "responses": {
                    "200": _ok(
                        "The session's answered requests graded as `faultproof judge` grades a "
                        "journal: its JSON report (results, checks, verdicts, timelines).",
                        VERDICTS,
                    ),
                    **UNKNOWN_SESSION,
                    **BODY_GUARD,
                },
            },
        },
        "/sessions/{session_id}/webhooks": {
            "parameters": [SESSION_ID, SESSION_KEY],
            "post": {
                "operationId": "postWebhook",
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _webhook_request(catalogue)}},
                },
                "responses": {
                    "200": _ok("Delivered (or not); what the receiver answered.", WEBHOOK_ANSWER),
                    "400": _error(
                        f"Not a delivery request, a receiver the mock does not deliver to "
                        f"(loopback or --webhook-allow only), data nested deeper than {MAX_DEPTH} "
                        f"levels, or {WEBHOOK_PROVIDER} is not served."
                    ),
                    **UNKNOWN_SESSION,
                    **SIZED_GUARD,
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getControlOpenapi",
                "responses": {"200": _ok("This document.", {"type": "object"}), **GUARD},
            }
        },
        "/openapi/{provider_id}.json": {
            "get": {
                "operationId": "getProviderOpenapi",
                "parameters": [
                    {
                        "name": "provider_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(providers)},
                    }
                ],
                "responses": {
                    "200": _ok("The provider's OpenAPI document.", {"type": "object"}),
                    "404": _error("Not a provider this mock serves (the valid ones listed)."),
                    **GUARD,
                },
            }
        },
    }


SCENARIO = {
    "type": "object",
    "required": ["id", "provider", "status", "code", "message", "retryable", "checks", "source"],
    "properties": {
        "id": {"type": "string"},
        "provider": STRING_OR_NULL,
        "status": {"type": ["integer", "null"]},
        "code": STRING_OR_NULL,
        "message": STRING_OR_NULL,
        "retryable": {"type": "boolean"},
        "checks": {"type": "array", "items": {"type": "string"}},
        "source": {
            "type": "object",
            "required": ["kind", "seed"],
            "properties": {"kind": {"enum": ["documented", "assumed"]}, "seed": STRING_OR_NULL},
        },
    },
}


def build(catalogue: Catalogue, providers: tuple[str, ...], server_url: str = "") -> dict[str, Any]:
    """The control plane's document for a mock serving ``providers`` at ``server_url``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "faultproof control plane",
            "version": "1",
            "description": "Sessions, plans, journals and webhooks of a faultproof mock. "
            "Known Host names only (localhost, loopback, the bound address, --allow-host), no "
            "cross-site Origin; loopback callers only, or the control token from every caller.",
        },
        "servers": [{"url": f"{server_url}/__faultproof"}],
        "paths": _paths(catalogue, providers),
        "components": {
            "schemas": {
                "MockError": MOCK_ERROR,
                "Plan": _plan_schema(catalogue, providers),
                "Scenario": SCENARIO,
            },
            "responses": {
                "UnknownSession": _error("Unknown or expired session."),
                "Unauthorized": _error(
                    "The mock has a control token and the caller gave none "
                    "or another (every caller, loopback included)."
                ),
                "Forbidden": _error(
                    "A Host the mock does not answer to (forbidden-host), a cross-site request "
                    "(cross-site), a non-loopback caller of a mock with no token (forbidden), or "
                    "a session's call without its key (session-key)."
                ),
                "NotJson": _error("A body or Content-Type other than application/json."),
                "TooLarge": _error(f"A body of more than {MAX_BODY_BYTES} bytes."),
            },
        },
    }
