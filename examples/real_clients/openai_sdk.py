"""The official ``openai`` SDK, ``OpenAI(base_url=..., api_key=..., timeout=...)`` at its defaults.

``faultproof run --client-py examples.real_clients.openai_sdk:client``
"""

from __future__ import annotations

import openai

from faultproof.contracts import Operation
from faultproof.contracts.verdict import Outcome

from .stainless import call


def client(base_url: str, operation: Operation, timeout_s: float | None = None) -> Outcome:
    """The operation through ``OpenAI.get/post/...`` and the SDK's own retries."""
    return call(openai, openai.OpenAI, base_url, operation, timeout_s)
