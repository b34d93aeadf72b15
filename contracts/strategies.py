"""Hypothesis strategies for provider error responses and ``Retry-After`` values.

For a user's own property tests, and for ``faultproof run --fuzz``::

    from hypothesis import given
    from faultproof.contracts.strategies import error_responses, retry_after_values

    @given(error_responses("alana"))
    def test_my_client_reports_every_envelope(response):
        outcome = my_client.handle(response.status, response.headers, response.body)
        assert outcome.code == response.normal.code

    @given(retry_after_values(max_seconds=5))
    def test_my_parser_never_waits_less_than_asked(value): ...

``error_responses(provider)`` answers only what the provider could send: each draw starts from
one of its catalogue error scenarios (the *template*: status, Content-Type, the operation it
answers, whether it is retryable), draws the body from the branch of the provider's JSON Schema
that the template's body matches (hypothesis-jsonschema), keeps the template's code at the normal
form's code pointer, and, when retryable, may carry a ``Retry-After`` drawn from
``retry_after_values``. Every body validates against the schema and has a normal form.

``retry_after_values`` covers every row of the parser's table (``retry_after.py``): integers,
fractions, HTTP-dates and asctime dates in the future and in the past, negatives, garbage and
huge values; ``retry_after_category`` names the row a value falls in, by the parser itself.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal

import orjson
from hypothesis import strategies as st

from .catalogue import Provider, default_catalogue
from .literal import header_safe
from .normal_form import NormalError, resolve_pointer
from .retry_after import parse_retry_after
from .scenario import Scenario
from .schemas import first_error
from .template import REQUEST, placeholders

Category = Literal["seconds", "fraction", "date_future", "date_past", "negative", "garbage", "huge"]
CATEGORIES: tuple[Category, ...] = (
    "seconds",
    "fraction",
    "date_future",
    "date_past",
    "negative",
    "garbage",
    "huge",
)
#: Values a server may send that name no wait (the parser's ``invalid`` rows).
GARBAGE = (
    "",
    "soon",
    "tomorrow",
    "1e3",
    "0x10",
    "NaN",
    "inf",
    "1,5",
    "2 s",
    "Sun, 06 Nov 2094 08:49:37",  # a date without GMT is no HTTP-date
    "Mon, 32 Nov 2094 08:49:37 GMT",
)


def retry_after_category(value: str, now: float | None = None) -> Category:
    """The row of ``retry_after.py``'s table that ``value`` falls in, read by the parser."""
    parsed = parse_retry_after(value, now=now)
    if parsed.huge:
        return "huge"
    if parsed.kind == "invalid":
        return "negative" if value.strip().startswith("-") else "garbage"
    if parsed.kind == "date":
        return "date_future" if parsed.seconds else "date_past"
    return "seconds" if parsed.kind == "seconds" else "fraction"


def _date(offset_s: int, asctime: bool) -> str:
    """An HTTP-date (or asctime date) ``offset_s`` seconds from drawing, at most (whole seconds)."""
    moment = math.floor(time.time()) + offset_s
    if asctime:
        return time.asctime(time.gmtime(moment))
    return formatdate(moment, usegmt=True)


def retry_after_values(*, max_seconds: float = 120.0) -> st.SearchStrategy[str]:
    """``Retry-After`` header values of every kind the parser tells apart.

    Waits a client should honour (integers, fractions, future dates) stay within
    ``max_seconds``; huge values always exceed any client policy's cap. Dates are computed when
    drawn, so a future date is still in the future when a test serves it at once.
    """
    whole = max(1, math.floor(max_seconds))
    hundredths = max(1, math.floor(max_seconds * 100))
    seconds = st.integers(0, whole).map(str) | st.integers(0, whole).map(lambda n: f" {n} ")
    fraction = st.integers(1, hundredths).map(lambda n: f"{n // 100}.{n % 100:02d}")
    future = st.builds(_date, st.integers(min(2, whole), whole), st.booleans())
    past = st.builds(_date, st.integers(-(10**9), -1), st.booleans())
    negative = st.integers(1, 10**6).map(lambda n: f"-{n}") | fraction.map(lambda f: f"-{f}")
    garbage = st.sampled_from(GARBAGE) | st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12
    ).filter(lambda v: retry_after_category(v) == "garbage")
    huge = st.integers(10**10, 10**30).map(str) | st.integers(16, 400).map(lambda n: "9" * n)
    return st.one_of(seconds, fraction, future, past, negative, garbage, huge)


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """One generated error answer of a provider.

    Attributes:
        provider: Provider id.
        template: The catalogue scenario it varies (status, Content-Type, operation).
        status: HTTP status.
        headers: Response headers (Content-Type, and maybe Retry-After).
        body: The JSON body, valid against the provider's error schema.
        operation: The operation that receives this answer.
        retryable: Whether the catalogue says a client retries it.
        normal: The normal form of the body (what a client must report).
    """

    provider: str
    template: str
    status: int
    headers: Mapping[str, str]
    body: Any
    operation: str
    retryable: bool
    normal: NormalError = field(compare=False)

    def to_json(self) -> dict[str, Any]:
        """The ``response`` object of a literal plan step: status, headers, body."""
        return {"status": self.status, "headers": dict(self.headers), "body": self.body}


@dataclass(frozen=True, slots=True)
class _Template:
    scenario: Scenario
    pointer: str
    body: Any


def _branches(schema: Mapping[str, Any]) -> list[str]:
    """The top-level ``oneOf``/``anyOf`` branches (``#/$defs/x``) of an envelope schema."""
    options = schema.get("oneOf") or schema.get("anyOf") or [{"$ref": "#"}]
    return [option["$ref"] for option in options if "$ref" in option]


def _draft7(node: Any) -> Any:
    """The schema with 2020-12 ``prefixItems`` spelt as draft 7 (hypothesis-jsonschema's)."""
    if isinstance(node, list):
        return [_draft7(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _draft7(value) for key, value in node.items()}
    if "prefixItems" in out:
        out["additionalItems"] = out.pop("items", True)
        out["items"] = out.pop("prefixItems")
    return out


#: Per provider object (kept alive here, so its ``id`` is never reused): templates, strategies.
_CACHE: dict[tuple[int, str], tuple[Provider, Any]] = {}


def _cached(provider: Provider, key: str, build: Any) -> Any:
    slot = (id(provider), key)
    if slot not in _CACHE:
        _CACHE[slot] = (provider, build())
    return _CACHE[slot][1]


def _templates(provider: Provider) -> tuple[_Template, ...]:
    return _cached(provider, "templates", lambda: _find_templates(provider))  # type: ignore[no-any-return]


def _find_templates(provider: Provider) -> tuple[_Template, ...]:
    """The provider's error scenarios with a JSON envelope, each with its schema branch."""
    templates = []
    for scenario in provider.scenarios.values():
        if (
            scenario.kind != "error"
            or scenario.status is None
            or "refreshes_token" in scenario.checks
        ):
            continue
        body = scenario.render(now=0).body
        normal = provider.normal_form.apply(body)
        if not isinstance(body, dict) or not (normal.code or normal.message):
            continue
        pointer = next(
            (
                p
                for p in _branches(provider.schema)
                if first_error(provider.schema, body, p) is None
            ),
            None,
        )
        if pointer is not None:
            templates.append(_Template(scenario, pointer, body))
    return tuple(templates)


def _bodies(provider: Provider, pointer: str) -> st.SearchStrategy[Any]:
    from hypothesis_jsonschema import from_schema

    schema = {"$ref": pointer, "$defs": _draft7(provider.schema.get("$defs", {}))}
    return _cached(provider, pointer, lambda: from_schema(schema))  # type: ignore[no-any-return]


def _pin(provider: Provider, template: _Template, body: Any) -> Any:
    """Keep the template's code at the normal form's code pointer, its status echo and its
    request echoes (``{{jsonrpc_id}}``: a JSON-RPC variant answers the request's own id)."""
    if not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    for pointer in provider.normal_form.code:
        parent, _, key = pointer.rpartition("/")
        holder = resolve_pointer(body, parent) if parent else body
        if isinstance(holder, dict) and key in holder and template.scenario.code:
            holder[key] = template.scenario.code
            break
    for key, value in template.body.items():
        if value == template.scenario.status and key in body:
            body[key] = value
    raw = template.scenario.body
    for key, value in raw.items() if isinstance(raw, dict) else ():
        if isinstance(value, str) and placeholders(value) & set(REQUEST):
            body[key] = value
    return body


def _valid(provider: Provider, pointer: str, body: Any) -> bool:
    """Valid against the schema, with a normal form, and sendable (orjson: 64-bit integers)."""
    try:
        orjson.dumps(body)
    except TypeError:
        return False
    normal = provider.normal_form.apply(body)
    return first_error(provider.schema, body, pointer) is None and bool(
        normal.code or normal.message
    )


def body_waits(*, max_seconds: float = 120.0) -> st.SearchStrategy[float]:
    """Numeric waits for a body ``retry_after`` (AINative): within ``max_seconds``, or huge."""
    within = st.integers(0, max(1, math.floor(max_seconds * 10))).map(lambda n: n / 10)
    return within | st.floats(1e10, 1e300)


def error_responses(
    provider: str | Provider, *, max_wait_s: float = 120.0
) -> st.SearchStrategy[ErrorResponse]:
    """Error answers ``provider`` could send, bodies drawn from its JSON Schema.

    ``max_wait_s`` bounds the waits a client should honour (Retry-After and body waits); huge
    ones are drawn too. A ``Retry-After`` header comes only on retryable answers, and only where
    the body names no wait of its own (the policy's body source would otherwise compete).
    """
    chosen = provider if isinstance(provider, Provider) else default_catalogue().provider(provider)
    templates = _templates(chosen)
    if not templates:
        raise ValueError(f"{chosen.id} has no error scenario with a JSON envelope to vary")
    header_values = retry_after_values(max_seconds=max_wait_s)
    waits = body_waits(max_seconds=max_wait_s)

    @st.composite
    def draw(draw: st.DrawFn) -> ErrorResponse:
        with _DRAWING:
            return _draw_response(draw, chosen, templates, header_values, waits)

    return draw()


#: Searches run in threads (one per provider, and ``faultproof run --fuzz`` beside other work),
#: but hypothesis's lambda-source cache is not thread-safe: a filter retry names its strategy,
#: and two threads naming at once made a draw fail with a ``SystemError`` that the engine then
#: called flaky, ending the search after one example. Drawing is quick; the runs stay parallel.
_DRAWING = threading.RLock()


def _draw_response(
    draw: st.DrawFn,
    chosen: Provider,
    templates: tuple[_Template, ...],
    header_values: st.SearchStrategy[str],
    waits: st.SearchStrategy[float],
) -> ErrorResponse:
    template = draw(st.sampled_from(templates))
    scenario = template.scenario
    body = draw(
        _bodies(chosen, template.pointer)
        .map(lambda b: _pin(chosen, template, b))
        .filter(lambda b: _valid(chosen, template.pointer, b))
    )
    headers = {"Content-Type": scenario.content_type or chosen.content_type}
    body_wait = "body_retry_after" in chosen.policy.wait_sources and "retry_after" in body
    if scenario.retryable and body_wait:
        body["retry_after"] = draw(waits)
    elif scenario.retryable:
        value = draw(st.none() | header_values)
        if value is not None and header_safe(value):
            headers["Retry-After"] = value
    return ErrorResponse(
        provider=chosen.id,
        template=scenario.id,
        status=int(scenario.status or 500),
        headers=headers,
        body=body,
        operation=scenario.operation or chosen.default_operation,
        retryable=scenario.retryable,
        normal=chosen.normal_form.apply(body),
    )


__all__ = [
    "CATEGORIES",
    "ErrorResponse",
    "body_waits",
    "error_responses",
    "retry_after_category",
    "retry_after_values",
]
