"""Changing `sources.yaml` in place, as a person would: comments, order and quoting kept.

    added, config = edit_config(path, lambda document: append_source(document, {...}))

`edit_config` reads the file with ruamel.yaml's round-trip loader, lets `change` edit the
document, and writes the result only if `parse_config` accepts it (as `veille check`
would), atomically (a temporary file beside it, then a rename), under a lock shared by every
process editing it (the web workers, `veille sources import`). A change that would leave
the file invalid raises ConfigError with its problems, and the file is left untouched.
Running processes notice the new file by its stamp (veille.core.config_reload).
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from veille.core.config import Config, ConfigError, parse_config
from veille.core.errors import os_error_reason

T = TypeVar("T")

# Lists written inline (`tags: [actualité, Martinique]`), as the sample configuration does.
FLOW_LISTS = ("tags", "recipients", "natures", "emitters", "ministries", "keywords")


def round_trip_yaml() -> YAML:
    yaml = YAML()   # round-trip: comments, order and quoting are kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


@contextmanager
def config_lock(path: Path) -> Iterator[None]:
    """One edit of `path` at a time, across processes (released by the OS if one dies)."""
    lock = path.with_name(f".{path.name}.lock")
    try:
        handle = open(lock, "a")
    except OSError as exc:   # a folder the service may not write (see README, Operations)
        raise ConfigError([f"{path}: modification impossible : {os_error_reason(exc)} "
                           f"({path.parent} doit être modifiable par le service)"]) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` in one step: readers see the old file or the new, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def edit_config(path: str | os.PathLike, change: Callable[[CommentedMap], T],
                write: bool = True) -> tuple[T, Config]:
    """Apply `change` to the configuration file; returns what `change` returned and the new
    configuration. Raises ConfigError (the file untouched) if the result would not validate.
    With `write=False` the file is not written: the configuration it would hold, to try."""
    path = Path(path)
    with config_lock(path):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([f"{path}: lecture impossible : {os_error_reason(exc)}"]) from None
        yaml = round_trip_yaml()
        document = yaml.load(text)
        if document is None:
            document = CommentedMap()
        if not isinstance(document, CommentedMap):
            raise ConfigError([f"{path.name}:1: le fichier doit être une table (clé: valeur)"])
        result = change(document)
        out = io.StringIO()
        yaml.dump(document, out)
        new_text = out.getvalue()
        config = parse_config(new_text, path)   # never write a file `veille check` would refuse
        if write and new_text != text:
            try:
                write_atomically(path, new_text)
            except OSError as exc:
                raise ConfigError([f"{path}: écriture impossible : {os_error_reason(exc)}"]) from None
    return result, config


# ---------------------------------------------------------------- the sources list


def slugify(text: str, fallback: str = "source") -> str:
    """A source name from a title: lower case, no accents, `-` between words, 60 characters."""
    folded = unicodedata.normalize("NFKD", text.lower())
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:60].strip("-") or fallback


def unique_name(title: str, taken: Iterable[str], fallback: str = "source") -> str:
    """A source name from its title, numbered when the name is taken: `agence-2`."""
    taken = set(taken)
    name = base = slugify(title, fallback)
    number = 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def sources_of(document: CommentedMap) -> CommentedSeq:
    """The document's `sources:` list, created (empty) if the file has none."""
    sources = document.get("sources")
    if sources is None:
        sources = document["sources"] = CommentedSeq()
    if not isinstance(sources, CommentedSeq):
        raise ConfigError(["sources : doit être une liste"])
    return sources


def find_source(document: CommentedMap, name: str) -> CommentedMap:
    for entry in document.get("sources") or ():
        if isinstance(entry, CommentedMap) and entry.get("name") == name:
            return entry
    raise ConfigError([f"sources : aucune source ne s'appelle « {name} »"])


def yaml_value(key: str, value: Any) -> Any:
    """A value as it is written in the file: lists of FLOW_LISTS inline, tables as tables."""
    if isinstance(value, Mapping):
        table = CommentedMap()
        for k, v in value.items():
            if v not in (None, "", ()):
                table[k] = yaml_value(k, v)
        return table
    if isinstance(value, (list, tuple)):
        items = CommentedSeq(list(value))
        if key in FLOW_LISTS:
            items.fa.set_flow_style()
        return items
    return value


def append_source(document: CommentedMap, values: Mapping[str, Any]) -> CommentedMap:
    """Add a source at the end of `sources:`, its keys in the given order, empty ones left out."""
    entry = CommentedMap()
    for key, value in values.items():
        if value not in (None, "", (), []):
            entry[key] = yaml_value(key, value)
    sources_of(document).append(entry)
    return entry


def _same(current: Any, value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return isinstance(current, list) and list(current) == list(value)
    return current is not None and current == value


def update_source(document: CommentedMap, name: str, values: Mapping[str, Any]) -> CommentedMap:
    """Set keys of the source `name` (kept in place, with their comments); a value of None or
    "" removes the key, so the default applies."""
    entry = find_source(document, name)
    for key, value in values.items():
        if value in (None, "", (), []):
            entry.pop(key, None)
        elif _same(entry.get(key), value):
            continue   # unchanged: keep it exactly as written (quotes, flow style)
        else:
            entry[key] = yaml_value(key, value)
    return entry
