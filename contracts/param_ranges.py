"""Where a number a user gives a scenario may go: finite, and within its range.

A scenario parameter set by a request (a trigger's ``__fraction=``, ``Prefer: retry_after=``,
``X-Faultproof-Scenario: ...; chunk_bytes=``) or by a plan step's ``params`` ends up in a
header, a body, a timer or a slice; an infinity or a NaN there made the mock lie (an unplanned
500, a sleep forever). The ranges are data (``faults.yaml``'s ``param_ranges``, by parameter
name, ``"*"`` for any other), read by ``Scenario.resolve_params``: the one path every such
number takes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ANY = "*"


@dataclass(frozen=True, slots=True)
class ParamRange:
    """The values a numeric parameter takes.

    Attributes:
        low: Smallest value allowed.
        high: Largest value allowed.
        integer: Whole numbers only (a byte count).
    """

    low: float = -math.inf
    high: float = math.inf
    integer: bool = False

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ParamRange:
        return cls(float(data["min"]), float(data["max"]), bool(data.get("integer", False)))

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        if math.isinf(self.low) and math.isinf(self.high):
            return kind
        return f"{kind} from {_plain(self.low)} to {_plain(self.high)}"

    def holds(self, value: float) -> bool:
        try:
            number = float(value)
        except OverflowError:  # an int past any float: out of every range
            return False
        integral = not self.integer or number.is_integer()
        return math.isfinite(number) and self.low <= number <= self.high and integral


def _plain(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)


FINITE = ParamRange()


def ranges_for(params: Mapping[str, Any], table: Mapping[str, Any]) -> dict[str, ParamRange]:
    """The range of each numeric parameter in ``params`` from ``table`` (``param_ranges``)."""
    found = {}
    for name, default in params.items():
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            data = table.get(name, table.get(ANY))
            found[name] = ParamRange.from_data(data) if data else FINITE
    return found


__all__ = ["ANY", "FINITE", "ParamRange", "ranges_for"]
