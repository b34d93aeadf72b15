"""faultproof.contracts: provider catalogues, error-envelope schemas, client policies.

No Flask and no I/O beyond reading this package's own data files: a team that only wants the
schemas, the normal form or the Retry-After parser (for example to check captured traffic)
imports this package alone.
"""

from __future__ import annotations

from typing import Any

from .catalogue import PROVIDERS, Catalogue, Provider, Rule, default_catalogue, load_catalogue
from .errors import CatalogueError, FaultproofError, UnknownIdError
from .normal_form import NormalError, NormalForm
from .policy import Backoff, ClientPolicy
from .retry_after import MAX_RETRY_AFTER_S, RetryAfter, parse_retry_after
from .scenario import Operation, Response, Scenario
from .source import Source


def normal_form(provider: str, body: Any) -> NormalError:
    """The DESIGN.md normal form (code, message, request_id) of a provider error body.

    ``body`` may be parsed JSON, raw bytes or text, or an NDJSON stream (its error line).
    """
    return default_catalogue().provider(provider).normal_form.apply(body)


__all__ = [
    "MAX_RETRY_AFTER_S",
    "PROVIDERS",
    "Backoff",
    "Catalogue",
    "CatalogueError",
    "ClientPolicy",
    "FaultproofError",
    "NormalError",
    "NormalForm",
    "Operation",
    "Provider",
    "Response",
    "RetryAfter",
    "Rule",
    "Scenario",
    "Source",
    "UnknownIdError",
    "default_catalogue",
    "load_catalogue",
    "normal_form",
    "parse_retry_after",
]
