"""The catalogue: every provider's scenarios, policy and rules, loaded from data files.

One YAML file per provider under ``providers/`` and one for the generic transport faults
(``faults.yaml``). Each file is validated against ``schemas/_catalogue.json`` and then against
the invariants no schema can say (unique ids, one canonical error per status, bodies valid
against the provider's envelope schema, retryability agreeing with the policy).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from . import cache, template
from .errors import CatalogueError, FaultproofError, UnknownIdError
from .normal_form import NormalForm
from .param_ranges import ranges_for
from .policy import ClientPolicy
from .redaction import GENERIC, Redaction
from .routes import RouteData
from .rule_schema import rule_schema
from .scenario import Operation, Scenario
from .schemas import first_error, load_schema, load_schema_file, validator
from .source import Source

DATA_DIR = resources.files(__package__)
FAULT_PREFIX = "fault"
#: Folders of user catalogues (``--catalogue DIR``), separated by ``os.pathsep``: an environment
#: variable, so the clients a run starts and the workers of ``serve --workers`` see them too.
CATALOGUE_ENV = "FAULTPROOF_CATALOGUE"
#: Ids a user catalogue may not take: the first path segment of sessions, and the faults' prefix.
RESERVED_IDS = frozenset({"s", FAULT_PREFIX})
# The built-in providers in the order the seeds list them; served, listed and completed so.
PROVIDERS = ("alloy", "airbyte", "aironclaw", "alana", "ainative")


@dataclass(frozen=True, slots=True)
class Rule:
    """A documented number or limit the mock enforces.

    Attributes:
        name: Rule name (``rate_limit``, ``query_max_chars``).
        value: Its value: a number, a list or a small mapping.
        description: What it governs.
        source: Provenance.
        types: JSON types of fields whose default cannot tell (a ``null`` default).
    """

    name: str
    value: Any
    description: str
    source: Source
    types: Mapping[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        """What ``--set`` may override this rule with."""
        return rule_schema(self.value, self.types, self.name)


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider's catalogue.

    Attributes:
        id: Provider id (``alana``).
        title: Human name.
        seed: Seed file the documented quotes come from.
        content_type: Content-Type of its error bodies.
        normal_form: Where its envelopes keep code, message and request id.
        operations: Operations a client can be driven through, by name.
        default_operation: The operation scenarios use unless they name one.
        policy: The client policy.
        rules: Documented limits, by name.
        scenarios: Its scenarios by id, in catalogue order.
        schema: Its error-envelope JSON Schema.
        redaction: What of its requests the journal keeps as fingerprints (``secrets``).
        openapi_examples: Requests that only document a success answer in the OpenAPI
            document, for routes no operation reaches.
        routes: The generic surface of an imported provider (``routes.py``); empty for the
            built-in five, whose surfaces are code.
    """

    id: str
    title: str
    seed: str | None
    content_type: str
    normal_form: NormalForm
    operations: Mapping[str, Operation]
    default_operation: str
    policy: ClientPolicy
    rules: Mapping[str, Rule]
    scenarios: Mapping[str, Scenario]
    schema: dict[str, Any]
    redaction: Redaction = GENERIC
    openapi_examples: Mapping[str, Operation] = field(default_factory=dict)
    routes: tuple[RouteData, ...] = ()

    def operation_for(self, scenario: Scenario) -> Operation:
        """The operation a client is driven through for ``scenario`` on this provider."""
        return self.operations[scenario.operation or self.default_operation]

    def canonical(self, status: int) -> Scenario:
        """The provider's canonical error for ``status`` (``Prefer: code=429``)."""
        for scenario in self.scenarios.values():
            if scenario.canonical and scenario.status == status:
                return scenario
        valid = sorted({str(s.status) for s in self.scenarios.values() if s.canonical})
        raise UnknownIdError(f"status for {self.id}", str(status), valid)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All providers and the generic faults.

    Attributes:
        providers: Providers by id, in file-name order.
        faults: Generic transport-fault scenarios by id (``fault.hang``).
    """

    providers: Mapping[str, Provider]
    faults: Mapping[str, Scenario]

    def provider(self, provider_id: str) -> Provider:
        try:
            return self.providers[provider_id]
        except KeyError:
            raise UnknownIdError("provider", provider_id, self.providers) from None

    def scenarios(self, provider: str | None = None) -> list[Scenario]:
        """Every scenario (one provider's when named), generic faults last."""
        chosen = [self.provider(provider)] if provider else list(self.providers.values())
        return [s for p in chosen for s in p.scenarios.values()] + list(self.faults.values())

    def scenario(self, scenario_id: str, provider: str | None = None) -> Scenario:
        """Look up ``alana.RATE_001``, ``fault.hang``, or ``RATE_001`` within ``provider``."""
        if "." not in scenario_id and provider:
            scenario_id = f"{provider}.{scenario_id}"
        for scenario in self.scenarios(provider):
            if scenario.id == scenario_id:
                return scenario
        raise UnknownIdError("scenario", scenario_id, (s.id for s in self.scenarios(provider)))

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self.scenarios())


def _read_yaml(path: Traversable) -> Any:
    import yaml  # only when the cache misses: a start from the cache never parses YAML

    try:
        return yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name} is not valid YAML: {exc}") from exc


def _check(instance: Any, schema: dict[str, Any], where: str, pointer: str | None = None) -> None:
    problem = first_error(schema, instance, pointer)
    if problem:
        raise CatalogueError(f"{where} {problem}")


def _scenario(
    data: dict[str, Any],
    provider: str | None,
    normal_form: NormalForm | None,
    content_type: str | None,
    seed: str | None,
    param_ranges: Mapping[str, Any],
) -> Scenario:
    prefix = provider or FAULT_PREFIX
    scenario_id = f"{prefix}.{data['name']}"
    params = dict(data.get("params", {}))
    ranges = ranges_for(params, param_ranges)
    for name, bounds in ranges.items():
        if not bounds.holds(params[name]):
            raise CatalogueError(
                f"{scenario_id}: the default {name}={params[name]!r} is not "
                f"{bounds.describe()} (faults.yaml param_ranges)"
            )
    used = template.placeholders(data.get("headers", {})) | template.placeholders(data.get("body"))
    unknown = used - set(params) - set(template.COMPUTED)
    if unknown:
        raise CatalogueError(f"{scenario_id} uses undefined parameters {sorted(unknown)}")
    fault = data.get("fault", {}).get("name")
    body = data.get("body")
    normal = (
        normal_form.apply(template.render(body, template.context(params, 0.0)))
        if normal_form and body is not None
        else None
    )
    return Scenario(
        id=scenario_id,
        provider=provider,
        name=data["name"],
        kind=data["kind"],
        status=data.get("status"),
        code=normal.code if normal else None,
        message=normal.message if normal else None,
        headers=dict(data.get("headers", {})),
        body=body,
        content_type=data.get("content_type", content_type),
        fault=fault,
        params=params,
        retryable=bool(data.get("retryable", False)),
        canonical=bool(data.get("canonical", False)),
        checks=tuple(data["checks"]),
        operation=data.get("operation"),
        rule=data.get("rule"),
        expectation=data["expectation"],
        source=Source.from_data(data["source"], seed),
        body_schema=data.get("body_schema"),
        retryable_reason=data.get("retryable_reason"),
        ranges=ranges,
    )


def _invariants(provider: Provider) -> None:
    """What the meta-schema cannot say about one provider."""
    where = f"providers/{provider.id}.yaml:"
    if provider.default_operation not in provider.operations:
        raise UnknownIdError(
            f"operation ({where} default_operation)",
            provider.default_operation,
            provider.operations,
        )
    canonical: dict[int, str] = {}
    for scenario in provider.scenarios.values():
        if scenario.operation and scenario.operation not in provider.operations:
            raise UnknownIdError(
                f"operation ({where} {scenario.id})", scenario.operation, provider.operations
            )
        if scenario.rule and scenario.rule not in provider.rules and " " not in scenario.rule:
            raise UnknownIdError(f"rule ({where} {scenario.id})", scenario.rule, provider.rules)
        if scenario.kind == "fault":
            continue
        body = template.render(scenario.body, template.context(scenario.params, 0.0))
        problem = first_error(provider.schema, body, scenario.body_schema)
        if problem:
            raise CatalogueError(
                f"{where} {scenario.id} body breaks schemas/{provider.id}.json {problem}"
            )
        if scenario.kind == "error":
            expected = provider.policy.is_retryable(scenario.status)
            if scenario.retryable != expected and not scenario.retryable_reason:
                raise CatalogueError(
                    f"{where} {scenario.id} says retryable={scenario.retryable} but the policy "
                    f"{'retries' if expected else 'does not retry'} {scenario.status}; "
                    "fix one or give retryable_reason"
                )
        if scenario.canonical:
            if scenario.status in canonical:
                raise CatalogueError(
                    f"{where} {scenario.id} and {canonical[scenario.status]} "
                    f"are both canonical for {scenario.status}"
                )
            canonical[scenario.status] = scenario.id  # type: ignore[index]
    _caps_invariants(provider, where)
    statuses = {s.status for s in provider.scenarios.values() if s.kind == "error"}
    missing = sorted(s for s in statuses if s not in canonical)  # type: ignore[type-var]
    if missing:
        raise CatalogueError(
            f"{where} no canonical scenario for status {missing} (mark one `canonical: true`)"
        )


def _caps_invariants(provider: Provider, where: str) -> None:
    """A policy that reads a wait from the answer needs a huge-wait scenario grading the cap;
    such a scenario takes a ``retry_after`` the runner can raise above the ceiling."""
    caps = [s for s in provider.scenarios.values() if "caps_retry_after" in s.checks]
    for scenario in caps:
        if "retry_after" not in scenario.params:
            raise CatalogueError(
                f"{where} {scenario.id} lists caps_retry_after but takes no retry_after parameter"
            )
    if provider.policy.wait_sources and not caps:
        raise CatalogueError(
            f"{where} the policy reads waits from {', '.join(provider.policy.wait_sources)} but "
            "no scenario lists caps_retry_after (add a huge-wait scenario)"
        )


def load_provider(
    path: Traversable, meta: dict[str, Any], param_ranges: Mapping[str, Any] | None = None
) -> Provider:
    """One provider file, validated (numeric parameters: finite, or within ``param_ranges``)."""
    data = _read_yaml(path)
    _check(data, meta, f"{path.name}:")
    return _checked_provider(path.name, data, load_schema(data["provider"]), param_ranges or {})


def _checked_provider(
    file_name: str, data: Any, schema: dict[str, Any], param_ranges: Mapping[str, Any]
) -> Provider:
    """A provider file already checked against the meta-schema, with its envelope schema."""
    if Path(file_name).name != f"{data['provider']}.yaml":
        raise CatalogueError(
            f"{file_name} declares provider {data['provider']!r}; name the file "
            f"{data['provider']}.yaml"
        )
    provider = _provider(data, file_name, schema, param_ranges)
    _invariants(provider)
    return provider


def _provider(
    data: dict[str, Any],
    file_name: str,
    schema: dict[str, Any],
    param_ranges: Mapping[str, Any],
) -> Provider:
    """A provider built from its data and envelope schema, both already validated."""
    provider_id = data["provider"]
    normal_form = NormalForm.from_data(data["normal_form"])
    scenarios: dict[str, Scenario] = {}
    for item in data["scenarios"]:
        scenario = _scenario(
            item, provider_id, normal_form, data["content_type"], data["seed"], param_ranges
        )
        if scenario.id in scenarios:
            raise CatalogueError(f"{file_name}: duplicate scenario id {scenario.id}")
        scenarios[scenario.id] = scenario
    return Provider(
        id=provider_id,
        title=data["title"],
        seed=data["seed"],
        content_type=data["content_type"],
        normal_form=normal_form,
        operations={k: Operation.from_data(k, v) for k, v in data["operations"].items()},
        default_operation=data["default_operation"],
        policy=ClientPolicy.from_data(data["policy"], data["seed"]),
        rules={
            k: Rule(
                k,
                v["value"],
                v.get("description", ""),
                Source.from_data(v["source"], data["seed"]),
                v.get("types", {}),
            )
            for k, v in data["rules"].items()
        },
        scenarios=scenarios,
        schema=schema,
        redaction=Redaction.from_data(data.get("secrets", [])),
        openapi_examples={
            k: Operation.from_data(k, v) for k, v in data.get("openapi_examples", {}).items()
        },
        routes=tuple(RouteData.from_data(item) for item in data.get("routes", ())),
    )


def user_dirs(value: str | None = None) -> tuple[Path, ...]:
    """The user catalogue folders ``value`` (``FAULTPROOF_CATALOGUE`` by default) names."""
    spelled = os.environ.get(CATALOGUE_ENV, "") if value is None else value
    return tuple(Path(part) for part in spelled.split(os.pathsep) if part)


def load_catalogue(
    data_dir: Traversable | None = None,
    *,
    use_cache: bool = True,
    extra: Sequence[Path] = (),
) -> Catalogue:
    """Every provider file and the faults file under ``data_dir`` (the package's by default),
    and the providers of each user catalogue folder in ``extra`` (``providers/<id>.yaml`` with
    ``schemas/<id>.json``, as ``faultproof import openapi`` writes them).

    Data already validated with this exact content comes from the cache (``cache.py``) and is
    only turned into objects: neither YAML nor the schemas are read again.
    """
    root = data_dir or DATA_DIR
    for folder in extra:
        if not folder.is_dir():
            raise CatalogueError(
                f"{folder}: no such folder (a catalogue folder is what faultproof "
                "import openapi FILE --id ID --out DIR writes)"
            )
        if not (folder / "providers").is_dir():
            raise CatalogueError(
                f"{folder} is no catalogue folder: it has no providers/ folder (faultproof "
                "import openapi FILE --id ID --out DIR writes DIR/providers/ID.yaml and "
                "DIR/schemas/ID.json)"
            )
    cache_key = cache.key(root, extra) if use_cache else ""
    hit = cache.load(cache_key) if use_cache else None
    if isinstance(hit, dict):
        try:
            return _build(hit)
        except (KeyError, TypeError, ValueError, AttributeError, CatalogueError):
            pass  # a cache entry of the wrong shape: validate the files again
    data, loaded = _validated(root, extra)
    if use_cache:
        cache.store(cache_key, data)
    return loaded


def _builtin_order(path: Traversable) -> int:
    """The seeds' rank of a built-in provider file; others follow, by name (sorted is stable)."""
    provider_id = path.name.removesuffix(".yaml")
    return PROVIDERS.index(provider_id) if provider_id in PROVIDERS else len(PROVIDERS)


def _yaml_files(folder: Traversable) -> list[Traversable]:
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def _validated(root: Traversable, extra: Sequence[Path]) -> tuple[dict[str, Any], Catalogue]:
    """The catalogue under ``root`` and in ``extra``, every file checked against the catalogue
    schema and its invariants, with the data it was built from (``{"providers": [...],
    "schemas": {...}, "faults": [...]}``)."""
    meta = load_schema("_catalogue")
    fault_data = _read_yaml(root / "faults.yaml")
    faults_schema = {
        "type": "object",
        "required": ["param_ranges", "scenarios"],
        "additionalProperties": False,
        "properties": {
            "param_ranges": {"$ref": "#/$defs/param_ranges"},
            "scenarios": {"type": "array", "items": {"$ref": "#/$defs/scenario"}},
        },
        "$defs": meta["$defs"],
    }
    _check(fault_data, faults_schema, "faults.yaml:")
    ranges = fault_data["param_ranges"]
    providers: list[Any] = []
    schemas: dict[str, Any] = {}
    for path in sorted(_yaml_files(root / "providers"), key=_builtin_order):
        data = _read_yaml(path)
        _check(data, meta, f"{path.name}:")
        schemas[data["provider"]] = load_schema(data["provider"])
        _checked_provider(path.name, data, schemas[data["provider"]], ranges)
        providers.append(data)
    for folder in extra:
        for path in _yaml_files(folder / "providers"):
            where = str(folder / "providers" / path.name)
            data = _read_yaml(path)
            _check(data, meta, f"{where}:")
            provider_id = data["provider"]
            if provider_id in schemas or provider_id in RESERVED_IDS:
                taken = "reserved" if provider_id in RESERVED_IDS else "already loaded"
                raise CatalogueError(
                    f"{where}: the provider id {provider_id!r} is {taken}; give the catalogue "
                    f"another id (taken: {', '.join(sorted(schemas))}, reserved: "
                    f"{', '.join(sorted(RESERVED_IDS))})"
                )
            schemas[provider_id] = load_schema_file(folder / "schemas" / f"{provider_id}.json")
            _checked_provider(where, data, schemas[provider_id], ranges)
            providers.append(data)
    data = {
        "providers": providers,
        "schemas": schemas,
        "faults": fault_data["scenarios"],
        "param_ranges": ranges,
    }
    return data, _build(data)


def _build(data: dict[str, Any]) -> Catalogue:
    providers = {}
    for item in data["providers"]:
        provider_id = item["provider"]
        schema = data["schemas"][provider_id]
        provider = _provider(item, f"{provider_id}.yaml", schema, data["param_ranges"])
        providers[provider.id] = provider
    faults = {}
    for item in data["faults"]:
        scenario = _scenario(item, None, None, item.get("content_type"), None, data["param_ranges"])
        if scenario.id in faults:
            raise CatalogueError(f"faults.yaml: duplicate scenario id {scenario.id}")
        faults[scenario.id] = scenario
    return Catalogue(providers=providers, faults=faults)


def default_catalogue() -> Catalogue:
    """The bundled catalogue with the user catalogues ``FAULTPROOF_CATALOGUE`` names, loaded
    once per process and value of that variable."""
    return _catalogue_for(os.environ.get(CATALOGUE_ENV, ""))


@functools.cache
def _catalogue_for(dirs: str) -> Catalogue:
    return load_catalogue(extra=user_dirs(dirs))


def add_user_dirs(folders: Sequence[str | Path]) -> Catalogue:
    """Add ``folders`` to ``FAULTPROOF_CATALOGUE`` (so clients and workers started later load
    them too) and load the catalogue now, so a bad folder is an error before anything starts."""
    before = os.environ.get(CATALOGUE_ENV)
    names = [str(p) for p in user_dirs()]
    names += [a for a in (os.path.abspath(f) for f in folders) if a not in names]
    os.environ[CATALOGUE_ENV] = os.pathsep.join(names)
    try:
        return default_catalogue()
    except FaultproofError:  # a bad folder is not left for what starts later
        if before is None:
            del os.environ[CATALOGUE_ENV]
        else:
            os.environ[CATALOGUE_ENV] = before
        raise


__all__ = [
    "CATALOGUE_ENV",
    "Catalogue",
    "Provider",
    "Rule",
    "add_user_dirs",
    "default_catalogue",
    "load_catalogue",
    "load_provider",
    "user_dirs",
    "validator",
]
