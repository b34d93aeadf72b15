"""URL rules whose builders are made on first use, not when the app is built.

Why: werkzeug generates and compiles two URL-building functions for every rule the moment it
is added (``Rule.compile`` calls ``_compile_builder`` twice). For the mock's 93 rules that was
64 of the 76 ms ``create_app`` took, on the path of ``faultproof serve``'s cold start and of
every app the test suite builds, while the mock builds a URL for one route only (Alloy's
``tokenUrl``). Matching is untouched: only building waits until someone builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

Builder = Callable[..., tuple[str, str]]


class LazyBuildRule(Rule):
    """A werkzeug ``Rule`` (Flask's ``url_rule_class``) that compiles its builders lazily."""

    def _compile_builder(self, append_unknown: bool = True) -> Builder:
        made: list[Builder] = []

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if not made:
                made.append(Rule._compile_builder(rule, append_unknown).__get__(rule, None))
            return made[0](*args, **kwargs)

        return build
