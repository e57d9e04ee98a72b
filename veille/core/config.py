"""Load and validate `sources.yaml` into frozen dataclasses.

This is the only module that reads the configuration file. Every error names the file, the
line and the key path (`sources.yaml:14: sources[3].url: not a valid http(s) URL`), and all
errors of a file are collected before raising, so one run of `veille check` lists them all.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from veille.core.layout import DataDir
from veille.core.schedules import parse_interval, schedule_problem, valid_tz as _valid_tz  # noqa: F401

DEFAULT_CONFIG = "sources.yaml"
CONFIG_ENV = "VEILLE_CONFIG"

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(Exception):
    """One or more problems in a configuration file, each with file, line and key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class HttpConfig:
    user_agent: str = "Veille/0.1 (+https://github.com/veille; veille documentaire)"
    delay_per_host: float = 1.0
    timeout: float = 30.0
    allow_private_networks: bool = False
    max_bytes: int = 50 * 1024 * 1024
    retries: int = 3
    concurrency: int = 4


@dataclass(frozen=True)
class LibraryFolder:
    name: str
    path: Path


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    kind: str
    url: str
    schedule: str = "6h"
    tags: tuple[str, ...] = ()
    enabled: bool = True
    # Kind-specific settings (select, follow, fetch_full, ...), validated by SOURCE_KIND_OPTIONS.
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Alert:
    name: str
    query: str
    recipients: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class DigestConfig:
    schedule: str = "0 7 * * mon"
    sender: str = "veille@localhost"
    smtp: SmtpConfig = SmtpConfig()
    period_days: int = 7
    send_empty: bool = False


@dataclass(frozen=True)
class WebConfig:
    base_url: str = "http://localhost:5000"


@dataclass(frozen=True)
class SearchConfig:
    engine: str = "whoosh"
    # when to merge the index's segments (commits only merge small ones): Sunday night
    optimize: str = "0 3 * * sun"       # an interval, a cron string, or "off"


@dataclass(frozen=True)
class ExtractionConfig:
    """Bounds on reading one document (library file or fetched PDF): see indexer.extract."""

    max_file_mb: float = 100.0     # larger files are listed with a reason, not read
    timeout: float = 120.0         # seconds per document, in a worker process
    max_pages: int = 3000          # PDF pages read; the rest is cut off, with a note


@dataclass(frozen=True)
class Config:
    path: Path
    data_dir: Path
    timezone: str = "America/Martinique"
    http: HttpConfig = HttpConfig()
    library: tuple[LibraryFolder, ...] = ()
    sources: tuple[Source, ...] = ()
    alerts: tuple[Alert, ...] = ()
    digest: DigestConfig = DigestConfig()
    web: WebConfig = WebConfig()
    search: SearchConfig = SearchConfig()
    extraction: ExtractionConfig = ExtractionConfig()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def layout(self) -> DataDir:
        return DataDir(self.data_dir)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


# ---------------------------------------------------------------- schema
# Each key maps to a validator `(value, checker, key_path) -> python value`.

SOURCE_KINDS = ("feed", "page", "change", "legifrance")

# Options allowed on a source, per kind, beside the common keys.
SOURCE_KIND_OPTIONS: dict[str, dict[str, str]] = {
    "feed": {"fetch_full": "bool", "max_entries": "int"},
    "page": {"select": "mapping", "follow": "bool", "next": "str", "max_pages": "int"},
    "change": {"selector": "str"},
    "legifrance": {
        "natures": "list", "emitters": "list", "keywords": "list",
        "client_id_env": "str", "client_secret_env": "str", "token_url": "str", "max_issues": "int",
    },
}
# Natures of Journal officiel texts a `legifrance` source may filter on (compared without
# accents or case, so `DECRET`, `décret` and `Décret` are the same).
LEGIFRANCE_NATURES = ("loi", "ordonnance", "decret", "arrete", "circulaire", "decision",
                      "deliberation", "avis", "instruction", "rapport", "liste", "tableau", "annonce")
LEGIFRANCE_DEFAULTS = {
    "token_url": "https://oauth.piste.gouv.fr/api/oauth/token",
    "client_id_env": "LEGIFRANCE_CLIENT_ID",
    "client_secret_env": "LEGIFRANCE_CLIENT_SECRET",
    "max_issues": 10,
}
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PAGE_SELECT_KEYS = ("item", "link", "title", "date", "summary")
SEARCH_ENGINES = ("whoosh", "tantivy")
ALERT_FILTERS = ("kind", "source", "theme", "territory", "doc_type")


def is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# ---------------------------------------------------------------- YAML with line numbers


class _Checker:
    """Collects problems while walking the YAML node tree; knows each node's line."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[str] = []

    def error(self, node: yaml.Node | None, key: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        where = f"{key}: " if key else ""
        self.problems.append(f"{self.file}:{line}: {where}{message}")

    def mapping(self, node: yaml.Node, key: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.error(node, key, "expected a mapping (key: value)")
            return None
        items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for knode, vnode in node.value:
            name = str(knode.value)
            if name in items:
                self.error(knode, _join(key, name), "duplicate key")
            items[name] = (knode, vnode)
        return items

    def sequence(self, node: yaml.Node, key: str) -> list[yaml.Node] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, key, "expected a list")
            return None
        return list(node.value)

    def unknown_keys(self, items: dict, allowed: tuple[str, ...] | list[str], key: str) -> None:
        for name, (knode, _) in items.items():
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                shown = name if name.strip() == name and name.isprintable() else repr(name)
                self.error(knode, _join(key, shown), f"unknown key{hint}")

    def scalar(self, node: yaml.Node, key: str, kind: str) -> Any:
        """Convert a scalar node to `kind` (str, int, float, bool), or record a problem."""
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, key, f"expected a {_KIND_NAMES[kind]}")
            return None
        if node.tag == "tag:yaml.org,2002:str":
            value = node.value
        else:
            try:  # an explicit tag (`!!int zz`, `!!timestamp x`) can make PyYAML's constructors fail
                value = yaml.safe_load(yaml.serialize(node))
            except (yaml.YAMLError, ValueError, TypeError, LookupError, AttributeError, OverflowError):
                self.error(node, key, f"invalid value {node.value!r} for tag {node.tag}")
                return None
        if kind == "str":
            if value is None:
                self.error(node, key, "must not be empty")
                return None
            if isinstance(value, (bytes, list, dict)):
                self.error(node, key, f"expected a string, got {node.value!r}")
                return None
            if "\0" in str(value):
                self.error(node, key, "must not contain a NUL character")
                return None
            return str(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
        elif kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif kind == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if math.isfinite(value):
                    return float(value)
                self.error(node, key, f"expected a finite number, got {node.value!r}")
                return None
        self.error(node, key, f"expected a {_KIND_NAMES[kind]}, got {node.value!r}")
        return None

    def strings(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        """A list of strings; a single string is accepted as a one-item list."""
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            value = self.scalar(node, key, "str")
            return (value,) if value else ()
        items = self.sequence(node, key)
        if items is None:
            return ()
        values = [self.scalar(item, f"{key}[{i}]", "str") for i, item in enumerate(items)]
        return tuple(v for v in values if v)


_KIND_NAMES = {"str": "string", "int": "whole number", "float": "number", "bool": "true/false"}


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


# ---------------------------------------------------------------- sections


def _fields(check: _Checker, items: dict, key: str, spec: dict[str, str]) -> dict:
    """Validate flat scalar fields of a section against a `{name: kind}` spec."""
    out = {}
    for name, kind in spec.items():
        if name in items:
            value = check.scalar(items[name][1], _join(key, name), kind)
            if value is not None:
                out[name] = value
    return out


def _http(check: _Checker, node: yaml.Node) -> HttpConfig:
    spec = {"user_agent": "str", "delay_per_host": "float", "timeout": "float",
            "allow_private_networks": "bool", "max_bytes": "int", "retries": "int",
            "concurrency": "int"}
    items = check.mapping(node, "http")
    if items is None:
        return HttpConfig()
    check.unknown_keys(items, tuple(spec), "http")
    values = _fields(check, items, "http", spec)
    for name in ("delay_per_host", "timeout"):
        if values.get(name, 0) < 0:
            check.error(items[name][1], f"http.{name}", "must not be negative")
    for name in ("max_bytes", "concurrency"):
        if name in values and values[name] < 1:
            check.error(items[name][1], f"http.{name}", "must be at least 1")
    if not 0 <= values.get("retries", 0) <= 10:
        check.error(items["retries"][1], "http.retries", "must be between 0 and 10")
    return HttpConfig(**values)


def _library(check: _Checker, node: yaml.Node, base: Path) -> tuple[LibraryFolder, ...]:
    folders = []
    names: set[str] = set()
    for i, item in enumerate(check.sequence(node, "library") or []):
        key = f"library[{i}]"
        items = check.mapping(item, key)
        if items is None:
            continue
        check.unknown_keys(items, ("name", "path"), key)
        for required in ("name", "path"):
            if required not in items:
                check.error(item, key, f"missing '{required}'")
        if "name" not in items or "path" not in items:
            continue
        name = check.scalar(items["name"][1], f"{key}.name", "str")
        path = check.scalar(items["path"][1], f"{key}.path", "str")
        if name in names:
            check.error(items["name"][1], f"{key}.name", f"duplicate library name '{name}'")
        names.add(name)
        if name and path:
            folders.append(LibraryFolder(name=name, path=(base / path).resolve()))
    return tuple(folders)


def _source(check: _Checker, item: yaml.Node, key: str, tz: str) -> Source | None:
    common = ("name", "title", "kind", "url", "schedule", "tags", "enabled")
    items = check.mapping(item, key)
    if items is None:
        return None
    kind = None
    if "kind" in items:
        kind = check.scalar(items["kind"][1], f"{key}.kind", "str")
        if kind is not None and kind not in SOURCE_KINDS:
            check.error(items["kind"][1], f"{key}.kind",
                        f"unknown kind '{kind}' (one of: {', '.join(SOURCE_KINDS)})")
            kind = None
    else:
        check.error(item, key, "missing 'kind'")
    if kind:
        allowed = common + tuple(SOURCE_KIND_OPTIONS[kind])
    else:  # unknown kind: still catch typos against every kind's options
        allowed = common + tuple(opt for opts in SOURCE_KIND_OPTIONS.values() for opt in opts)
    check.unknown_keys(items, allowed, key)
    for required in ("name", "url"):
        if required not in items:
            check.error(item, key, f"missing '{required}'")
    name = check.scalar(items["name"][1], f"{key}.name", "str") if "name" in items else None
    if name is not None and not SLUG_RE.match(name):
        check.error(items["name"][1], f"{key}.name",
                    "must be a slug: lower-case letters, digits, '-' or '_'")
    url = check.scalar(items["url"][1], f"{key}.url", "str") if "url" in items else None
    if url is not None and not is_http_url(url):
        check.error(items["url"][1], f"{key}.url", "not a valid http(s) URL")
    title = check.scalar(items["title"][1], f"{key}.title", "str") if "title" in items else None
    schedule = "6h"
    if "schedule" in items:
        schedule = str(check.scalar(items["schedule"][1], f"{key}.schedule", "str") or "6h")
        problem = schedule_problem(schedule, tz)
        if problem:
            check.error(items["schedule"][1], f"{key}.schedule", problem)
    tags = check.strings(items["tags"][1], f"{key}.tags") if "tags" in items else ()
    enabled = True
    if "enabled" in items:
        enabled = bool(check.scalar(items["enabled"][1], f"{key}.enabled", "bool"))
    options = _source_options(check, items, key, kind) if kind else {}
    if not (name and url and kind):
        return None
    return Source(name=name, title=title or name, kind=kind, url=url, schedule=schedule,
                  tags=tags, enabled=enabled, options=MappingProxyType(options))


def _source_options(check: _Checker, items: dict, key: str, kind: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for opt, opt_kind in SOURCE_KIND_OPTIONS[kind].items():
        if opt not in items:
            continue
        node = items[opt][1]
        opt_key = f"{key}.{opt}"
        if opt_kind == "list":
            options[opt] = check.strings(node, opt_key)
        elif opt_kind == "mapping":
            sub = check.mapping(node, opt_key)
            if sub is None:
                continue
            check.unknown_keys(sub, PAGE_SELECT_KEYS, opt_key)
            values = {k: v for k, (_, n) in sub.items() if (v := check.scalar(n, f"{opt_key}.{k}", "str"))}
            for name, value in values.items():
                problem = _css_problem(value)
                if problem:
                    check.error(sub[name][1], f"{opt_key}.{name}", problem)
            options[opt] = MappingProxyType(values)
        else:
            value = check.scalar(node, opt_key, opt_kind)
            if value is None:
                continue
            if opt_kind == "int" and value < 1:
                check.error(node, opt_key, "must be at least 1")
                continue
            if opt in CSS_OPTIONS and _css_problem(value):
                check.error(node, opt_key, _css_problem(value))
                continue
            options[opt] = value
    if kind == "legifrance":
        _legifrance_options(check, items, key, options)
    if kind == "page":
        select = options.get("select")
        if select is None or "item" not in select or "link" not in select:
            check.error(items.get("select", (None, None))[1] or items["kind"][1], f"{key}.select",
                        "a page source needs select.item and select.link CSS selectors")
    return options


CSS_OPTIONS = ("next", "selector")   # source options holding a CSS selector


def _css_problem(selector: str) -> str | None:
    """Why `selector` is not a CSS selector the crawler can use, or None."""
    import soupsieve

    try:
        soupsieve.compile(selector)
    except Exception as exc:  # soupsieve.SelectorSyntaxError, and odd inputs
        return f"invalid CSS selector {selector!r}: {str(exc).splitlines()[0]}"
    return None


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _legifrance_options(check: _Checker, items: dict, key: str, options: dict[str, Any]) -> None:
    """Check a `legifrance` source's options and fill in the PISTE defaults."""
    if "token_url" in options and not is_http_url(options["token_url"]):
        check.error(items["token_url"][1], f"{key}.token_url", "not a valid http(s) URL")
    for name in ("client_id_env", "client_secret_env"):
        if name in options and not ENV_NAME_RE.match(options[name]):
            check.error(items[name][1], f"{key}.{name}",
                        "must be the NAME of an environment variable (credentials are never stored here)")
    for i, nature in enumerate(options.get("natures", ())):
        if _fold(nature) not in LEGIFRANCE_NATURES:
            check.error(items["natures"][1], f"{key}.natures[{i}]",
                        f"unknown nature '{nature}' (one of: {', '.join(LEGIFRANCE_NATURES)})")
    if options.get("max_issues", 1) < 1:
        check.error(items["max_issues"][1], f"{key}.max_issues", "must be at least 1")
    for name, value in LEGIFRANCE_DEFAULTS.items():
        options.setdefault(name, value)


def _sources(check: _Checker, node: yaml.Node, tz: str) -> tuple[Source, ...]:
    sources = []
    seen: set[str] = set()
    for i, item in enumerate(check.sequence(node, "sources") or []):
        source = _source(check, item, f"sources[{i}]", tz)
        if source is None:
            continue
        if source.name in seen:
            check.error(item, f"sources[{i}].name", f"duplicate source name '{source.name}'")
            continue
        seen.add(source.name)
        sources.append(source)
    return tuple(sources)


def _alerts(check: _Checker, node: yaml.Node, source_names: set[str]) -> tuple[Alert, ...]:
    from veille.core.records import KINDS

    alerts = []
    names: set[str] = set()
    for i, item in enumerate(check.sequence(node, "alerts") or []):
        key = f"alerts[{i}]"
        items = check.mapping(item, key)
        if items is None:
            continue
        check.unknown_keys(items, ("name", "query", "recipients", "filters"), key)
        if "name" not in items or "query" not in items:
            check.error(item, key, "an alert needs a 'name' and a 'query'")
            continue
        name = check.scalar(items["name"][1], f"{key}.name", "str")
        query = check.scalar(items["query"][1], f"{key}.query", "str")
        recipients = check.strings(items["recipients"][1], f"{key}.recipients") if "recipients" in items else ()
        for j, address in enumerate(recipients):
            if not EMAIL_RE.match(address):
                check.error(items["recipients"][1], f"{key}.recipients[{j}]",
                            f"not an e-mail address: {address!r}")
        filters: dict[str, tuple[str, ...]] = {}
        if "filters" in items:
            sub = check.mapping(items["filters"][1], f"{key}.filters") or {}
            check.unknown_keys(sub, ALERT_FILTERS, f"{key}.filters")
            for fname, (_, fnode) in sub.items():
                if fname in ALERT_FILTERS:
                    filters[fname] = check.strings(fnode, f"{key}.filters.{fname}")
            for value in filters.get("kind", ()):
                if value not in KINDS:
                    check.error(sub["kind"][1], f"{key}.filters.kind",
                                f"unknown kind {value!r} (one of: {', '.join(KINDS)})")
            for value in filters.get("source", ()):
                if value not in source_names:
                    close = difflib.get_close_matches(value, sorted(source_names), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    check.error(sub["source"][1], f"{key}.filters.source",
                                f"no source or library named {value!r}{hint}")
        if name and name.casefold() in names:
            check.error(items["name"][1], f"{key}.name", f"duplicate alert name '{name}'")
            continue
        if name:
            names.add(name.casefold())
        if name and query:
            alerts.append(Alert(name=name, query=query, recipients=recipients,
                                filters=MappingProxyType(filters)))
    return tuple(alerts)


def _digest(check: _Checker, node: yaml.Node, tz: str) -> DigestConfig:
    items = check.mapping(node, "digest")
    if items is None:
        return DigestConfig()
    check.unknown_keys(items, ("schedule", "from", "smtp", "period_days", "send_empty"), "digest")
    values: dict[str, Any] = {}
    if "schedule" in items:
        schedule = check.scalar(items["schedule"][1], "digest.schedule", "str")
        problem = schedule and schedule_problem(schedule, tz)
        if problem:
            check.error(items["schedule"][1], "digest.schedule", problem)
        elif schedule:
            values["schedule"] = schedule
    if "from" in items:
        sender = check.scalar(items["from"][1], "digest.from", "str")
        if sender and not EMAIL_RE.match(sender.split("<")[-1].rstrip(">").strip()):
            check.error(items["from"][1], "digest.from", f"not an e-mail address: {sender!r}")
        elif sender:
            values["sender"] = sender
    values.update(_fields(check, items, "digest", {"period_days": "int", "send_empty": "bool"}))
    if values.get("period_days", 1) < 1:
        check.error(items["period_days"][1], "digest.period_days", "must be at least 1")
        del values["period_days"]
    elif values.get("period_days", 1) > 366:  # a longer period would make a useless digest
        check.error(items["period_days"][1], "digest.period_days", "must be at most 366")
        del values["period_days"]
    if "smtp" in items:
        spec = {"host": "str", "port": "int", "starttls": "bool", "ssl": "bool",
                "username": "str", "password_env": "str"}
        sub = check.mapping(items["smtp"][1], "digest.smtp")
        if sub is not None:
            if "password" in sub:
                check.error(sub.pop("password")[0], "digest.smtp.password",
                            "passwords are never stored in the file: name an environment variable with password_env")
            check.unknown_keys(sub, tuple(spec), "digest.smtp")
            smtp = SmtpConfig(**_fields(check, sub, "digest.smtp", spec))
            if smtp.ssl and smtp.starttls:
                check.error(sub["starttls"][1], "digest.smtp.starttls",
                            "choose one of ssl (implicit TLS, port 465) and starttls (port 587)")
            if not 0 < smtp.port < 65536:
                check.error(sub["port"][1], "digest.smtp.port", "not a TCP port (1-65535)")
            if smtp.password_env and not smtp.username:
                check.error(sub["password_env"][1], "digest.smtp.password_env",
                            "a password needs a username (digest.smtp.username)")
            values["smtp"] = smtp
    return DigestConfig(**values)


def _single(check: _Checker, top: dict, name: str, spec: dict[str, str], cls: type) -> Any:
    if name not in top:
        return cls()
    items = check.mapping(top[name][1], name)
    if items is None:
        return cls()
    check.unknown_keys(items, tuple(spec), name)
    return cls(**_fields(check, items, name, spec))


TOP_KEYS = ("data_dir", "timezone", "http", "library", "sources", "alerts", "digest", "web", "search",
            "extraction")


def parse_config(text: str, path: Path) -> Config:
    """Validate the YAML `text` read from `path`; raise ConfigError listing every problem."""
    check = _Checker(path.name)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{path.name}:{line}: invalid YAML: {reason}"]) from None
    except RecursionError:  # PyYAML's parser recurses once per nesting level
        raise ConfigError([f"{path.name}:1: invalid YAML: nested too deeply"]) from None
    if root is None:
        top: dict = {}
    else:
        top = check.mapping(root, "") or {}
    check.unknown_keys(top, TOP_KEYS, "")
    base = path.parent
    data_dir = "index"
    if "data_dir" in top:
        data_dir = check.scalar(top["data_dir"][1], "data_dir", "str") or "index"
    timezone = "America/Martinique"
    if "timezone" in top:
        timezone = check.scalar(top["timezone"][1], "timezone", "str") or timezone
        if not _valid_tz(timezone):
            check.error(top["timezone"][1], "timezone", f"unknown time zone '{timezone}'")
    http = _http(check, top["http"][1]) if "http" in top else HttpConfig()
    library = _library(check, top["library"][1], base) if "library" in top else ()
    sources = _sources(check, top["sources"][1], timezone) if "sources" in top else ()
    known = {s.name for s in sources} | {f.name for f in library}
    alerts = _alerts(check, top["alerts"][1], known) if "alerts" in top else ()
    digest = _digest(check, top["digest"][1], timezone) if "digest" in top else DigestConfig()
    web = _single(check, top, "web", {"base_url": "str"}, WebConfig)
    if "web" in top and not is_http_url(web.base_url):
        check.error(top["web"][1], "web.base_url", "not a valid http(s) URL")
    search = _single(check, top, "search", {"engine": "str", "optimize": "str"}, SearchConfig)
    if search.engine not in SEARCH_ENGINES:
        check.error(top["search"][1], "search.engine",
                    f"unknown engine '{search.engine}' (one of: {', '.join(SEARCH_ENGINES)})")
    if search.optimize != "off":
        problem = schedule_problem(search.optimize, timezone)
        if problem:
            check.error(check.mapping(top["search"][1], "search")["optimize"][1], "search.optimize",
                        f"{problem}, or off")
    extraction = _single(check, top, "extraction",
                         {"max_file_mb": "float", "timeout": "float", "max_pages": "int"}, ExtractionConfig)
    for name in ("max_file_mb", "timeout", "max_pages"):
        if getattr(extraction, name) <= 0:
            node = check.mapping(top["extraction"][1], "extraction")[name][1]
            check.error(node, f"extraction.{name}", "must be greater than 0")
    if check.problems:
        raise ConfigError(sorted(check.problems, key=_line_of))
    return Config(path=path.resolve(), data_dir=(base / data_dir).resolve(), timezone=timezone,
                  http=http, library=library, sources=sources, alerts=alerts, digest=digest,
                  web=web, search=search, extraction=extraction)


def _line_of(problem: str) -> int:
    return int(problem.split(":", 2)[1])


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the configuration from `path`, `$VEILLE_CONFIG` or ./sources.yaml."""
    path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: configuration file not found"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path.name}:1: not UTF-8 text ({exc.reason})"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    return parse_config(text, path)


def replace_data_dir(config: Config, data_dir: Path) -> Config:
    """The same configuration writing to another data directory (tests, demo)."""
    from dataclasses import replace

    return replace(config, data_dir=Path(data_dir).resolve())


# ---------------------------------------------------------------- secret key

SECRET_KEY_ENV = "VEILLE_SECRET_KEY"
MIN_SECRET_LENGTH = 32


def load_secret_key(layout: DataDir) -> str:
    """The key signing session cookies: `$VEILLE_SECRET_KEY`, else `layout.secret_key`.

    The file is created on first use, readable by its owner only (0600), and is refused when
    others can read it. It lives with the data (and its backups), never in the repository.
    """
    from veille.core.errors import VeilleError

    key = os.environ.get(SECRET_KEY_ENV, "").strip()
    if key:
        if len(key) < MIN_SECRET_LENGTH:
            raise VeilleError(f"{SECRET_KEY_ENV} is too short",
                              hint=f"use at least {MIN_SECRET_LENGTH} random characters")
        return key
    path = layout.secret_key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create_secret_file(path)
        mode = path.stat().st_mode
        if mode & 0o077:
            raise VeilleError(f"{path} can be read by other users",
                              hint=f"run: chmod 600 {path}")
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise VeilleError(f"cannot read or create the secret key {path}: {exc}",
                          hint=f"check the data directory, or set {SECRET_KEY_ENV}") from None
    if len(key) < MIN_SECRET_LENGTH:
        raise VeilleError(f"{path} holds no usable key",
                          hint="delete it to have a new one created (staff will log in again)")
    return key


def _create_secret_file(path: Path) -> None:
    """Write the key to a private temporary file, then link it into place: two processes
    starting together end up sharing one complete key, never reading a half-written file."""
    import secrets
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its key
    finally:
        os.unlink(tmp)
