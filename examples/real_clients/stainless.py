"""The Stainless-generated SDKs (``openai``, ``anthropic``) through their generic request methods.

Both SDKs share one generated core (``_base_client.py``): ``client.get/post/put/patch/delete(path,
cast_to=httpx.Response, options=...)`` run the SDK's own retry loop (``max_retries=2``, 0.5 s
doubling backoff with up to 25 % negative jitter, Retry-After honoured) over its own httpx
client. The adapter builds the client as a user pointing it at another base URL would:
``base_url``, ``api_key`` (the operation's bearer token), ``timeout`` (the run's budget) and the
operation's other headers as ``default_headers``; the retry settings stay at their defaults.
When the operation has no bearer token the SDK's ``Authorization`` header is omitted (the SDKs'
documented ``omit`` sentinel, per request), so only the operation's own credentials reach the mock.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import httpx2

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from . import answer, timeout_of
from .sdk import PLACEHOLDER_KEY, bearer_of, failure, other_headers


def _client(
    sdk: ModuleType, factory: Any, base_url: str, operation: Operation, timeout_s: float | None
) -> Any:
    return factory(
        api_key=bearer_of(operation.headers) or PLACEHOLDER_KEY,
        base_url=base_url,
        default_headers=other_headers(operation.headers),
        timeout=timeout_of(timeout_s),
    )


def _send(sdk: ModuleType, client: Any, operation: Operation) -> Any:
    """One call of the SDK's low-level method for the operation's HTTP method.

    ``cast_to=httpx2.Response`` returns the answer unparsed: both SDKs run on ``httpx2`` since
    openai 3 and anthropic 2 (anthropic accepts only that class there).
    """
    options: dict[str, Any] = {"params": dict(operation.query)}
    if bearer_of(operation.headers) is None:
        # Per request, where the SDKs' auth check looks for an explicitly omitted header.
        options["headers"] = {"Authorization": sdk.omit}
    method = getattr(client, operation.method.lower())
    if operation.method.upper() == "GET":
        return method(operation.path, cast_to=httpx2.Response, options=options)
    return method(operation.path, cast_to=httpx2.Response, body=operation.json, options=options)


def call(
    sdk: ModuleType, factory: Any, base_url: str, operation: Operation, timeout_s: float | None
) -> Outcome:
    """Run the operation through ``factory`` (``openai.OpenAI``, ``anthropic.Anthropic``)."""
    with _client(sdk, factory, base_url, operation, timeout_s) as client:
        try:
            response = _send(sdk, client, operation)
        except sdk.APIStatusError as exc:
            return failure(base_url, exc.response.status_code, exc.response.content, exc)
        except sdk.APIError as exc:  # APITimeoutError, APIConnectionError, response validation
            return failure(base_url, None, None, exc)
        return answer(base_url, operation, response.status_code, response.headers, response.content)
