"""The HTML report: one self-contained file that opens offline.

No external CSS, JavaScript, fonts or images: the style sheet is inline and a few lines of inline
script only switch a filter (all / failed / passed / skipped); without script everything shows.
The page holds a summary, a providers-by-scenarios matrix (one row group per provider, one cell per
scenario, coloured by verdict (pass, fail, warn, flaky, skip), its tooltip listing the failed and
warned checks, linking to the scenario), and per scenario its checks, its client outcome and its
request timeline drawn to scale as inline SVG; a flaky scenario shows its failed first attempt
(checks, outcome, timeline) above the rerun.
Every string that comes from a client, a catalogue or the command line goes through ``_e``.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path

from ..verdict import Outcome, RunReport, ScenarioResult, TimelineEntry
from .junit import describe_entry, describe_outcome, describe_response, xml_safe

#: Requests drawn per timeline; the request table below it lists all of them.
MAX_SVG_ROWS = 300

_FILL = {
    "2xx": "#2e9d4f",
    "3xx": "#3b7dd8",
    "4xx": "#e0a800",
    "429": "#f07c1b",
    "5xx": "#d64545",
    "none": "#8a8f98",
}
_W, _LABEL_W, _ROW, _TOP, _AXIS = 900, 300, 18, 6, 24
_MIN_SPAN_S = 0.1  # a lone fast request still gets an axis of sensible size

_CSS = """
:root{--pass:#2e9d4f;--fail:#d64545;--warn:#e0a800;--skip:#8a8f98;--fg:#1d2330;--muted:#5f6b7a;
--flaky:#8e44ad;--line:#d9dee5;--soft:#f4f6f9}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:24px;color:var(--fg);background:#fff;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
h1{font-size:22px;margin:0 0 6px}h3{font-size:15px;margin:0 0 8px}
h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
code,pre,.cell,svg text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);padding:8px;overflow:auto;max-height:320px;font-size:12px;margin:4px 0;
white-space:pre-wrap;overflow-wrap:anywhere}
table{border-collapse:collapse}td,th{overflow-wrap:anywhere;border:1px solid var(--line);
padding:4px 8px;text-align:left;
vertical-align:top}th{background:var(--soft)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;
font-size:12px}.b-pass{background:var(--pass)}.b-fail{background:var(--fail)}
.b-warn{background:var(--warn);color:#222}.b-skip{background:var(--skip)}
.b-flaky{background:var(--flaky)}
.muted{color:var(--muted)}.run-error{color:var(--fail);font-weight:600}
.matrix{width:100%}.matrix th{white-space:nowrap;width:1%}
.cells{display:flex;flex-wrap:wrap;gap:3px}
.cell{padding:2px 6px;border-radius:3px;color:#fff;text-decoration:none;font-size:12px}
.cell.pass{background:var(--pass)}.cell.fail{background:var(--fail)}.cell.skip{background:var(--skip)}
.cell.warn{background:var(--warn);color:#222}.cell.flaky{background:var(--flaky)}
.cell.warned{box-shadow:inset 0 -3px var(--warn)}
.scenario{border:1px solid var(--line);border-left:6px solid var(--skip);border-radius:4px;
padding:12px 16px;margin:14px 0}.scenario.pass{border-left-color:var(--pass)}
.scenario.fail{border-left-color:var(--fail)}
.scenario.warn{border-left-color:var(--warn)}.scenario.flaky{border-left-color:var(--flaky)}
.attempt{border:1px dashed var(--line);border-radius:4px;padding:4px 12px;margin:8px 0}
.scenario:target{outline:2px solid #3b7dd8}
.scenario>summary{cursor:pointer}.scenario>summary h3{display:inline}
.checks{width:100%;margin:6px 0}.checks td:first-child{white-space:nowrap}
.timeline svg{width:100%;height:auto;display:block}svg text{font-size:11px}
.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;border-radius:2px}
dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;margin:4px 0}
dl.kv>*{min-width:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
nav button{border:1px solid var(--line);background:#fff;padding:3px 10px;border-radius:4px;
cursor:pointer}nav button:hover{background:var(--soft)}
""" + "".join(
    f"body[data-show={v}] .scenario:not(.{v}),body[data-show={v}] .cell:not(.{v}){{display:none}}"
    for v in ("pass", "fail", "warn", "flaky", "skip")
)

_FILTERS = {
    "all": "all",
    "fail": "failed",
    "warn": "warned",
    "flaky": "flaky",
    "pass": "passed",
    "skip": "skipped",
}
_JS = (
    "document.querySelectorAll('nav button').forEach(function(b){b.onclick=function(){"
    "document.body.dataset.show=b.dataset.show;};});"
)


def _e(value: object) -> str:
    """``value`` as HTML text or attribute, control characters shown as ``\\xNN``."""
    return html.escape(xml_safe(str(value)), quote=True)


def _slug(result: ScenarioResult, taken: set[str]) -> str:
    # Generic faults (``fault.hang``) run once per provider: the provider is part of the anchor.
    name = f"{result.provider}-{result.scenario}"
    base = "s-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "scenario")
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def status_class(status: int | None) -> str:
    """``2xx``, ``3xx``, ``4xx``, ``429``, ``5xx`` or ``none`` (no response, or nonsense)."""
    if status == 429:
        return "429"
    if status is None or not 200 <= status <= 599:
        return "none"
    return f"{status // 100}xx"


def _ticks(lo: float, hi: float) -> tuple[float, float, float, int]:
    """A 1-2-5 tick step for ``[lo, hi]`` (about six ticks), the rounded range, and decimals."""
    raw = max(hi - lo, 1e-3) / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step, decimals


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def timeline_svg(entries: tuple[TimelineEntry, ...]) -> str:
    """A waterfall on a seconds axis: per request a row, labelled on the left with its scenario,
    method and path, a mark at its ``t``, a bar for its duration and its status beside the bar."""
    drawn = entries[:MAX_SVG_ROWS]
    first = min(e.t for e in drawn)
    last = max(e.t + max(e.duration_s, 0.0) for e in drawn)
    start_at = 0.0 if first <= last - first else first
    lo, hi, step, decimals = _ticks(start_at, max(last, start_at + _MIN_SPAN_S))
    span = max(hi - lo, step)
    x0, x1 = _LABEL_W + 12, _W - 34  # room for "503" after a bar that ends at the axis end
    axis_y = _TOP + len(drawn) * _ROW + 4
    height = axis_y + _AXIS

    def x(t: float) -> float:
        return x0 + (t - lo) / span * (x1 - x0)

    parts = [
        f'<svg viewBox="0 0 {_W} {height}" role="img" aria-label="request timeline, '
        f'{len(entries)} requests"><rect width="{_W}" height="{height}" fill="#fff"/>'
    ]
    parts += [
        f'<rect x="0" y="{_TOP + i * _ROW}" width="{_W}" height="{_ROW}" fill="#f6f8fa"/>'
        for i in range(1, len(drawn), 2)
    ]
    count = round(span / step)
    for i in range(count + 1):
        tx = x(lo + i * step)
        anchor = "start" if i == 0 else "end" if i == count else "middle"
        parts.append(
            f'<line x1="{tx:.1f}" y1="{_TOP}" x2="{tx:.1f}" y2="{axis_y + 4}" '
            f'stroke="#dde2e8"/><text x="{tx:.1f}" y="{axis_y + 17}" '
            f'text-anchor="{anchor}" fill="#5f6b7a">{lo + i * step:.{decimals}f} s</text>'
        )
    parts.append(f'<line x1="{x0}" y1="{axis_y}" x2="{x1}" y2="{axis_y}" stroke="#5f6b7a"/>')
    for i, entry in enumerate(drawn):
        y = _TOP + i * _ROW + _ROW / 2
        start, end = x(entry.t), x(entry.t + max(entry.duration_s, 0.0))
        fill = _FILL[status_class(entry.status)]
        status = "—" if entry.status is None else str(entry.status)
        label = _clip(f"{entry.scenario or '(normal answer)'} · {entry.method} {entry.path}", 44)
        parts.append(
            f"<g><title>{_e(describe_entry(entry).strip())}</title>"
            f'<text x="4" y="{y + 4:.1f}" fill="#1d2330">{_e(label)}</text>'
            f'<rect x="{start:.1f}" y="{y - 4:.1f}" width="{max(end - start, 2):.1f}" height="8" '
            f'fill="{fill}"/><line x1="{start:.1f}" y1="{y - 7:.1f}" x2="{start:.1f}" '
            f'y2="{y + 7:.1f}" stroke="{fill}" stroke-width="2"/><text x="{end + 5:.1f}" '
            f'y="{y + 4:.1f}" fill="#1d2330" font-weight="bold">{_e(status)}</text></g>'
        )
    parts.append("</svg>")
    if len(entries) > len(drawn):
        parts.append(
            f'<p class="muted">{len(entries) - len(drawn)} more requests are listed '
            "below but not drawn.</p>"
        )
    return "".join(parts)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _badge(verdict: str) -> str:
    return f'<span class="badge b-{_e(verdict)}">{_e(verdict)}</span>'


def _tooltip(result: ScenarioResult) -> str:
    lines = [f"{result.scenario}: {result.verdict}"]
    if result.error:
        lines.append(f"run error: {result.error}")
    lines += [f"✗ {c.id}: {c.detail}" for c in result.checks if c.verdict == "fail"]
    lines += [f"! {c.id}: {c.detail}" for c in result.checks if c.verdict == "warn"]
    lines += [f"↻ {c.id} failed on the first attempt: {c.detail}" for c in result.flaky_checks()]
    if len(lines) == 1:
        applied = sum(c.verdict != "skip" for c in result.checks)
        lines.append(f"{applied} check{'s' if applied != 1 else ''} applied, none failed")
    return "\n".join(lines)


def _matrix(report: RunReport, slugs: dict[int, str]) -> str:
    rows = ['<table class="matrix">']
    providers = list(dict.fromkeys(r.provider for r in report.results))
    for provider in providers:
        indexed = [(i, r) for i, r in enumerate(report.results) if r.provider == provider]
        verdicts = [r.verdict for _, r in indexed]
        counts = f"{verdicts.count('pass')}/{len(indexed)} passed" + "".join(
            f", {n} {word}"
            for n, word in ((verdicts.count("warn"), "warned"), (verdicts.count("flaky"), "flaky"))
            if n
        )
        cells = []
        for i, r in indexed:
            name = r.scenario.removeprefix(f"{provider}.")
            warned = " warned" if any(c.verdict == "warn" for c in r.checks) else ""
            cells.append(
                f'<a class="cell {r.verdict}{warned}" href="#{_e(slugs[i])}" '
                f'data-scenario="{_e(r.scenario)}" title="{_e(_tooltip(r))}">{_e(name)}</a>'
            )
        rows.append(
            f'<tbody data-provider="{_e(provider)}"><tr><th scope="rowgroup">{_e(provider)}'
            f'<br><span class="muted">{counts}</span></th>'
            f'<td><div class="cells">{"".join(cells)}</div></td></tr></tbody>'
        )
    rows.append("</table>")
    return "".join(rows)


def _outcome(outcome: Outcome | None) -> str:
    if outcome is None:
        return f'<p class="muted">{_e(describe_outcome(None))}.</p>'
    result = "ok" if outcome.ok else f"{outcome.transport} error" if outcome.transport else "error"
    fields: list[tuple[str, object]] = [("result", result)]
    names = ("status", "code", "message", "request_id", "transport")
    fields += [(k, getattr(outcome, k)) for k in names if getattr(outcome, k) is not None]
    out = '<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{_e(v)}</dd>" for k, v in fields)
    if outcome.data is not None:
        data = json.dumps(outcome.data, indent=2, ensure_ascii=False, default=str)
        data = data if len(data) <= 4000 else data[:4000] + "\n…"
        out += f"<dt>data</dt><dd><pre>{_e(data)}</pre></dd>"
    return out + "</dl>"


def _requests_table(entries: tuple[TimelineEntry, ...]) -> str:
    rows = "".join(
        f"<tr><td>{e.t:.3f}</td><td>{_e(e.method)}</td><td><code>{_e(e.path)}</code></td>"
        f"<td>{'—' if e.status is None else e.status}</td><td>{_e(e.scenario or '')}</td>"
        f"<td>{e.duration_s * 1000:.0f}</td></tr>"
        for e in entries
    )
    return (
        f"<details><summary>requests ({len(entries)})</summary><table><tr><th>t (s)</th>"
        "<th>method</th><th>path</th><th>status</th><th>scenario</th><th>ms</th></tr>"
        f"{rows}</table></details>"
    )


def _attempt(result: ScenarioResult) -> str:
    """One attempt's evidence: its checks, the served answer, the client outcome, the timeline."""
    parts = []
    if result.error:
        parts.append(f'<p class="run-error">Run error: {_e(result.error)}</p>')
    if result.checks:
        parts.append('<table class="checks"><tr><th>check</th><th>verdict</th><th>detail</th></tr>')
        parts += [
            f"<tr><td><code>{_e(c.id)}</code></td><td>{_badge(c.verdict)}</td>"
            f"<td>{_e(c.detail)}</td></tr>"
            for c in result.checks
        ]
        parts.append("</table>")
    else:
        parts.append('<p class="muted">No check applies to this scenario.</p>')
    served = describe_response(result)
    if served:
        head, _, body = served.partition("\n")
        parts.append(f'<h4>Served answer</h4><p class="muted">{_e(head)}</p><pre>{_e(body)}</pre>')
    parts.append("<h4>Client outcome</h4>" + _outcome(result.outcome) + "<h4>Timeline</h4>")
    if result.timeline:
        parts.append(f'<div class="timeline">{timeline_svg(result.timeline)}</div>')
        parts.append(_requests_table(result.timeline))
    else:
        parts.append('<p class="muted">No request reached the mock.</p>')
    if result.stdout_tail:
        parts.append(
            f"<details><summary>client output (tail)</summary><pre>"
            f"{_e(result.stdout_tail)}</pre></details>"
        )
    return "".join(parts)


#: Why a card's time and its timeline's span differ.
RUN_TIME = (
    "The client's run: from its first request to its outcome (or its stop). The timeline spans "
    "the requests the mock saw, so it ends at the last answer, before the client reported."
)


def _scenario(result: ScenarioResult, slug: str) -> str:
    # A passed or skipped card starts closed, so an all-pass run is a list to scan, not 210
    # open cards; every other verdict starts open.
    shown = "" if result.verdict in ("pass", "skip") else " open"
    head = (
        f'<details class="scenario {result.verdict}" id="{_e(slug)}"{shown} '
        f'data-scenario="{_e(result.scenario)}"><summary><h3>{_badge(result.verdict)} '
        f'<code>{_e(result.scenario)}</code> <span class="muted" title="{RUN_TIME}">'
        f"{_e(result.provider)} · client run {result.duration_s:.2f} s</span></h3></summary>"
    )
    first = result.first_attempt
    if result.verdict != "flaky" or first is None:
        return head + _attempt(result) + "</details>"
    return (
        f"{head}<p>Failed on the first attempt, not on the automatic rerun: a timing failure "
        f'that did not reproduce.</p><div class="attempt first-attempt"><h4>First attempt '
        f'{_badge(first.attempt_verdict)} <span class="muted">{first.duration_s:.2f} s</span>'
        f'</h4>{_attempt(first)}</div><div class="attempt rerun"><h4>Rerun '
        f"{_badge(result.attempt_verdict)}</h4>{_attempt(result)}</div></details>"
    )


def _header(report: RunReport) -> str:
    s = report.summary
    started = (
        datetime.fromtimestamp(report.started_at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        if report.started_at
        else "—"
    )
    facts: list[tuple[str, object]] = [
        ("client", report.client),
        ("started", started),
        ("duration", f"{report.duration_s:.2f} s"),
        *((str(k), v) for k, v in report.meta.items()),
    ]
    failing = any(r.fails(report.strict) for r in report.results)
    verdict = "fail" if failing else "warn" if s["warned"] or s["flaky"] else "pass"
    strict = " · --strict: warned and flaky fail the run" if report.strict else ""
    return (
        f"<header><h1>faultproof report {_badge(verdict)}</h1><p>"
        f"{_plural(s['scenarios'], 'scenario')}: {_badge('pass')} {s['passed']} passed · "
        f"{_badge('fail')} {s['failed']} failed · {_badge('warn')} {s['warned']} warned · "
        f"{_badge('flaky')} {s['flaky']} flaky · {_badge('skip')} {s['skipped']} skipped"
        f"{strict}</p>"
        '<dl class="kv">'
        + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
        + "</dl></header>"
    )


def render(report: RunReport) -> str:
    """The report as one self-contained HTML document."""
    taken: set[str] = set()
    slugs = {i: _slug(r, taken) for i, r in enumerate(report.results)}
    legend = "".join(
        f'<i style="background:{fill}"></i>{"no response" if k == "none" else k}'
        for k, fill in _FILL.items()
    )
    buttons = "".join(
        f'<button type="button" data-show="{k}">{v}</button> ' for k, v in _FILTERS.items()
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>faultproof report: {_e(report.client)}</title><style>{_CSS}</style></head>"
        f'<body data-show="all">{_header(report)}<nav>Show: {buttons}</nav>'
        f"<h2>Providers &times; scenarios</h2>{_matrix(report, slugs)}"
        f'<h2>Scenarios</h2><p class="legend muted">Timeline colours:{legend}</p>'
        + "".join(_scenario(r, slugs[i]) for i, r in enumerate(report.results))
        + f"<script>{_JS}</script></body></html>\n"
    )


def write(report: RunReport, path: Path) -> None:
    """Write the HTML report to ``path``."""
    path.write_text(render(report), encoding="utf-8")
