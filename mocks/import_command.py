"""``faultproof import openapi FILE --id ID [--out DIR]``: a catalogue of the user's provider."""

from __future__ import annotations

from pathlib import Path

import click

from faultproof.contracts import FaultproofError, load_catalogue


@click.group("import")
def import_group() -> None:
    """Make a provider catalogue from a description of its API."""


@import_group.command("openapi")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "provider_id", required=True, help="The provider id to give it (github).")
@click.option(
    "--out",
    default="faultproof-catalogue",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The catalogue folder to write (providers/ID.yaml and schemas/ID.json).",
)
def openapi(file: Path, provider_id: str, out: Path) -> None:
    """Import an OpenAPI 3.0 or 3.1 document: its operations, one scenario per documented
    error response, its error envelope, a guessed normal form and an assumed client policy.

    The catalogue is checked like the built-in ones before the command succeeds; serve,
    run, judge and the others load it with --catalogue DIR.
    """
    from faultproof.contracts.openapi_import import import_document, write

    try:
        imported = import_document(file, provider_id)
    except FaultproofError as exc:
        raise click.UsageError(str(exc)) from None
    data_path, schema_path = write(imported, out)
    try:
        provider = load_catalogue(extra=[out.resolve()], use_cache=False).provider(provider_id)
    except FaultproofError as exc:
        data_path.unlink()
        schema_path.unlink()
        raise click.ClickException(f"the imported catalogue does not load: {exc}") from None
    scenarios = provider.scenarios.values()
    documented = sum(s.source.kind == "documented" for s in scenarios)
    click.echo(
        f"{provider_id}: {len(provider.operations)} operations, {len(provider.scenarios)} "
        f"scenarios ({documented} documented, {len(provider.scenarios) - documented} assumed) "
        f"from {file.name}"
    )
    click.echo(f"wrote {data_path} and {schema_path}")
    for note in imported.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"serve it: faultproof serve --catalogue {out}")
