"""`faultproof rules`: the server-side rules a ``--set`` may override, with fields and defaults."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from faultproof.contracts import default_catalogue
from faultproof.contracts.catalogue import Rule
from faultproof.contracts.rule_schema import describe

from . import cli_params


def _rows(rule: Rule) -> list[tuple[str, str, Any]]:
    """(field, what it takes, default) of each overridable part of ``rule``."""
    schema = rule.schema()
    if schema.get("type") != "object":
        return [("", describe(schema), rule.value)]
    return [
        (name, describe(sub), rule.value.get(name)) for name, sub in schema["properties"].items()
    ]


def _json(provider: str, rule: Rule) -> dict[str, Any]:
    return {
        "id": f"{provider}.{rule.name}",
        "description": rule.description,
        "default": rule.value,
        "schema": rule.schema(),
        "fields": {name: takes for name, takes, _ in _rows(rule) if name},
        "source": rule.source.kind,
    }


@click.command()
@cli_params.provider_option("Only this provider's rules.")
@click.option("--json", "as_json", is_flag=True, help="Print the rules as a JSON array.")
def rules(provider: str | None, as_json: bool) -> None:
    """List the server-side rules, with the fields and defaults that --set overrides."""
    catalogue = default_catalogue()
    chosen_id = cli_params.provider_id(provider)
    chosen = [catalogue.provider(chosen_id)] if chosen_id else list(catalogue.providers.values())
    if as_json:
        data = [_json(p.id, rule) for p in chosen for rule in p.rules.values()]
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 200)
    table = Table(header_style="bold")
    for column in ("rule (--set RULE[.FIELD]=VALUE)", "takes", "default", "source"):
        table.add_column(column, overflow="fold")
    count = 0
    for p in chosen:
        for rule in p.rules.values():
            count += 1
            for name, takes, default in _rows(rule):
                key = f"{p.id}.{rule.name}" + (f".{name}" if name else "")
                shown = orjson.dumps(default).decode()
                table.add_row(key, takes, shown, rule.source.kind)
    console.print(table)
    console.print(f'{count} rules; a VALUE is JSON (5, 0.5, null, "text", [1, 2]) or plain text')
