"""The optional metadata file of a library folder: titles, authors, dates, themes, types.

A library folder may hold `metadata.csv` (or `metadata.yaml` / `metadata.yml`) at its top.
It describes files by their path relative to the folder; what it says wins over what
extraction found. Every column is optional except the file's path.

metadata.csv — one row per file, `,` or `;` separated (as Excel saves it), UTF-8 or
Windows-1252; headers in French or English, case and accents ignored:

    fichier;titre;auteurs;date;thèmes;territoires;type;résumé
    guides/participation.pdf;Guide de la participation;Ville de Fort-de-France;2023-05-12;Participation des habitants;Fort-de-France;guide;
    cr/copil-2024-02.docx;COPIL du contrat de ville;;08/02/2024;Politique de la ville;CACEM;compte-rendu;Relevé de décisions

    fichier (file, path)   required   the file, relative to the library folder, with "/"
    titre (title)                     the title shown and searched
    auteurs (authors)                 several separated by ";" (or "|" in a ";" file)
    date                              2024-02-08, 08/02/2024 or 2024
    thèmes (themes)                   several separated by ";" (or "|")
    territoires (territories)         several separated by ";" (or "|")
    type (doc_type)                   guide, fiche d'expérience, compte-rendu, étude, rapport...
    résumé (summary)                  a short summary shown in results
    visibilité (visibility)           public (anyone) or interne (staff only); empty: the
                                      folder's `visibility` in sources.yaml
    code                              for an article of a code, the code's name
                                      (« code de l'urbanisme »); else its folder or heading says it

metadata.yaml — a mapping from the file's path to the same keys in English:

    guides/participation.pdf:
      title: Guide de la participation
      authors: [Ville de Fort-de-France]
      date: 2023-05-12
      themes: [Participation des habitants]
      doc_type: guide
      visibility: public

Problems (unknown column, unreadable date, a line for a file that does not exist) are
reported with the file name and line, in French, and the rest of the file still applies.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import yaml

from indexer.extract.common import LOCAL_TZ, parse_date
from indexer.enrich.thesaurus import fold_accents
from veille.core.dates import calendar_date
from veille.core.config_yaml import yaml_problem
from veille.core.errors import os_error_reason
from veille.core.records import VISIBILITIES

SIDECAR_NAMES = ("metadata.csv", "metadata.yaml", "metadata.yml")


@dataclass(frozen=True)
class SidecarEntry:
    path: str
    title: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    themes: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    doc_type: str = ""
    summary: str = ""
    visibility: str = ""            # "" when the folder's setting applies
    code: str = ""                  # the code an article belongs to

    def digest(self) -> str:
        """A short hash of what the entry says, to notice when it changes."""
        data = json.dumps(asdict(self), ensure_ascii=False, default=str, sort_keys=True)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Sidecar:
    name: str                                   # file name, "" when the folder has none
    entries: dict                               # path (NFC) -> SidecarEntry
    problems: tuple[str, ...] = ()


NO_SIDECAR = Sidecar(name="", entries={})

# header (folded: no accents, lower case) -> field
_COLUMNS = {
    "fichier": "path", "file": "path", "path": "path", "chemin": "path", "nom du fichier": "path",
    "titre": "title", "title": "title",
    "auteurs": "authors", "auteur": "authors", "authors": "authors", "author": "authors",
    "date": "date", "date de publication": "date", "published": "date", "annee": "date",
    "themes": "themes", "theme": "themes", "thematiques": "themes", "thematique": "themes",
    "territoires": "territories", "territoire": "territories", "territories": "territories",
    "type": "doc_type", "doc_type": "doc_type", "type de document": "doc_type",
    "resume": "summary", "summary": "summary", "description": "summary",
    "visibilite": "visibility", "visibility": "visibility", "acces": "visibility",
    "code": "code",
}
_YAML_KEYS = ("title", "authors", "date", "themes", "territories", "doc_type", "summary", "visibility", "code")
_YEAR = re.compile(r"^(1[89]\d\d|2[01]\d\d)$")


def normalize_path(path: str) -> str:
    """A sidecar or library path in one canonical form: NFC, "/" separators, no "./"."""
    import unicodedata

    path = unicodedata.normalize("NFC", path.strip().replace("\\", "/"))
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return "/".join(parts)


def _date(value) -> tuple[datetime | None, bool]:
    """(date, understood). YAML gives dates as objects; CSV as text; "2023" is a year."""
    if value in (None, ""):
        return None, True
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)), True
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=LOCAL_TZ), True
    text = str(value).strip()
    if _YEAR.match(text):
        return datetime(int(text), 1, 1, tzinfo=LOCAL_TZ), True
    parsed = parse_date(text)
    return parsed, parsed is not None


def _split(value, separators: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = re.split(f"[{re.escape(separators)}]", str(value))
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))


def _entry(path: str, values: dict, separators: str, where: str, problems: list[str]) -> SidecarEntry | None:
    path = normalize_path(path)
    if not path:
        problems.append(f"{where} : chemin du fichier manquant")
        return None
    published, understood = _date(values.get("date"))
    if not understood:
        problems.append(f"{where} : date illisible « {values.get('date')} » (attendu 2024-02-08, 08/02/2024 ou 2024)")
    visibility = fold_accents(str(values.get("visibility") or "")).strip().lower()
    if visibility and visibility not in VISIBILITIES:
        problems.append(f"{where} : visibilité « {values.get('visibility')} » inconnue (public ou interne) ;"
                        " celle du dossier s'applique")
        visibility = ""
    return SidecarEntry(
        path=path,
        title=str(values.get("title") or "").strip(),
        authors=_split(values.get("authors"), separators),
        published=published,
        themes=_split(values.get("themes"), separators),
        territories=_split(values.get("territories"), separators),
        doc_type=str(values.get("doc_type") or "").strip(),
        summary=str(values.get("summary") or "").strip(),
        visibility=visibility,
        code=str(values.get("code") or "").strip(),
    )


def parse_csv(data: bytes, name: str = "metadata.csv") -> Sidecar:
    from indexer.extract.text import decode_bytes

    text = decode_bytes(data)
    problems: list[str] = []
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return Sidecar(name=name, entries={}, problems=(f"{name} : fichier vide",))
    fields: list[str | None] = []
    for column in header:
        key = fold_accents(column).strip().lower()
        field = _COLUMNS.get(key)
        if field is None and key:
            problems.append(f"{name}:1 : colonne inconnue « {column.strip()} » (ignorée)")
        fields.append(field)
    if "path" not in fields:
        return Sidecar(name=name, entries={}, problems=(
            f"{name}:1 : pas de colonne « fichier » : le fichier est ignoré",))
    # in a ";" file, lists inside a cell use "|"; in a "," file, ";" or "|"
    separators = "|" if delimiter == ";" else ";|"
    entries: dict[str, SidecarEntry] = {}
    for line_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {field: cell for field, cell in zip(fields, row) if field}
        entry = _entry(values.get("path", ""), values, separators, f"{name}:{line_number}", problems)
        if entry is None:
            continue
        if entry.path in entries:
            problems.append(f"{name}:{line_number} : « {entry.path} » déjà décrit plus haut (ligne ignorée)")
            continue
        entries[entry.path] = entry
    return Sidecar(name=name, entries=entries, problems=tuple(problems))


def parse_yaml(data: bytes, name: str = "metadata.yaml") -> Sidecar:
    from indexer.extract.text import decode_bytes

    problems: list[str] = []
    try:
        root = yaml.compose(decode_bytes(data))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        return Sidecar(name=name, entries={}, problems=(f"{name}{line} : YAML illisible ({yaml_problem(exc)})",))
    if root is None:
        return Sidecar(name=name, entries={})
    if not isinstance(root, yaml.MappingNode):
        return Sidecar(name=name, entries={}, problems=(
            f"{name}:{root.start_mark.line + 1} : attendu « chemin du fichier: {{title: ..., ...}} »",))
    entries: dict[str, SidecarEntry] = {}
    for key_node, value_node in root.value:
        where = f"{name}:{key_node.start_mark.line + 1}"
        if not isinstance(value_node, yaml.MappingNode):
            problems.append(f"{where} : attendu les champs du fichier (title, authors, date...)")
            continue
        values = yaml.safe_load(yaml.serialize(value_node)) or {}
        for unknown in sorted(set(values) - set(_YAML_KEYS)):
            problems.append(f"{where} : champ inconnu « {unknown} » (ignoré)")
        entry = _entry(str(key_node.value), values, ";|", where, problems)
        if entry is not None:
            entries[entry.path] = entry
    return Sidecar(name=name, entries=entries, problems=tuple(problems))


# ------------------------------------------------------------------ writing

# field -> the column written for it when the file lacks one (French, as documented)
CSV_COLUMNS = {"path": "fichier", "title": "titre", "authors": "auteurs", "date": "date",
               "themes": "thèmes", "territories": "territoires", "doc_type": "type",
               "summary": "résumé", "visibility": "visibilité"}
_UTF8_BOM = b"\xef\xbb\xbf"


def _cell(field: str, value) -> str:
    """A value as a sidecar cell: lists joined by "|" (read in "," and ";" files alike),
    dates as 2024-02-08, text on one line."""
    if field in ("published", "date"):
        if value is None:
            return ""
        return calendar_date(value).isoformat()     # the date as stated, never shifted
    if isinstance(value, (list, tuple)):
        return "|".join(" ".join(str(v).split()) for v in value)
    return " ".join(str(value or "").split())


def merge_csv(data: bytes | None, changes: dict[str, dict]) -> bytes:
    """`data` (a metadata.csv, or None for a new one) with `changes` written in: path ->
    {field: value}. Only the cells of the changed fields are rewritten; other columns (even
    ones Veille does not know), rows, column order and separator stay as they were; missing
    columns are added at the end, rows for new paths at the bottom. `parse_csv` reads the
    result back with the changes applied."""
    from indexer.extract.text import decode_bytes

    # the date is the "date" column (SidecarEntry.published)
    changes = {path: {("date" if f == "published" else f): v for f, v in change.items()}
               for path, change in changes.items()}
    text = decode_bytes(data) if data else ""
    first = text.split("\n", 1)[0]
    delimiter = (";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")) if text else ";"
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)] if text else []
    header = rows[0] if rows else [CSV_COLUMNS["path"]]
    fields = [_COLUMNS.get(fold_accents(column).strip().lower()) for column in header]
    if "path" not in fields:    # unreadable as a sidecar anyway: start a proper one
        header, fields, rows = [CSV_COLUMNS["path"]], ["path"], [[]]
    needed = {field for change in changes.values() for field in change}
    for field in CSV_COLUMNS:
        if field in needed and field not in fields:
            header.append(CSV_COLUMNS[field])
            fields.append(field)
    where = {field: fields.index(field) for field in CSV_COLUMNS if field in fields}
    body, seen = [], set()
    for row in rows[1:]:
        row = row + [""] * (len(header) - len(row))
        path = normalize_path(row[where["path"]]) if row[where["path"]].strip() else ""
        if path in changes and path not in seen:
            for field, value in changes[path].items():
                row[where[field]] = _cell(field, value)
        seen.add(path)
        body.append(row)
    for path in sorted(set(changes) - seen):
        row = [""] * len(header)
        row[where["path"]] = path
        for field, value in changes[path].items():
            row[where[field]] = _cell(field, value)
        body.append(row)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if "\r\n" in text or not text else "\n"
               ).writerows([header, *body])
    # UTF-8 with a byte-order mark, so a spreadsheet reads the accents (unless the file had none)
    bom = "" if data and not data.startswith(_UTF8_BOM) and _is_utf8(data) else "\ufeff"
    return (bom + out.getvalue()).encode("utf-8")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def merge_yaml(data: bytes | None, changes: dict[str, dict]) -> bytes:
    """`data` (a metadata.yaml, or None) with `changes` written in; keys Veille does not know
    stay, comments do not (YAML libraries do not keep them)."""
    from indexer.extract.text import decode_bytes

    try:
        root = yaml.safe_load(decode_bytes(data)) if data else {}
    except yaml.YAMLError:
        root = {}
    root = root if isinstance(root, dict) else {}
    by_path = {normalize_path(str(key)): key for key in root}
    keys = {"published": "date"}
    for path, change in sorted(changes.items()):
        key = by_path.get(path, path)
        entry = root.get(key) if isinstance(root.get(key), dict) else {}
        for field, value in change.items():
            cell = _cell(field, value) if field in ("published", "summary", "title", "doc_type", "visibility") \
                else [" ".join(str(v).split()) for v in value]
            if cell in ("", []):
                entry.pop(keys.get(field, field), None)
            else:
                entry[keys.get(field, field)] = cell
        root[key] = entry
    return yaml.safe_dump(root, allow_unicode=True, sort_keys=False, width=100).encode("utf-8")


def load_sidecar(folder: Path) -> Sidecar:
    """The folder's sidecar (the first of SIDECAR_NAMES present), or NO_SIDECAR."""
    for name in SIDECAR_NAMES:
        path = folder / name
        if path.is_file():
            try:
                data = path.read_bytes()
            except OSError as exc:
                return Sidecar(name=name, entries={}, problems=(f"{name} : illisible ({os_error_reason(exc)})",))
            return parse_csv(data, name) if name.endswith(".csv") else parse_yaml(data, name)
    return NO_SIDECAR
