"""The official openai, anthropic and stripe SDKs over the whole catalogue (issue 12, point 8).

Usage: python bench/real_sdks.py [--workers 32] [--sdk openai ...] [--out bench/results/real_sdks]

Each SDK runs through its adapter in examples/real_clients against an in-process mock, one SDK
after the other (their waits are real sleeps, so one run costs about its slowest scenario).
Writes ``<out>.json`` (per SDK: versions, summary, per-provider counts and every ``fail``,
``warn`` and ``flaky`` check with its evidence) and ``<out>.md`` (the README's matrix). The
tests (tests/judge/test_real_sdks.py) grade a few scenarios per SDK; this grades them all.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faultproof.contracts import default_catalogue
from faultproof.contracts.adapters import PythonClient
from faultproof.contracts.control_client import MockControl
from faultproof.contracts.runner import Runner, select
from faultproof.contracts.verdict import RunReport
from faultproof.mocks.serving.inprocess import running_mock

#: sdk -> the adapter graded
SDKS = {
    "openai": "examples.real_clients.openai_sdk:client",
    "anthropic": "examples.real_clients.anthropic_sdk:client",
    "stripe": "examples.real_clients.stripe_sdk:client",
}
PACKAGES = ("openai", "anthropic", "stripe", "httpx2", "requests")
KINDS = ("pass", "fail", "warn", "flaky", "skip")
NOTED = ("fail", "warn")


def _by_provider(report: RunReport) -> dict[str, dict[str, int]]:
    """Scenario verdict counts per provider."""
    counts: dict[str, Counter[str]] = {}
    for r in report.results:
        counts.setdefault(r.provider, Counter())[r.verdict] += 1
    return {p: {k: c[k] for k in KINDS} for p, c in sorted(counts.items())}


def _noted(report: RunReport) -> list[dict[str, Any]]:
    """Every check graded fail or warn (and the failed first attempt of a flaky scenario)."""
    rows = []
    for r in report.results:
        for c in r.checks:
            if c.verdict in NOTED:
                rows.append({"scenario": r.scenario, "provider": r.provider, **c.to_json()})
        if r.error:
            rows.append({"scenario": r.scenario, "provider": r.provider, "error": r.error})
        for c in r.flaky_checks():
            rows.append(
                {"scenario": r.scenario, "provider": r.provider, "flaky": True, **c.to_json()}
            )
    return rows


def _check_counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per check id, how many fail and warn verdicts."""
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        if "id" in row and not row.get("flaky"):
            counts.setdefault(row["id"], Counter())[row["verdict"]] += 1
    return {check: dict(c) for check, c in sorted(counts.items())}


def grade(spec: str, workers: int) -> dict[str, Any]:
    """One SDK over the catalogue: summary, per-provider counts, the noted checks."""
    catalogue = default_catalogue()
    with running_mock() as url:
        report = Runner(PythonClient(spec), MockControl(url), catalogue, workers=workers).run(
            select(catalogue)
        )
    rows = _noted(report)
    return {
        "client": spec,
        "duration_s": round(report.duration_s, 1),
        "summary": report.summary,
        "providers": _by_provider(report),
        "checks": _check_counts(rows),
        "noted": rows,
    }


def markdown(results: dict[str, Any], command: str) -> str:
    """The matrix: per SDK and provider, passed / failed / warned (flaky, skipped if any)."""
    providers = sorted({p for r in results["sdks"].values() for p in r["providers"]})
    lines = [
        "# The official SDKs over the catalogue",
        "",
        f"Command: `{command}`  ",
        f"Machine: {results['machine']}  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
        "",
        "Cells: scenarios passed / failed / warned (flaky and skipped added when there are any).",
        "",
        "| SDK | " + " | ".join(providers) + " | all | wall time |",
        "|---|" + "---|" * (len(providers) + 2),
    ]
    for sdk, r in results["sdks"].items():
        cells = [_cell(r["providers"].get(p, {})) for p in providers]
        lines.append(
            f"| {sdk} | " + " | ".join(cells) + f" | {_cell(r['summary'], 'ed')} "
            f"| {r['duration_s']} s |"
        )
    lines += ["", "Checks graded fail or warn, per SDK:", ""]
    for sdk, r in results["sdks"].items():
        text = ", ".join(
            f"`{check}` " + "/".join(f"{n} {v}" for v, n in sorted(c.items()))
            for check, c in r["checks"].items()
        )
        lines.append(f"- {sdk}: {text or 'none'}")
    return "\n".join(lines) + "\n"


def _cell(counts: dict[str, int], suffix: str = "") -> str:
    """``p / f / w`` (+ flaky, skipped), from scenario counts or a run summary."""

    def n(kind: str) -> int:
        key = {"pass": "passed", "fail": "failed", "warn": "warned", "skip": "skipped"}
        return int(counts.get(key.get(kind, kind) if suffix else kind, 0))

    cell = f"{n('pass')} / {n('fail')} / {n('warn')}"
    extra = [f"{n(k)} {k}" for k in ("flaky", "skip") if n(k)]
    return cell + (f" ({', '.join(extra)})" if extra else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--sdk", action="append", choices=list(SDKS))
    parser.add_argument("--out", type=Path, default=Path("bench/results/real_sdks"))
    options = parser.parse_args()
    chosen = options.sdk or list(SDKS)
    results: dict[str, Any] = {
        "about": __doc__.splitlines()[0],
        "machine": f"{platform.platform()}, Python {platform.python_version()}",
        "versions": {
            p: version(p) for p in ("openai", "anthropic", "stripe", "httpx2", "requests")
        },
        "sdks": {},
    }
    for sdk in chosen:
        results["sdks"][sdk] = grade(SDKS[sdk], options.workers)
        print(sdk, results["sdks"][sdk]["summary"], flush=True)
    command = "python bench/real_sdks.py " + " ".join(sys.argv[1:])
    options.out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    options.out.with_suffix(".md").write_text(markdown(results, command.strip()))
    print(markdown(results, command.strip()))


if __name__ == "__main__":
    main()
