"""`legifrance` sources: the Journal officiel through the official Légifrance API (PISTE).

Légifrance publishes no feed; its API does. A run:
1. gets an OAuth2 token (client credentials read from the environment variables the source
   names in `client_id_env` / `client_secret_env`; never from sources.yaml);
2. lists the last JO issues (`POST consult/lastNJo {"nbElement": N}`) and keeps those
   published since the source's last successful run;
3. reads each issue's table of contents (`POST consult/jorfCont {"id", "pageNumber",
   "pageSize"}`), keeps the texts whose nature and emitter pass the source's filters;
4. fetches each new text (`POST consult/jorf {"textCid"}`), keeps it if a keyword matches,
   and stores it as a catalog document of kind `juridique` linked to its Légifrance page.

Response parsing is pure (`parse_*` functions on decoded JSON); `crawl(ctx)` does the I/O
through the shared fetcher, so politeness, retries and backoff are the same as every source.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urlencode

from indexer.enrich.legal import fold, nature_label
from indexer.enrich.legal_vocabulary import LEGIFRANCE
from veille.core.records import KIND_LEGAL, Document, content_hash, document_id
from watch.errors import HttpError, ParseError, WatchError
from watch.text import html_to_text

log = logging.getLogger(__name__)

# JO sections that hold no regulation: their texts are never watched.
SKIPPED_SECTIONS = ("mesures nominatives", "informations parlementaires", "annonces",
                    "avis et communications", "conventions collectives")
# Section titles that group texts without naming who issued them.
GENERIC_SECTIONS = ("lois", "ordonnances", "decrets", "decrets, arretes, circulaires",
                    "textes generaux", "arretes", "circulaires", "decisions")
TEXT_PAGE = LEGIFRANCE + "/jorf/id/{cid}"


class CredentialsError(WatchError):
    """PISTE credentials are missing or refused: the source cannot run until someone acts."""

    code = "credentials"


# ------------------------------------------------------------------ records


@dataclass(frozen=True)
class JoIssue:
    """One issue of the Journal officiel (a JORF container)."""

    id: str                      # JORFCONT...
    title: str                   # "JORF n°0294 du 5 décembre 2020"
    published: date | None
    eli: str = ""


@dataclass(frozen=True)
class JoEntry:
    """A text listed in an issue's table of contents."""

    id: str                      # JORFTEXT...
    title: str
    nature: str = ""             # as the API says: LOI, DECRET, ARRETE ...
    emitter: str = ""            # ministry or authority
    section: str = ""            # the JO section it sits in ("Textes généraux")


@dataclass(frozen=True)
class JorfText:
    """A text of the Journal officiel as `consult/jorf` returns it."""

    cid: str
    title: str
    nature: str = ""
    nor: str = ""
    eli: str = ""
    eli_alias: str = ""
    issue: str = ""              # "JORF n°0302 du 15 décembre 2020"
    published: date | None = None
    text: str = ""               # plain full text: visas, articles in order, signatures
    ministry: str = ""

    @property
    def url(self) -> str:
        return TEXT_PAGE.format(cid=self.cid)


@dataclass(frozen=True)
class Filters:
    """A source's filters; an empty tuple lets everything through."""

    natures: tuple[str, ...] = ()
    emitters: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> "Filters":
        return cls(tuple(options.get("natures", ())), tuple(options.get("emitters", ())),
                   tuple(options.get("keywords", ())))

    def entry_passes(self, entry: JoEntry) -> bool:
        """Nature and emitter, known from the table of contents: decided before any fetch."""
        if self.natures and fold(entry.nature) not in {fold(n) for n in self.natures}:
            return False
        if self.emitters:
            emitter = fold(entry.emitter)
            return any(fold(e) in emitter for e in self.emitters)
        return True

    def text_passes(self, text: JorfText) -> bool:
        if not self.keywords:
            return True
        haystack = " ".join(fold(f"{text.title}\n{text.text}").split())
        return any(" ".join(fold(k).split()) in haystack for k in self.keywords)


# ------------------------------------------------------------------ parsing (pure)


def epoch_ms_date(value: Any) -> date | None:
    """The API's dates are milliseconds since 1970 at UTC midnight of the day meant."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc).date()
    except (OverflowError, OSError, ValueError):
        return None


def _json(body: bytes | str, what: str) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"réponse de l'API Légifrance illisible ({what}) : {exc}") from None
    if not isinstance(data, dict):
        raise ParseError(f"réponse inattendue de l'API Légifrance ({what}) : pas un objet JSON")
    return data


def parse_token(body: bytes | str) -> tuple[str, int]:
    """(access token, lifetime in seconds) from the OAuth2 token endpoint's answer."""
    data = _json(body, "jeton")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise CredentialsError("le serveur d'authentification PISTE n'a pas donné de jeton")
    expires = data.get("expires_in")
    return token, int(expires) if isinstance(expires, (int, float)) else 3600


def parse_last_n_jo(body: bytes | str) -> list[JoIssue]:
    """The issues listed by `consult/lastNJo`, newest first."""
    data = _json(body, "consult/lastNJo")
    containers = data.get("containers")
    if not isinstance(containers, list):
        raise ParseError("réponse de consult/lastNJo sans liste « containers »")
    issues = []
    for item in containers:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            issues.append(JoIssue(id=item["id"], title=str(item.get("titre") or item["id"]),
                                  published=epoch_ms_date(item.get("datePubli")),
                                  eli=str(item.get("idEli") or "")))
    issues.sort(key=lambda i: i.published or date.min, reverse=True)
    return issues


def parse_jo_container(body: bytes | str) -> list[JoEntry]:
    """Every text of an issue's table of contents (`consult/jorfCont`), in JO order."""
    data = _json(body, "consult/jorfCont")
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError("réponse de consult/jorfCont sans liste « items »")
    entries: list[JoEntry] = []
    for item in items:
        container = (item or {}).get("joCont") or {}
        structure = container.get("structure") or {}
        for step in structure.get("tms") or ():
            entries.extend(_walk(step, ()))
    return list({e.id: e for e in entries}.values())


def _walk(step: dict, parents: tuple[str, ...]) -> Iterator[JoEntry]:
    title = str(step.get("titre") or "").strip()
    path = (*parents, title) if title else parents
    if any(fold(t) in SKIPPED_SECTIONS for t in path):
        return
    for link in step.get("liensTxt") or ():
        if isinstance(link, dict) and isinstance(link.get("id"), str):
            emitter = link.get("emetteur") or link.get("ministere") or _emitter_of(path)
            yield JoEntry(id=link["id"], title=str(link.get("titre") or link["id"]).strip(),
                          nature=str(link.get("nature") or ""), emitter=str(emitter or ""),
                          section=path[-1] if path else "")
    for child in step.get("tms") or ():
        yield from _walk(child, path)


def _emitter_of(path: tuple[str, ...]) -> str:
    """The nearest section title that names an issuer ("Ministère des outre-mer")."""
    for title in reversed(path):
        if fold(title) not in GENERIC_SECTIONS:
            return title
    return ""


def parse_jorf_text(body: bytes | str) -> JorfText:
    """A text from `consult/jorf`: metadata and the full text in reading order."""
    data = _json(body, "consult/jorf")
    cid = data.get("cid") or str(data.get("id") or "").split("_")[0]
    if not isinstance(cid, str) or not cid.startswith("JORFTEXT"):
        raise ParseError("réponse de consult/jorf sans identifiant JORFTEXT")
    parts = [data.get("visa") or "", *(_article_html(data)), data.get("signers") or "",
             data.get("notice") or "", data.get("nota") or ""]
    text = "\n\n".join(t for t in (_html_text(p) for p in parts) if t)
    return JorfText(
        cid=cid, title=" ".join(str(data.get("title") or cid).split()),
        nature=str(data.get("nature") or ""), nor=str(data.get("nor") or ""),
        eli=str(data.get("eli") or ""), eli_alias=str(data.get("alias") or ""),
        issue=str(data.get("jorfText") or ""), published=epoch_ms_date(data.get("dateParution")),
        text=text, ministry=str(data.get("ministere") or data.get("emetteur") or ""))


def _article_html(node: dict) -> Iterator[str]:
    """Section titles and article contents, ordered as in the text (`intOrdre`)."""
    children = [("article", a) for a in node.get("articles") or ()]
    children += [("section", s) for s in node.get("sections") or ()]
    children.sort(key=lambda c: c[1].get("intOrdre") or 0)
    for what, child in children:
        if what == "section":
            if child.get("title"):
                yield f"<p>{child['title']}</p>"
            yield from _article_html(child)
        else:
            number = child.get("num")
            heading = f"<p>Article {number}</p>" if number else ""
            yield heading + (child.get("content") or "")


def _html_text(html: str) -> str:
    return html_to_text(html) if html.strip() else ""


def to_document(text: JorfText, source: str, now: datetime, entry: JoEntry | None = None,
                tags: Iterable[str] = ()) -> Document:
    """The catalog document of a JO text: kind `juridique`, doc_type its nature, linked to Légifrance."""
    ministry = text.ministry or (entry.emitter if entry else "")
    nature = text.nature or (entry.nature if entry else "")
    summary = " — ".join(p for p in (ministry, text.issue, f"NOR : {text.nor}" if text.nor else "") if p)
    extra = {"tags": list(tags), "jorftext": text.cid, "nature": nature, "nor": text.nor,
             "eli": text.eli, "eli_alias": text.eli_alias, "jo": text.issue, "ministry": ministry}
    return Document(
        id=document_id(text.url), title=text.title, source=source, kind=KIND_LEGAL,
        first_seen=now, updated=now, url=text.url, summary=summary, content=text.text,
        # a JO date is a day, not an instant: noon UTC is the same day in Paris and Martinique
        published=datetime.combine(text.published, time(12), tzinfo=timezone.utc) if text.published else None,
        content_hash=content_hash(" ".join(f"{text.title}\n{text.text}".split()).lower()),
        doc_type=nature_label(nature), authors=(ministry,) if ministry else (),
        extra=MappingProxyType({k: v for k, v in extra.items() if v}))


def issues_since(issues: list[JoIssue], last_success: datetime | None, limit: int) -> list[JoIssue]:
    """The issues to read: those published since the day before the last success (an issue
    can be put online late in its day), at most `limit`, newest first."""
    if last_success is not None:
        since = last_success.date() - timedelta(days=1)
        issues = [i for i in issues if i.published is None or i.published >= since]
    return issues[:limit]


# ------------------------------------------------------------------ the run (I/O)


class _Api:
    """Calls to the Légifrance API with one token per run, renewed once if it expires."""

    def __init__(self, ctx, client_id: str, client_secret: str):
        self.ctx = ctx
        self.base = ctx.source_url.rstrip("/")
        self.token_url = ctx.source.options["token_url"]
        self._credentials = (client_id, client_secret)
        self._token: str | None = None

    def _authenticate(self) -> str:
        client_id, client_secret = self._credentials
        form = urlencode({"grant_type": "client_credentials", "client_id": client_id,
                          "client_secret": client_secret, "scope": "openid"}).encode()
        try:
            result = self.ctx.fetcher.post(self.token_url, form, "application/x-www-form-urlencoded",
                                           accept="application/json")
        except HttpError as exc:
            if exc.status in (400, 401, 403):
                raise CredentialsError(
                    f"identifiants PISTE refusés par {self.token_url} (HTTP {exc.status})", url=self.token_url,
                    hint="vérifier les variables d'environnement et l'abonnement de l'application à l'API Légifrance") from None
            raise
        token, _ = parse_token(result.body)
        return token

    def call(self, endpoint: str, payload: dict) -> bytes:
        if self._token is None:
            self._token = self._authenticate()
        url = f"{self.base}/{endpoint}"
        body = json.dumps(payload).encode()
        for attempt in (1, 2):
            try:
                result = self.ctx.fetcher.post(url, body, "application/json", accept="application/json",
                                               headers={"Authorization": f"Bearer {self._token}"})
            except HttpError as exc:
                self.ctx.http_status = exc.status
                if exc.status == 401 and attempt == 1:  # the token expired mid-run: one new token
                    self._token = self._authenticate()
                    continue
                if exc.status in (401, 403):
                    raise CredentialsError(f"l'API Légifrance refuse l'accès à {endpoint} (HTTP {exc.status})",
                                           url=url, hint="l'application PISTE est-elle abonnée à l'API Légifrance ?") from None
                raise
            self.ctx.http_status = result.status
            return result.body
        raise AssertionError("unreachable")


def credentials(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """The PISTE client id and secret from the environment variables the source names."""
    names = (options["client_id_env"], options["client_secret_env"])
    values = [environ.get(name, "").strip() for name in names]
    missing = [name for name, value in zip(names, values) if not value]
    if missing:
        raise CredentialsError(
            f"identifiants PISTE absents : variable(s) d'environnement {', '.join(missing)} non définie(s)",
            hint="créer une application sur piste.gouv.fr, l'abonner à l'API Légifrance et exporter ces variables")
    return values[0], values[1]


def crawl(ctx) -> None:
    """Crawl a `legifrance` source (`ctx` is a watch.crawler.CrawlContext)."""
    options = ctx.source.options
    api = _Api(ctx, *credentials(options))
    filters = Filters.of(options)
    last = ctx.catalog.source_state.get(ctx.source.name).last_success
    limit = int(options.get("max_issues") or 10)
    issues = issues_since(parse_last_n_jo(api.call("consult/lastNJo", {"nbElement": limit})), last, limit)
    for issue in issues:
        entries = parse_jo_container(api.call("consult/jorfCont", {"id": issue.id, "pageNumber": 1, "pageSize": 10}))
        for entry in entries:
            if not filters.entry_passes(entry):
                continue
            if ctx.catalog.documents.get(document_id(TEXT_PAGE.format(cid=entry.id))) is not None:
                ctx.counts.add("unchanged")  # a JO text never changes once published
                continue
            try:
                # the text's HTML is read in the crawl's bounded worker, as any fetched page
                text = ctx.reader.parse(parse_jorf_text, api.call("consult/jorf", {"textCid": entry.id}),
                                        url=TEXT_PAGE.format(cid=entry.id))
            except ParseError as exc:
                ctx.warnings.append(f"{entry.id} : {exc}")
                continue
            if filters.text_passes(text):
                ctx.store(to_document(text, ctx.source.name, ctx.now, entry, ctx.source.tags))
