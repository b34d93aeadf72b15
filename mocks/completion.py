"""Shell completion of provider and scenario ids, for every command that takes them.

click completes commands and options by itself (``_FAULTPROOF_COMPLETE=bash_source faultproof``);
this adds the values only the catalogue knows (``shell_complete=`` on each option).
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem

from faultproof.contracts import PROVIDERS


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


def scenarios(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from faultproof.contracts import default_catalogue

    ids = [s.id for s in default_catalogue().scenarios(None)]
    return [CompletionItem(i) for i in ids if i.startswith(incomplete)]
