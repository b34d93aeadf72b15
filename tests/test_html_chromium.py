"""The HTML report in a real browser: headless Chromium lays out its matrix and a timeline, and
its screenshot is a real picture, not a blank page.

Chromium is Debian's ``chromium`` (``.ci/run`` installs it); without it the test skips locally
and fails in CI. The report comes from a small real ``faultproof run`` with a pass and a fail.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.needs import missing

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Measures, after layout, what was drawn, and writes it where ``--dump-dom`` shows it.
PROBE = """<script>
window.addEventListener('load', function () {
  function box(el) { var r = el.getBoundingClientRect(); return [r.width, r.height]; }
  var svg = document.querySelector('.timeline svg');
  document.body.dataset.probe = JSON.stringify({
    matrix: box(document.querySelector('table.matrix')),
    cells: Array.prototype.map.call(document.querySelectorAll('table.matrix a.cell'), function (a) {
      return [a.className, getComputedStyle(a).backgroundColor].concat(box(a)); }),
    timeline: svg ? box(svg) : null,
    bars: svg ? svg.querySelectorAll('g rect').length : 0
  });
});
</script>"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (apt-get install chromium)"
        missing(message)
    return found


def _browse(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def png_colours(data: bytes, step: int = 4) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct colours of every ``step``-th pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None and header[2] == 8 and header[3] in (2, 6), header
    width, height, bpp = header[0], header[1], 3 if header[3] == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, seen = bytearray(stride), set()
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride) if kind else ():
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        seen.update(bytes(row[i : i + 3]) for i in range(0, stride, bpp * step))
        prev = row
    return width, height, seen


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A real run of a client that never retries: AUTH_001 passes, SERVER_002 fails."""
    folder = tmp_path_factory.mktemp("report")
    html, data = folder / "report.html", folder / "report.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "faultproof.mocks.cli",
            "run",
            "--client-py",
            "examples.broken_clients:never_retries",
            "--provider",
            "alana",
            "--scenario",
            "alana.AUTH_001",
            "--scenario",
            "alana.SERVER_002",
            "--html",
            str(html),
            "--json",
            str(data),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    verdicts = {r["scenario"]: r["verdict"] for r in json.loads(data.read_text())["results"]}
    assert verdicts == {"alana.AUTH_001": "pass", "alana.SERVER_002": "fail"}
    return html


def test_matrix_and_timelines_are_laid_out(report, tmp_path):
    binary = _chromium()
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom = _browse(binary, tmp_path / "profile", "--dump-dom", probed.as_uri()).stdout
    marker = 'data-probe="'
    assert marker in dom, "the page's scripts did not run"
    raw = dom.split(marker, 1)[1].split('"', 1)[0].replace("&quot;", '"')
    probe = json.loads(raw)
    assert probe["matrix"][0] > 200 and probe["matrix"][1] > 10, probe["matrix"]
    cells = {tuple(c[0].split()): c[1:] for c in probe["cells"]}
    assert set(cells) == {("cell", "pass"), ("cell", "fail")}
    assert cells[("cell", "pass")][0] != cells[("cell", "fail")][0], "pass and fail look alike"
    assert all(w > 10 and h > 5 for _, w, h in cells.values()), cells
    assert probe["timeline"] and probe["timeline"][0] > 200 and probe["timeline"][1] > 30
    assert probe["bars"] >= 1


def test_screenshot_shows_a_page(report, tmp_path):
    binary = _chromium()
    shot = tmp_path / "report.png"
    _browse(
        binary,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,1200",
        "--hide-scrollbars",
        report.as_uri(),
    )
    width, height, colours = png_colours(shot.read_bytes())
    assert (width, height) == (1280, 1200)
    # Text, badges, matrix cells and timeline bars in anti-aliased colours: hundreds of them.
    assert len(colours) > 50, f"only {len(colours)} colours: a blank or failed page"
    assert bytes((0xD6, 0x45, 0x45)) in colours or any(
        r > 180 and g < 110 and b < 110 for r, g, b in colours
    ), "no red fail badge in the picture"


def _verdict_kinds_page(folder: Path) -> Path:
    """A hand-built report with one scenario of each kind a cell can show."""
    from faultproof.contracts.reports import html
    from faultproof.contracts.verdict import CheckResult, RunReport, ScenarioResult, TimelineEntry

    def one(name: str, verdict: str, first: ScenarioResult | None = None) -> ScenarioResult:
        timeline = (TimelineEntry(0.0, "GET", "/v1/x", 503, f"alana.{name}", 0.01),)
        checks = (CheckResult("backs_off", verdict, f"{verdict} detail"),)  # type: ignore[arg-type]
        return ScenarioResult(f"alana.{name}", "alana", checks, timeline, first_attempt=first)

    results = (
        one("PASS", "pass"),
        one("FAIL", "fail"),
        one("WARN", "warn"),
        one("FLAKY", "pass", first=one("FLAKY", "fail")),
    )
    page = folder / "kinds.html"
    probe = PROBE.replace(
        "bars: svg", "flakySvgs: document.querySelectorAll('.scenario.flaky svg').length, bars: svg"
    )
    page.write_text(html.render(RunReport("c", 1.0, results)).replace("</body>", probe + "</body>"))
    return page


def test_warn_and_flaky_cells_look_distinct_and_flaky_draws_both_timelines(tmp_path):
    binary = _chromium()
    page = _verdict_kinds_page(tmp_path)
    dom = _browse(binary, tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    raw = dom.split('data-probe="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    probe = json.loads(raw)
    colours = {c[0].split()[1]: c[1] for c in probe["cells"]}
    assert set(colours) == {"pass", "fail", "warn", "flaky"}
    assert len(set(colours.values())) == 4, colours  # four verdicts, four colours
    assert probe["flakySvgs"] == 2  # the first attempt's timeline and the rerun's


def test_a_long_unbroken_output_line_wraps_instead_of_widening_the_page(tmp_path):
    """A client's 20,000-character line stays inside the page (it once made it 26,384 px)."""
    from faultproof.contracts.reports import html
    from faultproof.contracts.verdict import CheckResult, RunReport, ScenarioResult, TimelineEntry

    timeline = (TimelineEntry(0.0, "GET", "/v1/x", 503, "alana.SERVER_002", 0.01),)
    failed = ScenarioResult(
        "alana.SERVER_002",
        "alana",
        (CheckResult("retries_retryable", "fail", "x" * 5000),),
        timeline,
        stdout_tail="y" * 20000,
    )
    page = tmp_path / "wide.html"
    measure = (
        "<script>window.addEventListener('load', function () {"
        "document.body.dataset.probe = String(document.documentElement.scrollWidth);});</script>"
    )
    page.write_text(
        html.render(RunReport("c", 1.0, (failed,))).replace("</body>", measure + "</body>")
    )
    dom = _browse(
        _chromium(), tmp_path / "profile", "--window-size=1280,900", "--dump-dom", page.as_uri()
    ).stdout
    width = int(dom.split('data-probe="', 1)[1].split('"', 1)[0])
    assert width <= 1280, width
