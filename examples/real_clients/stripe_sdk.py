"""The official ``stripe`` SDK, ``StripeClient(...).raw_request`` with its retries on.

``StripeClient(api_key, base_addresses={"api": base_url}, max_network_retries=2,
http_client=stripe.new_default_http_client(timeout=...))``: retries as Stripe's docs enable them
(2, the library-wide ``stripe.max_network_retries`` default that ``StripeClient`` does not
inherit), the SDK's default HTTP client with the run's budget as its timeout. Stripe sends its
own ``Idempotency-Key`` on every POST and reuses it on each retry. ``raw_request`` is the SDK's
generic method; like the rest of the SDK it form-encodes a body (JSON only under ``/v2``) and
knows GET, POST and DELETE only. The operation's other headers go in the request's ``headers``.

``faultproof run --client-py examples.real_clients.stripe_sdk:client``
"""

from __future__ import annotations

from typing import Any

import stripe

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import answer, timeout_of
from .sdk import PLACEHOLDER_KEY, bearer_of, failure, other_headers

#: Retries as Stripe's docs turn them on (``stripe.max_network_retries`` is 2).
MAX_NETWORK_RETRIES = 2


def _params(operation: Operation) -> dict[str, Any]:
    """``raw_request``'s keyword parameters: the query (GET, DELETE) or body, and the headers."""
    params: dict[str, Any] = dict(operation.query)
    if isinstance(operation.json, dict):
        params.update(operation.json)
    params["headers"] = other_headers(operation.headers)
    return params


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The operation through ``StripeClient.raw_request`` and the SDK's own retries."""
    sdk = stripe.StripeClient(
        bearer_of(operation.headers) or PLACEHOLDER_KEY,
        base_addresses={"api": base_url.rstrip("/")},
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.new_default_http_client(timeout=timeout_of(timeout_s)),
    )
    try:
        response = sdk.raw_request(operation.method.lower(), operation.path, **_params(operation))
    except stripe.StripeError as exc:
        return failure(base_url, exc.http_status, exc.http_body, exc)
    return answer(base_url, operation, response.code, response.headers, response.body.encode())
