"""Parameters several commands share: provider and scenario ids, validated and completed.

click completes commands and options by itself (``_FAULTPROOF_COMPLETE=bash_source faultproof``);
this adds the values only the catalogue knows (``shell_complete=`` on each option), and the one
check of a provider id every command applies.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from faultproof.contracts import FaultproofError, default_catalogue

F = TypeVar("F", bound=Callable[..., Any])


def providers(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return [CompletionItem(p) for p in default_catalogue().providers if p.startswith(incomplete)]


def provider_list(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``--providers alana,ai<TAB>``: the ids not yet given after the last comma."""
    done, _, last = incomplete.rpartition(",")
    given = set(done.split(",")) if done else set()
    prefix = f"{done}," if done else ""
    ids = default_catalogue().providers
    return [CompletionItem(prefix + p) for p in ids if p.startswith(last) and p not in given]


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


def _load_catalogues(ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> None:
    """Load the named catalogue folders now: a bad one is a usage error before anything starts."""
    if not value:
        return
    from faultproof.contracts.catalogue import add_user_dirs

    try:
        add_user_dirs(value)
    except FaultproofError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param_hint="--catalogue") from None


def catalogue_param() -> click.Option:
    """``--catalogue DIR`` (repeatable), which every command takes."""
    return click.Option(
        ["--catalogue"],
        multiple=True,
        metavar="DIR",
        envvar="FAULTPROOF_CATALOGUE",
        type=click.Path(exists=True, file_okay=False),
        is_eager=True,
        expose_value=False,
        callback=_load_catalogues,
        help="A catalogue folder (faultproof import openapi --out DIR) to load beside the "
        "built-in providers; repeatable. Also FAULTPROOF_CATALOGUE (folders joined by "
        f"{os.pathsep!r}).",
    )
