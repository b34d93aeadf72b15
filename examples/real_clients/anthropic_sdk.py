"""The official ``anthropic`` SDK, ``Anthropic(base_url=..., api_key=..., timeout=...)`` at its
defaults.

``faultproof run --client-py examples.real_clients.anthropic_sdk:client``
"""

from __future__ import annotations

import anthropic

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from .stainless import call


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The operation through ``Anthropic.get/post/...`` and the SDK's own retries."""
    return call(anthropic, anthropic.Anthropic, base_url, operation, timeout_s)
