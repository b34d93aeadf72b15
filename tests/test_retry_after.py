"""The Retry-After parser: the documented treatment of every kind of value."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faultproof.contracts import MAX_RETRY_AFTER_S, parse_retry_after

NOW = 1_795_000_000.0


@pytest.mark.parametrize(
    ("raw", "kind", "seconds"),
    [
        ("120", "seconds", 120.0),
        ("  7 ", "seconds", 7.0),
        ("0", "seconds", 0.0),
        ("1.5", "fractional", 1.5),
        (".5", "fractional", 0.5),
        ("-3", "invalid", None),
        ("-0.5", "invalid", None),
        ("", "invalid", None),
        (None, "invalid", None),
        ("soon", "invalid", None),
        ("1e5", "invalid", None),
        ("+5", "invalid", None),
        ("NaN", "invalid", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "date", 0.0),
        ("21 Oct 2015 07:28:00", "invalid", None),
    ],
)
def test_table(raw, kind, seconds):
    parsed = parse_retry_after(raw, now=NOW)
    assert parsed.kind == kind
    assert parsed.seconds == seconds
    assert parsed.valid == (seconds is not None)
    assert parsed.note


def test_bytes_are_accepted():
    assert parse_retry_after(b"3", now=NOW).seconds == 3.0


def test_three_rfc_9110_date_forms():
    moment = NOW + 90
    imf = format_datetime(datetime.fromtimestamp(moment, timezone.utc), usegmt=True)
    dt = datetime.fromtimestamp(moment, timezone.utc)
    rfc850 = dt.strftime("%A, %d-%b-%y %H:%M:%S GMT")
    asctime = dt.strftime("%a %b ") + f"{dt.day:>2}" + dt.strftime(" %H:%M:%S %Y")
    for raw in (imf, rfc850, asctime):
        parsed = parse_retry_after(raw, now=NOW)
        assert parsed.kind == "date", raw
        assert parsed.seconds == pytest.approx(90, abs=1), raw


@given(st.integers(min_value=0, max_value=10**30))
def test_integer_seconds_are_read_and_capped(n):
    parsed = parse_retry_after(str(n), now=NOW)
    assert parsed.kind == "seconds"
    assert parsed.seconds == min(float(n), MAX_RETRY_AFTER_S) or (
        parsed.huge and parsed.seconds == MAX_RETRY_AFTER_S
    )
    assert parsed.huge == (n > MAX_RETRY_AFTER_S)


@given(st.integers(min_value=1, max_value=10**4))
def test_huge_digit_strings_stay_finite(width):
    parsed = parse_retry_after("9" * width, now=NOW)
    assert parsed.seconds is not None and math.isfinite(parsed.seconds)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=999))
def test_negative_values_are_invalid(whole, fraction):
    assert parse_retry_after(f"-{whole}", now=NOW).seconds is None
    assert parse_retry_after(f"-{whole}.{fraction}", now=NOW).seconds is None


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda f: round(f, 3)))
def test_fractions_are_honoured(value):
    raw = f"{value:.3f}"
    parsed = parse_retry_after(raw, now=NOW)
    assert parsed.kind == "fractional"
    assert parsed.seconds == pytest.approx(value)


@given(st.integers(min_value=-(10**8), max_value=10**8))
def test_http_dates_give_the_remaining_wait(offset):
    moment = int(NOW) + offset
    raw = format_datetime(datetime.fromtimestamp(moment, timezone.utc), usegmt=True)
    parsed = parse_retry_after(raw, now=NOW)
    assert parsed.kind == "date"
    assert parsed.seconds == max(0.0, moment - NOW)


@given(st.text(max_size=60) | st.binary(max_size=60))
def test_any_value_parses_without_raising(raw):
    parsed = parse_retry_after(raw, now=NOW)
    assert parsed.kind in {"seconds", "fractional", "date", "invalid"}
    assert parsed.seconds is None or (0 <= parsed.seconds <= MAX_RETRY_AFTER_S)
