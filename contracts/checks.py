"""The client contract: one plain function per check id, registered by name.

The registry and the run a check reads live in ``check_registry.py``; the checks themselves in
``check_answers.py`` (what the client reported, whether it retried), ``check_waits.py`` (time:
waits, caps, backoff, attempts, timeouts) and ``check_safety.py`` (``safe_retries``). Importing
this module registers all thirteen; it is the one place the rest of faultproof imports from.
Verdict strength follows provenance (``grounds.py``) and evidence matches the timeline
(``evidence.py``).
"""

from __future__ import annotations

from . import check_answers, check_safety, check_waits
from .check_registry import (
    CHECK_IDS,
    REGISTRY,
    Check,
    CheckContext,
    CheckFn,
    Finding,
    Mode,
    check,
    run_check,
)

_MODULES = (check_answers, check_safety, check_waits)  # imported for their registrations

__all__ = [
    "CHECK_IDS",
    "REGISTRY",
    "Check",
    "CheckContext",
    "CheckFn",
    "Finding",
    "Mode",
    "check",
    "run_check",
]
