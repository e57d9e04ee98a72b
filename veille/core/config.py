"""Load and validate `sources.yaml` into frozen dataclasses.

This is the only module that reads the configuration file. What the file may hold is
declared once in veille.core.config_schema; here the YAML node tree (config_yaml) is read
against that declaration and turned into records. Every problem names the file, the line and
the key (`sources.yaml:14: sources[3].url: adresse http(s) invalide`), and all problems of a
file are collected before raising, so one run of `veille check` lists them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import yaml

from veille.core.config_schema import (ALERT, DIGEST, EXTRACTION, HTTP, LETTRE, LETTRE_PROFILE, LIBRARY,
                                       ROOT, SEARCH, SMTP, SOURCE, STRINGS, WEB, ListOf, Section, Setting)
from veille.core.config_yaml import ConfigError, Items, Reader, compose, join, quoted
from veille.core.errors import os_error_reason
from veille.core.layout import DataDir

__all__ = ["CONFIG_ENV", "DEFAULT_CONFIG", "Alert", "Config", "ConfigError", "DigestConfig",
           "ExtractionConfig", "HttpConfig", "LettreConfig", "LettreProfile", "LibraryFolder", "SearchConfig", "SmtpConfig", "Source",
           "WebConfig", "load_config", "parse_config", "replace_data_dir"]

DEFAULT_CONFIG = "sources.yaml"
CONFIG_ENV = "VEILLE_CONFIG"


# ---------------------------------------------------------------- records
# Field names are the schema's keys (or their `field`); defaults are the schema's
# (tests/test_config_schema.py holds the two together).


@dataclass(frozen=True)
class HttpConfig:
    user_agent: str = HTTP["user_agent"].default
    delay_per_host: float = HTTP["delay_per_host"].default
    timeout: float = HTTP["timeout"].default
    allow_private_networks: bool = HTTP["allow_private_networks"].default
    max_bytes: int = HTTP["max_bytes"].default
    retries: int = HTTP["retries"].default
    concurrency: int = HTTP["concurrency"].default


@dataclass(frozen=True)
class LibraryFolder:
    name: str
    path: Path
    visibility: str = LIBRARY["visibility"].default


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    kind: str
    url: str
    schedule: str = SOURCE["schedule"].default
    tags: tuple[str, ...] = ()
    enabled: bool = SOURCE["enabled"].default
    visibility: str = SOURCE["visibility"].default
    # The settings of its kind (select, follow, fetch_full, ...): config_schema.SOURCE_KINDS.
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Alert:
    name: str
    query: str
    recipients: tuple[str, ...] = ()
    frequency: str = ALERT["frequency"].default
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class SmtpConfig:
    host: str = SMTP["host"].default
    port: int = SMTP["port"].default
    starttls: bool = SMTP["starttls"].default
    ssl: bool = SMTP["ssl"].default
    username: str | None = SMTP["username"].default
    password_env: str | None = SMTP["password_env"].default


@dataclass(frozen=True)
class DigestConfig:
    schedule: str = DIGEST["schedule"].default
    sender: str = DIGEST["from"].default
    smtp: SmtpConfig = SmtpConfig()
    period_days: int = DIGEST["period_days"].default
    send_empty: bool = DIGEST["send_empty"].default


@dataclass(frozen=True)
class LettreProfile:
    """Which new documents enter the lettre's triage queue (none set: every one)."""

    alerts: bool = LETTRE_PROFILE["alerts"].default
    themes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class LettreConfig:
    title: str = LETTRE["title"].default
    first_days: int = LETTRE["first_days"].default
    confirm_days: int = LETTRE["confirm_days"].default
    profile: LettreProfile = LettreProfile()


@dataclass(frozen=True)
class WebConfig:
    base_url: str = WEB["base_url"].default
    trusted_proxies: int = WEB["trusted_proxies"].default
    search_per_minute: int = WEB["search_per_minute"].default


@dataclass(frozen=True)
class SearchConfig:
    engine: str = SEARCH["engine"].default
    optimize: str = SEARCH["optimize"].default    # an interval, a cron string, or "off"


@dataclass(frozen=True)
class ExtractionConfig:
    """Bounds on reading one document (library file or fetched PDF): see indexer.extract."""

    max_file_mb: float = EXTRACTION["max_file_mb"].default
    timeout: float = EXTRACTION["timeout"].default
    max_pages: int = EXTRACTION["max_pages"].default
    ocr: bool = EXTRACTION["ocr"].default
    ocr_languages: str = EXTRACTION["ocr_languages"].default
    ocr_max_pages: int = EXTRACTION["ocr_max_pages"].default
    ocr_timeout: float = EXTRACTION["ocr_timeout"].default


@dataclass(frozen=True)
class Config:
    path: Path
    data_dir: Path
    timezone: str = ROOT["timezone"].default
    http: HttpConfig = HttpConfig()
    library: tuple[LibraryFolder, ...] = ()
    sources: tuple[Source, ...] = ()
    alerts: tuple[Alert, ...] = ()
    digest: DigestConfig = DigestConfig()
    lettre: LettreConfig = LettreConfig()
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


# ---------------------------------------------------------------- reading against the schema

MISSING = object()   # a required key absent or unreadable: its list item is left out


def read_section(reader: Reader, section: Section, node: yaml.Node | None, key: str,
                 top: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The values of a table, by key, defaults filled in; None if `node` is not a table.

    `top` holds the top-level values read so far, for rules that look across sections.
    """
    items = {} if node is None else reader.mapping(node, key)
    if items is None:
        return None
    return read_items(reader, section, items, node, key, top)


def read_items(reader: Reader, section: Section, items: Items, node: yaml.Node | None, key: str,
               top: dict[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if top is None:   # reading the top level: rules look at its values as they are read
        top = values
    for setting in section.settings:
        fallback = section.kind_defaults.get(values.get("kind"), {}).get(setting.key)
        if fallback is not None and setting.key not in items:
            values[setting.key] = fallback
            continue
        values[setting.key] = read_setting(reader, setting, items, node, key, top)
    allowed = list(section.keys())
    if section.kinds:
        kind = section.kinds.get(values["kind"])
        values["options"] = {} if kind is None else {
            s.key: read_setting(reader, s, items, node, key, top) for s in kind.settings}
        # with the kind unknown or missing, typos are still caught against every kind's settings
        allowed += [k for options in ([kind] if kind else section.kinds.values()) for k in options.keys()]
    for name, reason in section.refused.items():
        if name in items:
            reader.error(items[name][0], join(key, name), reason)
    reader.unknown_keys(items, allowed + list(section.refused), key)
    if complete(values):
        for rule in section.rules:
            for name, problem in rule(values, top):
                reader.error(items[name][1] if name in items else node, join(key, name), problem)
    return values


def read_setting(reader: Reader, setting: Setting, items: Items, parent: yaml.Node | None, key: str,
                 top: dict[str, Any]) -> Any:
    """The value of one key of a table, checked; its default if absent or unreadable."""
    if setting.key not in items:
        if setting.required:
            reader.error(parent, key, f"clé {quoted(setting.key)} manquante")
            return MISSING
        return default_value(setting)
    node = items[setting.key][1]
    path = join(key, setting.key)
    kind = setting.type
    if isinstance(kind, Section):
        values = read_section(reader, kind, node, path, top)
        if values is None or not complete(values):
            return MISSING if setting.required else default_value(setting)
        return values
    if isinstance(kind, ListOf):
        return read_list(reader, kind, node, path, top)
    if kind == STRINGS:
        values = []
        for item_key, value, item in reader.strings(node, path):
            problem = _problem(setting, value)
            if problem:
                reader.error(item, item_key, problem)
            values.append(value)
        return tuple(values)
    value = reader.scalar(node, path, kind)
    if value == "":   # an empty text means the default, or is a mistake where none exists
        if setting.required:
            reader.error(node, path, "ne doit pas être vide")
        value = None
    if value is None:
        return MISSING if setting.required else default_value(setting)
    problem = _problem(setting, value)
    if problem:
        reader.error(node, path, problem)
    return value


def complete(values: dict[str, Any]) -> bool:
    """Whether every required key of a table (and of its kind's options) has a value."""
    return MISSING not in values.values() and MISSING not in values.get("options", {}).values()


def _problem(setting: Setting, value: Any) -> str | None:
    for check in setting.check:
        problem = check(value)
        if problem:
            return problem
    return None


def read_list(reader: Reader, of: ListOf, node: yaml.Node, key: str, top: dict[str, Any]) -> tuple:
    """The items of a list of tables; an item missing a required key is left out."""
    values = []
    seen: dict[str, str] = {}
    for i, item in enumerate(reader.sequence(node, key) or []):
        item_key = f"{key}[{i}]"
        items = reader.mapping(item, item_key)
        if items is None:
            continue
        item_values = read_items(reader, of.section, items, item, item_key, top)
        if not complete(item_values):
            continue
        if of.unique:
            name = item_values[of.unique]
            folded = name.casefold() if of.casefold else name
            if folded in seen:
                reader.error(items[of.unique][1], join(item_key, of.unique),
                             f"nom {quoted(name)} déjà pris par {seen[folded]}")
                continue
            seen[folded] = item_key
        values.append(item_values)
    return tuple(values)


def default_value(setting: Setting) -> Any:
    if isinstance(setting.type, Section):
        return {s.key: default_value(s) for s in setting.type.settings}
    if isinstance(setting.type, ListOf):
        return ()
    return setting.default


# ---------------------------------------------------------------- records from values


def _record(cls: type, section: Section, values: Mapping[str, Any], **fields: Any) -> Any:
    plain = {s.name: values[s.key] for s in section.settings if not isinstance(s.type, Section)}
    return cls(**{**plain, **fields})


def _source(values: Mapping[str, Any]) -> Source:
    options = {name: (MappingProxyType({k: v for k, v in value.items() if v is not None})
                      if isinstance(value, dict) else value)
               for name, value in values["options"].items() if value is not None}
    return Source(name=values["name"], title=values["title"] or values["name"], kind=values["kind"],
                  url=values["url"], schedule=values["schedule"], tags=values["tags"],
                  enabled=values["enabled"], visibility=values["visibility"],
                  options=MappingProxyType(options))


def _alert(values: Mapping[str, Any]) -> Alert:
    filters = {name: value for name, value in values["filters"].items() if value}
    return Alert(name=values["name"], query=values["query"], recipients=values["recipients"],
                 frequency=values["frequency"], filters=MappingProxyType(filters))


def parse_config(text: str, path: Path) -> Config:
    """Validate the YAML `text` read from `path`; raise ConfigError listing every problem."""
    reader = Reader(path.name)
    values = read_section(reader, ROOT, compose(text, path.name), "") or {}
    if reader.problems:
        raise ConfigError(reader.sorted_problems())
    base = path.parent
    digest = values["digest"]
    return Config(
        path=path.resolve(), data_dir=(base / values["data_dir"]).resolve(),
        timezone=values["timezone"], http=_record(HttpConfig, HTTP, values["http"]),
        library=tuple(LibraryFolder(name=v["name"], path=(base / v["path"]).resolve(),
                                    visibility=v["visibility"]) for v in values["library"]),
        sources=tuple(_source(v) for v in values["sources"]),
        alerts=tuple(_alert(v) for v in values["alerts"]),
        digest=_record(DigestConfig, DIGEST, digest, smtp=_record(SmtpConfig, SMTP, digest["smtp"])),
        lettre=_record(LettreConfig, LETTRE, values["lettre"],
                       profile=_record(LettreProfile, LETTRE_PROFILE, values["lettre"]["profile"])),
        web=_record(WebConfig, WEB, values["web"]), search=_record(SearchConfig, SEARCH, values["search"]),
        extraction=_record(ExtractionConfig, EXTRACTION, values["extraction"]))


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the configuration from `path`, `$VEILLE_CONFIG` or ./sources.yaml."""
    path = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: fichier de configuration introuvable"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path.name}:1: ce n'est pas du texte UTF-8 ({exc.reason})"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: lecture impossible : {os_error_reason(exc)}"]) from None
    return parse_config(text, path)


def replace_data_dir(config: Config, data_dir: Path) -> Config:
    """The same configuration writing to another data directory (tests, demo)."""
    return replace(config, data_dir=Path(data_dir).resolve())
