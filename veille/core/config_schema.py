"""What `sources.yaml` may hold, declared once: every key with its type, default, checks and doc.

Each section is a table of `Setting(key, type, default, help, check=...)`. The loader
(veille.core.config) validates against it, the records take their defaults from it, and
tests/test_docs.py holds the README's configuration table to it. A source's own options are
declared per kind in `SOURCE_KINDS`; the checks on one value are in config_checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping

from veille.core.config_checks import (Check, at_least, at_most, between, css_selector, email_address,
                                       env_name, fold, greater_than, http_url, iso_date, no_line_break,
                                       not_negative, ocr_languages, one_of, schedule, schedule_or_off,
                                       sender_address, slug, source_url, time_zone)
from veille.core.config_yaml import did_you_mean, quoted
from veille.core.facets import ALERT_FILTERS
from veille.core.records import (ALERT_FREQUENCIES, FREQUENCY_WEEKLY, KINDS, VISIBILITIES, VISIBILITY_INTERNAL,
                                 VISIBILITY_PUBLIC)

# A check across the keys of one section: given its values and the top-level values read so
# far, yields (key, problem) pairs.
Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], Iterable[tuple[str, str]]]

STRINGS = tuple[str, ...]   # a list of strings; a single string is a one-item list


@dataclass(frozen=True)
class Setting:
    key: str                  # as written in sources.yaml
    type: Any                 # str, int, float, bool, STRINGS, a Section (a table) or a ListOf
    default: Any = None       # None: no value unless given
    help: str = ""            # the README's "meaning" column
    check: Check | tuple[Check, ...] = ()   # for STRINGS, applied to each item
    required: bool = False
    field: str = ""           # the record's field, when not `key`
    shown_default: str = ""   # the README's "default" column, when the value says too little

    def __post_init__(self) -> None:
        if callable(self.check):
            object.__setattr__(self, "check", (self.check,))

    @property
    def name(self) -> str:
        return self.field or self.key

    @property
    def documented_default(self) -> str:
        """The default as the README's table writes it."""
        if self.required:
            return "required"
        if self.shown_default:
            return self.shown_default
        if self.default is None or self.default == ():
            return "none"
        if isinstance(self.default, bool):
            return "`true`" if self.default else "`false`"
        if isinstance(self.default, float) and self.default.is_integer():
            return f"`{int(self.default)}`"
        return f"`{self.default}`"


@dataclass(frozen=True)
class Section:
    """A table of settings: a top-level section, a list item or a nested table."""

    settings: tuple[Setting, ...]
    rules: tuple[Rule, ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)   # keys refused with a reason
    # Extra settings per value of the `kind` key, read into the `options` value.
    kinds: Mapping[str, "Section"] = field(default_factory=dict)
    # Values a kind gives to keys of the table left out (kind -> key -> value): a
    # `dila-jorf` source needs no `url`, the DILA's directory being public.
    kind_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Setting:
        for setting in self.settings:
            if setting.key == key:
                return setting
        raise KeyError(key)

    def keys(self) -> tuple[str, ...]:
        return tuple(setting.key for setting in self.settings)


@dataclass(frozen=True)
class ListOf:
    """A list of tables, each read with `section`; no two items share their `unique` key."""

    section: Section
    unique: str = ""
    casefold: bool = False    # names compared regardless of case


# ---------------------------------------------------------------- rules


def _smtp_rules(values: Mapping[str, Any], top: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if values["ssl"] and values["starttls"]:
        yield "starttls", "choisissez ssl (TLS implicite, port 465) ou starttls (port 587), pas les deux"
    if values["password_env"] and not values["username"]:
        yield "password_env", "un mot de passe demande un nom d'utilisateur (digest.smtp.username)"


def _names_known(key: str) -> Rule:
    """A rule: the values of `key` name a source or a library folder (read before)."""

    def rule(values: Mapping[str, Any], top: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        names = [item["name"] for item in (*top.get("library", ()), *top.get("sources", ()))]
        for value in values[key]:
            if value not in names:
                yield key, (f"aucune source ni bibliothèque nommée {quoted(value)}"
                            f"{did_you_mean(value, sorted(names))}")

    return rule


_known_sources = _names_known("source")   # an alert's `source` filter


# ---------------------------------------------------------------- the declaration


VISIBILITY_HELP = (f"who may find its documents: `{VISIBILITY_PUBLIC}` (anyone) or "
                   f"`{VISIBILITY_INTERNAL}` (staff only)")

HTTP = Section((
    Setting("user_agent", str, "Veille/0.1 (+https://github.com/veille; veille documentaire)",
            "sent on every request", check=no_line_break),
    Setting("delay_per_host", float, 1.0, "seconds between two requests to the same server",
            check=not_negative),
    Setting("timeout", float, 30.0, "seconds before a request is abandoned", check=not_negative),
    Setting("allow_private_networks", bool, False,
            "allow URLs resolving to private/loopback addresses (tests, demo)"),
    Setting("max_bytes", int, 50 * 1024 * 1024, "largest response body accepted", check=at_least(1)),
    Setting("retries", int, 3, "retries on 5xx, 429 and connection errors", check=between(0, 10)),
    Setting("concurrency", int, 4, "servers fetched at the same time", check=at_least(1)),
))

LIBRARY = Section((
    Setting("name", str, help="name of a folder of the centre's own documents", required=True),
    Setting("path", str, help="where the folder is (relative to the file)", required=True),
    # the centre's own files may be working documents: shown to staff only unless said otherwise
    Setting("visibility", str, VISIBILITY_INTERNAL, VISIBILITY_HELP, check=one_of(VISIBILITIES)),
))

PAGE_SELECT = Section((
    Setting("item", str, help="CSS selector of one entry of the listing", check=css_selector,
            required=True),
    Setting("link", str, help="CSS selector of the entry's link, inside the entry", check=css_selector,
            required=True),
    Setting("title", str, help="CSS selector of the entry's title", check=css_selector,
            shown_default="the link's text"),
    Setting("date", str, help="CSS selector of the entry's date", check=css_selector),
    Setting("summary", str, help="CSS selector of the entry's summary", check=css_selector),
))

SEARCH_ENGINES = ("whoosh", "tantivy")
# Natures of Journal officiel texts a `legifrance` source may filter on, compared folded.
LEGIFRANCE_NATURES = ("loi", "ordonnance", "decret", "arrete", "circulaire", "decision",
                      "deliberation", "avis", "instruction", "rapport", "liste", "tableau", "annonce")

# The JORF open-data directory of the DILA: public, no registration.
DILA_JORF_URL = "https://echanges.dila.gouv.fr/OPENDATA/JORF/"

SOURCE_KINDS: Mapping[str, Section] = MappingProxyType({
    "feed": Section((
        Setting("fetch_full", bool, False, "follow each entry's link and store the page or document"),
        Setting("max_entries", int, help="most entries read from one feed", check=at_least(1)),
    )),
    "page": Section((
        Setting("select", PAGE_SELECT, required=True),
        Setting("follow", bool, False, "fetch each linked page or PDF"),
        Setting("next", str, help="CSS selector of the next-page link", check=css_selector),
        Setting("max_pages", int, help="most listing pages read in one run, following `next`",
                check=at_least(1),
                shown_default="`1`, or `5` with `next`"),
    )),
    "change": Section((
        Setting("selector", str, help="CSS selector of the part of the page watched",
                check=css_selector, shown_default="whole page"),
    )),
    "legifrance": Section((
        Setting("natures", STRINGS, (), "natures of the Journal officiel texts kept (`loi`, `décret`, "
                "`arrêté`…; accents and case do not matter)",
                check=one_of(LEGIFRANCE_NATURES, fold=fold)),
        Setting("emitters", STRINGS, (),
                "issuing authorities of the texts kept (part of the name is enough)"),
        Setting("keywords", STRINGS, (), "words or phrases, one of which a kept text must contain"),
        Setting("client_id_env", str, "LEGIFRANCE_CLIENT_ID",
                "name of the environment variable holding the PISTE client id", check=env_name),
        Setting("client_secret_env", str, "LEGIFRANCE_CLIENT_SECRET",
                "name of the environment variable holding the PISTE client secret", check=env_name),
        Setting("token_url", str, "https://oauth.piste.gouv.fr/api/oauth/token",
                "PISTE's OAuth token URL", check=http_url),
        Setting("max_issues", int, 10, "most Journal officiel issues read in one run", check=at_least(1)),
    )),
    "dila-jorf": Section((
        Setting("natures", STRINGS, (), "natures of the Journal officiel texts kept (`loi`, `décret`, "
                "`arrêté`…; accents and case do not matter)",
                check=one_of(LEGIFRANCE_NATURES, fold=fold)),
        Setting("ministries", STRINGS, (), "ministries of the texts kept (part of the name is enough)"),
        Setting("keywords", STRINGS, (), "words or phrases, one of which a kept text (or its JO "
                "keywords) must contain"),
        Setting("query", str, help="a search, in the query language of the search box, or the name "
                "of an alert, that a kept text must match"),
        Setting("global_dump", bool, False, "first run only: read the newest global dump "
                "(`Freemium_jorf_global_*.tar.gz`) before the daily deliveries"),
        Setting("since", str, help="texts published before this date (`AAAA-MM-JJ`) are not kept; "
                "deliveries older than it are not read", check=iso_date),
        Setting("until", str, help="texts published after this date (`AAAA-MM-JJ`) are not kept "
                "from the global dump", check=iso_date),
        Setting("max_archives", int, 30, "most archives read in one run (the next run goes on)",
                check=at_least(1)),
        Setting("max_archive_mb", int, 4096, "largest archive downloaded", check=at_least(1)),
        Setting("max_files", int, 5_000_000, "most files read in one archive", check=at_least(1)),
        Setting("max_file_kb", int, 10_240, "largest XML file of an archive read", check=at_least(1)),
        Setting("max_texts", int, 20_000, "most texts kept from one archive", check=at_least(1)),
    )),
})

SOURCE = Section((
    Setting("name", str, help="unique slug (`a-z`, digits, `-`, `_`)", check=slug, required=True),
    Setting("title", str, help="name shown to users", shown_default="the slug"),
    Setting("kind", str, help="`feed`, `page`, `change`, `legifrance` or `dila-jorf`",
            check=one_of(SOURCE_KINDS), required=True),
    Setting("url", str, help="http(s) address of the feed, page or API (`dila-jorf`: the JORF "
            "open-data directory, the DILA's when left out); `${NAME}` in it is replaced by the "
            "environment variable NAME when fetching (credentials, API keys), and passwords and "
            "keys are masked wherever the address is shown",
            check=source_url, required=True),
    Setting("schedule", str, "6h", "an interval (`30m`, `6h`, `1d`) or a 5-field cron string",
            check=schedule),
    Setting("tags", STRINGS, (), "labels; a document kind among them (`juridique`, `actualité`, "
            "`publication`) sets the kind of its documents"),
    Setting("enabled", bool, True, "`false` keeps a source listed but not crawled"),
    Setting("visibility", str, VISIBILITY_PUBLIC, VISIBILITY_HELP, check=one_of(VISIBILITIES)),
), kinds=SOURCE_KINDS, kind_defaults=MappingProxyType({"dila-jorf": {"url": DILA_JORF_URL}}))

_FILTER_CHECKS: Mapping[str, Check] = {"kind": one_of(KINDS)}
ALERT_FILTER_SECTION = Section(tuple(
    Setting(name, STRINGS, (), f"the alert only finds documents with one of these `{name}` values",
            check=_FILTER_CHECKS.get(name, ()))
    for name in ALERT_FILTERS
), rules=(_known_sources,))

ALERT = Section((
    Setting("name", str, help="name of a saved search for the weekly digest", required=True),
    Setting("query", str, help="the search, in the query language of the search box", required=True),
    Setting("recipients", STRINGS, (), "e-mail addresses it is sent to", check=email_address),
    Setting("frequency", str, FREQUENCY_WEEKLY, "`weekly`: in the digest, on `digest.schedule`; "
            "`immediate`: an e-mail as soon as a crawl finds a matching document (one per crawl, "
            "at most one per source per hour)", check=one_of(ALERT_FREQUENCIES)),
    Setting("filters", ALERT_FILTER_SECTION),
))

SMTP = Section((
    Setting("host", str, "localhost", "SMTP server"),
    Setting("port", int, 25, "its port", check=between(1, 65535)),
    Setting("starttls", bool, False, "upgrade the connection with STARTTLS (port 587)"),
    Setting("ssl", bool, False, "implicit TLS (port 465)"),
    Setting("username", str, help="login, if the server asks for one"),
    Setting("password_env", str, help="name of the environment variable holding the password, "
            "never written in the file", check=env_name),
), rules=(_smtp_rules,), refused=MappingProxyType({
    "password": "les mots de passe ne sont jamais écrits dans ce fichier : "
                "nommez une variable d'environnement avec password_env",
}))

DIGEST = Section((
    Setting("schedule", str, "0 7 * * mon", "when the digest is sent: an interval or a cron string, "
            "in `timezone`", check=schedule),
    Setting("from", str, "veille@localhost", "sender address, e.g. `Veille <veille@example.org>`",
            field="sender", check=(no_line_break, sender_address)),
    Setting("smtp", SMTP),
    Setting("period_days", int, 7, "how far back a recipient's first digest looks",
            check=(at_least(1), at_most(366))),   # a longer period would make a useless digest
    Setting("send_empty", bool, False, "send a one-line « rien de nouveau » e-mail when nothing is new"),
))

LETTRE_PROFILE = Section((
    Setting("alerts", bool, True, "documents found by an alert enter the lettre's triage queue"),
    Setting("themes", STRINGS, (), "documents with one of these themes enter the triage queue"),
    Setting("sources", STRINGS, (), "documents of these sources or library folders enter the triage queue"),
), rules=(_names_known("sources"),))

LETTRE = Section((
    Setting("title", str, "Lettre de veille", "name of the lettre, in its e-mails and pages",
            check=no_line_break),
    Setting("first_days", int, 30, "how far back the first issue's triage queue looks (later ones: "
            "since the last issue)", check=(at_least(1), at_most(366))),
    Setting("confirm_days", int, 7, "days a subscription request waits for its confirmation link "
            "to be used before it expires", check=(at_least(1), at_most(90))),
    Setting("profile", LETTRE_PROFILE),
))

WEB = Section((
    Setting("base_url", str, "http://localhost:5000", "public address used in e-mails and feeds",
            check=http_url),
    Setting("trusted_proxies", int, 0, "reverse proxies in front of Veille whose `X-Forwarded-For` "
            "and `X-Forwarded-Proto` are believed (1 behind one nginx or Caddy); 0 trusts no header",
            check=between(0, 5)),
    Setting("search_per_minute", int, 60, "searches (pages, API, feeds) an anonymous client address "
            "may make per minute; staff are not limited; 0 turns the limit off", check=not_negative),
))

SEARCH = Section((
    Setting("engine", str, "tantivy", "`tantivy` (the default) or `whoosh` (pure Python, slower on large "
            "collections); after a change, `veille index --rebuild`", check=one_of(SEARCH_ENGINES)),
    Setting("optimize", str, "0 3 * * sun", "when `veille run` has the engine merge the index's "
            "segments and collect the files merges replaced: an interval, a cron string, or `off`",
            check=schedule_or_off),
))

EXTRACTION = Section((
    Setting("max_file_mb", float, 100.0, "larger files are listed, with the reason, but not read",
            check=greater_than(0)),
    Setting("timeout", float, 120.0, "seconds of text extraction per document, in a worker "
            "process; a stuck file is cut off and the rest goes on", check=greater_than(0)),
    Setting("max_pages", int, 3000, "PDF pages read per document; the document notes when it was cut",
            check=greater_than(0)),
    Setting("ocr", bool, True, "read scanned PDF pages and images (PNG, JPEG, TIFF) by optical character "
            "recognition, where OCRmyPDF and Tesseract are installed (`veille check` says when not)"),
    Setting("ocr_languages", str, "fra+eng", "Tesseract languages of the recognition, joined by `+`",
            check=ocr_languages),
    Setting("ocr_max_pages", int, 100, "scanned pages recognised per document; the document notes when "
            "it was cut", check=greater_than(0)),
    Setting("ocr_timeout", float, 900.0, "seconds of character recognition per document, on top of "
            "`timeout`; beyond, it is cut off and the rest goes on", check=greater_than(0)),
))

# Read in this order: alerts' filters name sources and library folders read before them.
ROOT = Section((
    Setting("data_dir", str, "index", "where the index, the catalog and stored copies live "
            "(relative to the file)"),
    Setting("timezone", str, "America/Martinique", "time zone for schedules, dates and digests",
            check=time_zone),
    Setting("http", HTTP),
    Setting("library", ListOf(LIBRARY, unique="name")),
    Setting("sources", ListOf(SOURCE, unique="name")),
    Setting("alerts", ListOf(ALERT, unique="name", casefold=True)),
    Setting("digest", DIGEST),
    Setting("lettre", LETTRE),
    Setting("web", WEB),
    Setting("search", SEARCH),
    Setting("extraction", EXTRACTION),
))


def documented_settings(section: Section = ROOT, parent: str = "",
                        kind: str = "") -> Iterator[tuple[str, str, Setting]]:
    """(path, source kind or "", setting) of every key holding a value, as the README lists
    them: `http.timeout`, `sources[].select.item` (kind `page`)."""
    for setting in section.settings:
        path = f"{parent}.{setting.key}" if parent else setting.key
        if isinstance(setting.type, Section):
            yield from documented_settings(setting.type, path, kind)
        elif isinstance(setting.type, ListOf):
            yield from documented_settings(setting.type.section, path + "[]", kind)
        else:
            yield path, kind, setting
    for name, options in section.kinds.items():
        yield from documented_settings(options, parent, name)


def all_keys(section: Section = ROOT) -> set[str]:
    """Every key a sources.yaml may hold, at any depth (for tests generating documents)."""
    keys = set(section.keys()) | set(section.refused)
    for options in section.kinds.values():
        keys |= all_keys(options)
    for setting in section.settings:
        inner = setting.type.section if isinstance(setting.type, ListOf) else setting.type
        if isinstance(inner, Section):
            keys |= all_keys(inner)
    return keys
