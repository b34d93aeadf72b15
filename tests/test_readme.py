"""The README's figures come from the catalogue, and its example code from the examples."""

from __future__ import annotations

from pathlib import Path

from faultproof.contracts import default_catalogue

README = Path(__file__).resolve().parent.parent / "README.md"


def count_rows() -> list[str]:
    c = default_catalogue()
    rows = []
    for p in c.providers.values():
        sc = list(p.scenarios.values())
        documented = sum(s.source.kind == "documented" for s in sc)
        with_assumptions = sum(bool(s.source.assumptions) for s in sc)
        rows.append(
            f"| `{p.id}` | {len(sc)} | {documented} | {len(sc) - documented} "
            f"| {with_assumptions} | {len(p.rules)} |"
        )
    faults = len(c.faults)
    rows.append(f"| generic faults | {faults} | 0 | {faults} | 0 | - |")
    return rows


def test_readme_counts_match_the_catalogue():
    text = README.read_text(encoding="utf-8")
    for row in count_rows():
        assert row in text, f"README count row out of date; expected: {row}"


def test_the_pytest_section_shows_the_example_suite_verbatim():
    readme = README.read_text()
    example = (
        README.parent / "examples" / "pytest_suite" / "test_client_resilience.py"
    ).read_text()
    section = readme.split("## Use it from pytest", 1)[1].split("\n## ", 1)[0]
    assert f"```python\n{example}```" in section
