"""Provenance is honest: every documented quote is verbatim in its seed, and every row of
every seed's error tables is represented (the list in data/seed_rows.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from faultproof.contracts import PROVIDERS, Source, default_catalogue

ROWS = yaml.safe_load(
    (Path(__file__).parent / "data" / "seed_rows.yaml").read_text(encoding="utf-8")
)


def _sources(provider_id: str) -> list[tuple[str, Source, int | None]]:
    p = default_catalogue().provider(provider_id)
    items: list[tuple[str, Source, int | None]] = [
        (s.id, s.source, s.status) for s in p.scenarios.values()
    ]
    items += [(f"rule {r.name}", r.source, None) for r in p.rules.values()]
    items += [(f"policy {k}", v, None) for k, v in p.policy.sources.items()]
    return items


def test_seed_readme_maps_the_providers(seed_text):
    readme = seed_text("README.md")
    for provider in default_catalogue().providers.values():
        assert f"| {provider.seed} | `{provider.id}` |" in readme


@pytest.mark.parametrize("provider", PROVIDERS)
def test_documented_quotes_are_verbatim(provider, seed_text):
    for name, source, _ in _sources(provider):
        if source.kind == "documented":
            seed = seed_text(source.seed)
            for quote in source.quotes:
                assert quote in seed, f"{name}: quote not verbatim in {source.seed}: {quote!r}"
        else:
            assert source.reason and not source.quotes, name


@pytest.mark.parametrize("provider", PROVIDERS)
def test_assumptions_come_with_reasons(provider):
    for name, source, _ in _sources(provider):
        for assumption in source.assumptions:
            assert len(assumption.split()) >= 4, (
                f"{name}: assumption without a reason: {assumption!r}"
            )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_seed_row_is_represented(provider, seed_text):
    seed = seed_text(default_catalogue().provider(provider).seed)
    sources = _sources(provider)
    missing = []
    for row in ROWS[provider]:
        assert row["text"] in seed, f"seed_rows.yaml is wrong: {row['text']!r} is not in the seed"
        if row.get("in") == "rule":
            pool = [src for name, src, _ in sources if name.startswith(("rule ", "policy "))]
        else:
            pool = [
                src
                for name, src, status in sources
                if not name.startswith(("rule ", "policy "))
                and ("status" not in row or status == row["status"])
            ]
        if not any(row["text"] in quote for src in pool for quote in src.quotes):
            missing.append(row)
    assert not missing, f"{provider}: seed rows with no scenario or rule quoting them: {missing}"
