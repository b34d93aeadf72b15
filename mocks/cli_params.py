"""Parameters several commands share: provider and scenario ids, validated and completed.

click completes commands and options by itself (``_FAULTPROOF_COMPLETE=bash_source faultproof``);
this adds the values only the catalogue knows (``shell_complete=`` on each option), and the one
check of a provider id every command applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from faultproof.contracts import PROVIDERS, FaultproofError, default_catalogue

F = TypeVar("F", bound=Callable[..., Any])


def providers(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return [CompletionItem(p) for p in PROVIDERS if p.startswith(incomplete)]


def provider_list(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``--providers alana,ai<TAB>``: the ids not yet given after the last comma."""
    done, _, last = incomplete.rpartition(",")
    given = set(done.split(",")) if done else set()
    prefix = f"{done}," if done else ""
    return [CompletionItem(prefix + p) for p in PROVIDERS if p.startswith(last) and p not in given]


def provider_id(value: str | None) -> str | None:
    """Validate a provider id against the catalogue, listing the valid ones when unknown."""
    if value is None:
        return None
    try:
        return default_catalogue().provider(value).id
    except FaultproofError as exc:
        raise click.BadParameter(str(exc), param_hint="PROVIDER") from None


def provider_option(help_text: str) -> Callable[[F], F]:
    """``--provider P`` (one provider, completed), as scenarios, rules and judge take it."""
    return click.option(
        "--provider", "provider", metavar="P", help=help_text, shell_complete=providers
    )


def scenarios(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    ids = [s.id for s in default_catalogue().scenarios(None)]
    return [CompletionItem(i) for i in ids if i.startswith(incomplete)]
