"""The ``faultproof`` command line.

Exit codes: 0 success, 1 a graded client failed a check, 2 a usage or tool error (an unknown
id, an invalid catalogue), always with a message that says what was wrong and what is valid.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from typing import Any

import click
import orjson

from faultproof.contracts import PROVIDERS, FaultproofError, Scenario, default_catalogue

from . import cli_params, project_config
from .cli_params import provider_id
from .import_command import import_group
from .rules_command import rules
from .serving.listen import ListenError, bound_port, listen
from .serving.options import FiniteFloatRange, for_workers, mock_config

#: Most journal entries a session may keep (each holds up to 16 KiB of body each way).
MAX_JOURNAL_LIMIT = 100_000


def _dump(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="faultproof")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Documented provider failures, on demand, and proof that a client survives them."""
    if ctx.invoked_subcommand == "run":  # [tool.faultproof] of ./pyproject.toml; flags win
        ctx.default_map = {"run": project_config.run_defaults(run)}


@cli.command()
@cli_params.provider_option("Only this provider (and the generic faults).")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as a JSON array.")
def scenarios(provider: str | None, as_json: bool) -> None:
    """List every scenario: documented provider behaviours and generic transport faults."""
    chosen = default_catalogue().scenarios(provider_id(provider))
    if as_json:
        _dump([s.to_json() for s in chosen])
        return
    _print_table(chosen)


def _print_table(chosen: list[Scenario]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 200)
    table = Table(show_lines=False, header_style="bold")
    for column in ("id", "status", "code / message", "retry", "checks", "source"):
        table.add_column(column, overflow="fold")
    for s in chosen:
        label = s.code or s.message or (f"fault: {s.fault}" if s.fault else "")
        status = "-" if s.status is None else str(s.status)
        source = s.source.kind + (" +assumptions" if s.source.assumptions else "")
        table.add_row(
            s.id, status, label, "yes" if s.retryable else "no", ", ".join(s.checks), source
        )
    console.print(table)
    documented = sum(s.source.kind == "documented" for s in chosen)
    console.print(
        f"{len(chosen)} scenarios: {documented} documented, {len(chosen) - documented} assumed"
    )


@cli.command()
@click.argument("provider", shell_complete=cli_params.providers)
def schema(provider: str) -> None:
    """Print PROVIDER's error-envelope JSON Schema (draft 2020-12)."""
    _dump(default_catalogue().provider(provider_id(provider) or provider).schema)


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default)."
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--providers",
    default=None,
    shell_complete=cli_params.provider_list,
    help="Comma-separated provider ids (default: every provider loaded, the built-in "
    f"{','.join(PROVIDERS)} and any --catalogue's).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; more than one needs a shared state store.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 4096),
    default=16,
    show_default=True,
    help="Threads per worker that run the Flask part of the mock: provider views and the "
    "control plane. Canned answers and transport faults run on the event loop and hold no "
    "thread, so hangs and slow drips never use these up.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PROVIDER.RULE[.FIELD]=VALUE",
    help="Override a documented limit, e.g. ainative.rate_limit.limit=5 (repeatable).",
)
@click.option(
    "--state",
    "state_url",
    default="memory",
    show_default=True,
    metavar="memory|sqlite:///PATH|sqlite://|redis://HOST:PORT/DB",
    help="Where sessions, plans, counters and journals live; SQLite lets this host's workers "
    "share them (sqlite:// is a fresh file removed at exit), Redis workers and replicas.",
)
@click.option(
    "--journal-limit",
    default=10_000,
    show_default=True,
    type=click.IntRange(1, MAX_JOURNAL_LIMIT),
    help="Journal entries kept per session; older ones are dropped and counted.",
)
@click.option(
    "--session-ttl",
    default=3600.0,
    show_default=True,
    type=FiniteFloatRange(1, 31_536_000),
    help="Seconds of idleness after which a session is forgotten (at most a year).",
)
@click.option(
    "--control-token",
    envvar="FAULTPROOF_CONTROL_TOKEN",
    default=None,
    help="Token the control plane asks of every caller, loopback included "
    "(env FAULTPROOF_CONTROL_TOKEN).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    envvar="FAULTPROOF_ALLOW_HOST",
    callback=lambda _ctx, _param, values: _split_commas(values),
    metavar="HOST[:PORT]",
    help="A Host the control plane answers besides localhost, loopback and the bound address "
    "(.example.com: it and its subdomains; repeatable; env FAULTPROOF_ALLOW_HOST, "
    "comma-separated).",
)
@click.option(
    "--webhook-allow",
    multiple=True,
    metavar="HOST[:PORT]",
    help="A webhook receiver besides loopback ones (repeatable).",
)
@click.option(
    "--session-keys",
    is_flag=True,
    help="Each session's control calls need the key its creation answered (always on with "
    "--control-token).",
)
@click.option(
    "--no-cors",
    is_flag=True,
    help="Send no CORS headers and answer no preflight (by default the provider surfaces answer "
    "CORS as Prism does; the control plane never).",
)
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
def serve(
    host: str,
    port: int,
    providers: str | None,
    workers: int,
    threads: int,
    overrides: tuple[str, ...],
    state_url: str,
    journal_limit: int,
    session_ttl: float,
    control_token: str | None,
    allow_hosts: tuple[str, ...],
    webhook_allow: tuple[str, ...],
    session_keys: bool,
    no_cors: bool,
    access_log: bool,
) -> None:
    """Serve the mock: every provider's API, its documented errors on demand, and faults."""
    spelled = providers if providers is not None else ",".join(default_catalogue().providers)
    chosen = tuple(provider_id(p.strip()) or "" for p in spelled.split(",") if p.strip())
    if workers > 1 and state_url == "memory":
        raise click.BadParameter(
            "more than one worker needs a state store the workers share: add "
            "--state sqlite:///PATH.db (this host), --state sqlite:// (a fresh file, removed "
            "at exit) or --state redis://HOST:PORT/DB (the in-memory store serves one process)",
            param_hint="--workers",
        )
    options: dict[str, Any] = {
        "providers": chosen,
        "overrides": overrides,
        "state_url": state_url,
        "journal_limit": journal_limit,
        "session_ttl": session_ttl,
        "control_token": control_token,
        "allow_hosts": allow_hosts,
        "webhook_allow": list(webhook_allow),
        # Drawn once here, so that every worker derives the same session keys.
        "session_secret": secrets.token_hex(32) if session_keys else None,
        "cors": not no_cors,
    }
    _run_server(
        host,
        port,
        options,
        workers=workers,
        threads=threads,
        access_log=access_log,
        banner=lambda url: (
            f"serving {', '.join(chosen)} on {url} (control plane: /__faultproof/health)"
        ),
    )


def _run_server(
    host: str,
    port: int,
    options: dict[str, Any],
    *,
    workers: int,
    threads: int,
    access_log: bool,
    banner: Callable[[str], str],
) -> None:
    """Build the mock ``options`` describe, bind, print ``banner(url)`` and serve until
    stopped: ``serve`` and ``proxy`` start the same server."""
    if not _is_loopback(host) and not options["control_token"]:
        raise click.BadParameter(
            f"binding {host} exposes the control plane: set --control-token "
            "(or FAULTPROOF_CONTROL_TOKEN)",
            param_hint="--host",
        )
    bound = [host] if host not in ("0.0.0.0", "::") else []
    options = {**options, "allow_hosts": [*options["allow_hosts"], *bound]}
    config = mock_config(**options)
    try:
        from .serving.uvicorn_server import serve as run
    except ImportError as exc:
        raise click.ClickException(
            f"faultproof serve needs {exc.name}, which is not installed: "
            "pip install 'uvicorn>=0.30' httptools uvloop (or reinstall faultproof)"
        ) from None
    try:
        sock = listen(host, port)
    except ListenError as error:
        raise click.BadParameter(str(error), param_hint="--port") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"faultproof: {banner(f'http://{shown}:{bound_port(sock)}')}", err=True)
    run(config, for_workers(options, config), sock, workers, threads, access_log)


def _from_environment(command: click.Command) -> None:
    """Every option of ``command`` also read from ``FAULTPROOF_<OPTION>`` (``--port``:
    ``FAULTPROOF_PORT``, ``--no-cors``: ``FAULTPROOF_NO_CORS``); a flag on the command line wins.
    A container or a CI job configures the mock without a wrapper script."""
    for param in command.params:
        if isinstance(param, click.Option) and not param.envvar:
            longest = max(param.opts, key=len).lstrip("-")
            param.envvar = "FAULTPROOF_" + longest.upper().replace("-", "_")
            param.show_envvar = True


_from_environment(serve)


@cli.command()
@click.option(
    "--upstream",
    required=True,
    metavar="URL",
    help="The real API (http:// or https://, with any base path): /<provider>/<rest> goes to "
    "URL/<rest>.",
)
@click.option(
    "--provider",
    required=True,
    metavar="P",
    shell_complete=cli_params.providers,
    help="Whose documented errors the traffic gets, and whose checks grade it.",
)
@click.option(
    "--rate",
    default=0.0,
    show_default=True,
    type=FiniteFloatRange(0, 1),
    help="Share of requests (those no trigger or plan step answers) that get one of the "
    "provider's documented errors or a transport fault instead, drawn at random.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of the --rate draws: the same seed and order of requests, the same failures.",
)
@click.option(
    "--upstream-timeout",
    default=60.0,
    show_default=True,
    type=FiniteFloatRange(0.1, 3600),
    help="Seconds the upstream may take to connect, and between bytes of its answer, before "
    "the request gets the mock's own 502.",
)
def proxy(
    upstream: str,
    provider: str,
    rate: float,
    seed: int,
    upstream_timeout: float,
    host: str,
    port: int,
    threads: int,
    state_url: str,
    journal_limit: int,
    session_ttl: float,
    control_token: str | None,
    allow_hosts: tuple[str, ...],
    no_cors: bool,
    access_log: bool,
) -> None:
    """Put the mock in front of a real API: its traffic forwarded untouched and journaled,
    the provider's documented failures injected by plan, trigger or --rate."""
    chosen = provider_id(provider) or provider
    options: dict[str, Any] = {
        "providers": (chosen,),
        "overrides": (),
        "state_url": state_url,
        "journal_limit": journal_limit,
        "session_ttl": session_ttl,
        "control_token": control_token,
        "allow_hosts": allow_hosts,
        "cors": not no_cors,
        "upstream": upstream,
        "upstream_timeout": upstream_timeout,
        "rate": rate,
        "seed": seed,
    }
    _run_server(
        host,
        port,
        options,
        workers=1,
        threads=threads,
        access_log=access_log,
        banner=lambda url: (
            f"proxying {chosen} on {url} to {upstream} (base URL {url}/{chosen}; "
            "control plane: /__faultproof/health)"
        ),
    )


#: The options of ``serve`` that ``proxy`` takes too, the same objects (and variables).
PROXY_SHARES = (
    "host",
    "port",
    "threads",
    "state_url",
    "journal_limit",
    "session_ttl",
    "control_token",
    "allow_hosts",
    "no_cors",
    "access_log",
)
proxy.params.extend(p for p in serve.params if p.name in PROXY_SHARES)
_from_environment(proxy)


def _split_commas(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--allow-host a,b`` (and the env variable's commas) as ``("a", "b")``."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
@click.argument("provider", shell_complete=cli_params.providers)
@click.option(
    "--server-url",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Where the mock runs; the document's server is <url>/<provider>.",
)
def openapi(provider: str, server_url: str) -> None:
    """Print PROVIDER's OpenAPI 3.1 document, with every documented error response."""
    from .app import create_app
    from .config import MockConfig

    chosen = provider_id(provider) or provider
    app = create_app(MockConfig(providers=(chosen,)))
    base = server_url.rstrip("/")
    document = app.test_client().get(f"/{chosen}/openapi.json", base_url=base).get_json()
    document["servers"] = [{"url": f"{base}/{chosen}"}]
    _dump(document)


def _strict_option(command: Callable[..., None]) -> Callable[..., None]:
    """--strict: warned checks and flaky scenarios fail the run (exit 1), not only failures."""
    return click.option(
        "--strict",
        is_flag=True,
        default=False,
        help="Exit 1 on warned checks (thresholds resting on assumed policy values) and flaky "
        "scenarios too, not only on failed checks; the reports show them as failures.",
    )(command)


@cli.command()
@click.option(
    "--client-cmd", metavar="CMD", help="A shell command speaking the subprocess protocol."
)
@click.option(
    "--client-py", metavar="MODULE:FUNCTION", help="A Python callable client(base_url, operation)."
)
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="P",
    help="Only this provider (repeatable).",
    shell_complete=cli_params.providers,
)
@click.option(
    "--scenario",
    "patterns",
    multiple=True,
    shell_complete=cli_params.scenarios,
    metavar="GLOB",
    help="Only scenarios matching (repeatable).",
)
@click.option("--mock-url", metavar="URL", help="A running mock; without it one starts in-process.")
@click.option(
    "--control-token",
    envvar="FAULTPROOF_CONTROL_TOKEN",
    default=None,
    help="The --mock-url mock's control token (env FAULTPROOF_CONTROL_TOKEN).",
)
@click.option(
    "--workers",
    default=32,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Runs at once (most of a run is waiting, so more than the cores).",
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write the JSON report here."
)
@click.option(
    "--junit", "junit_path", type=click.Path(dir_okay=False), help="Write JUnit XML here."
)
@click.option(
    "--markdown", "markdown_path", type=click.Path(dir_okay=False), help="Write Markdown here."
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False), help="Write the HTML report here."
)
@click.option(
    "--fuzz",
    "fuzz_examples",
    default=0,
    show_default=True,
    type=click.IntRange(0, 10_000),
    metavar="N",
    help="Also serve N generated error answers per provider (hypothesis), shrunk on failure.",
)
@click.option(
    "--fuzz-seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of the --fuzz search: the same seed draws the same answers.",
)
@_strict_option
def run(
    client_cmd: str | None,
    client_py: str | None,
    providers: tuple[str, ...],
    patterns: tuple[str, ...],
    mock_url: str | None,
    control_token: str | None,
    workers: int,
    json_path: str | None,
    junit_path: str | None,
    markdown_path: str | None,
    html_path: str | None,
    fuzz_examples: int,
    fuzz_seed: int,
    strict: bool,
) -> None:
    """Grade a client against every documented failure; exit 0 no check failed, 1 one did.

    Warned checks and flaky scenarios are reported, and fail the run only with --strict.
    """
    from .run_command import run_client

    if bool(client_cmd) == bool(client_py):
        raise click.UsageError(
            "give exactly one of --client-cmd CMD or --client-py MODULE:FUNCTION"
        )
    for provider in providers:
        provider_id(provider)
    passed = run_client(
        client_cmd=client_cmd,
        client_py=client_py,
        providers=providers,
        patterns=patterns,
        mock_url=mock_url,
        control_token=control_token,
        workers=workers,
        fuzz=(fuzz_examples, fuzz_seed),
        strict=strict,
        outputs={
            "json": json_path,
            "junit": junit_path,
            "markdown": markdown_path,
            "html": html_path,
        },
    )
    sys.exit(0 if passed else 1)


def _report_options(command: Callable[..., None]) -> Callable[..., None]:
    """--json, --junit, --markdown and --html FILE: the report files a command writes."""
    for fmt, what in reversed(
        (
            ("json", "the JSON report"),
            ("junit", "JUnit XML"),
            ("markdown", "Markdown"),
            ("html", "the HTML report"),
        )
    ):
        command = click.option(
            f"--{fmt}", f"{fmt}_path", type=click.Path(dir_okay=False), help=f"Write {what} here."
        )(command)
    return command


@cli.command()
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, exists=True),
    help="A journal export (GET /__faultproof/sessions/<id>/journal saved to a file).",
)
@click.option(
    "--har",
    "har_path",
    type=click.Path(dir_okay=False, exists=True),
    help="A HAR 1.2 file from a browser or a proxy (mitmproxy's hardump).",
)
@cli_params.provider_option(
    "The provider of requests whose path has no /<provider>/ prefix (a real API's host)."
)
@_report_options
@_strict_option
def judge(
    journal_path: str | None,
    har_path: str | None,
    provider: str | None,
    json_path: str | None,
    junit_path: str | None,
    markdown_path: str | None,
    html_path: str | None,
    strict: bool,
) -> None:
    """Grade captured traffic with the same checks, no mock running; exit 1 if a check failed
    (or, with --strict, warned)."""
    import dataclasses
    from pathlib import Path

    from faultproof.contracts.judge import judge as judge_capture
    from faultproof.contracts.reports import write
    from faultproof.contracts.reports.console import counts, verdict_lines

    if bool(journal_path) == bool(har_path):
        raise click.UsageError("give exactly one of --journal FILE or --har FILE")
    judged = judge_capture(
        Path(journal_path or har_path or ""),
        "journal" if journal_path else "har",
        provider_id(provider),
    )
    report = dataclasses.replace(judged.report, strict=strict)
    outputs = {"json": json_path, "junit": junit_path, "markdown": markdown_path, "html": html_path}
    written = {k: Path(v) for k, v in outputs.items() if v}
    write(report, **written)
    # Results on standard output (as `faultproof run` prints them), errors on standard error.
    click.echo("\n".join([*judged.notes, *verdict_lines(report, provider=False)]))
    click.echo(
        f"{report.summary['scenarios']} conversations graded: {counts(report)} "
        f"({report.meta['requests']} requests)"
    )
    for fmt, path in written.items():
        click.echo(f"wrote the {fmt} report to {path}")
    sys.exit(0 if report.passed else 1)


cli.add_command(rules)
cli.add_command(import_group)
for _command in cli.commands.values():
    if isinstance(_command, click.Command) and not isinstance(_command, click.Group):
        _command.params.insert(0, cli_params.catalogue_param())
for _command in import_group.commands.values():
    _command.params.insert(0, cli_params.catalogue_param())


def main() -> None:
    """Console-script entry point: tool errors become a message and exit status 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FaultproofError as exc:
        click.echo(f"faultproof: {exc}", err=True)
        sys.exit(2)
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
