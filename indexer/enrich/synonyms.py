"""The synonym and acronym table of the search (`synonyms.yaml`), read and validated.

`load_synonyms(path)` returns the table or raises `SynonymsError` listing every problem as
`file:line: key: message`, in French, like the configuration. A `SynonymFile` is what the
search asks on each request: the file is read again when it changed, and a file broken
while the service runs leaves the last good table in use (and says so in the log). The
file's format is documented in its header.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from veille.core.config_yaml import yaml_problem
from veille.core.errors import VeilleError

log = logging.getLogger(__name__)

SYNONYMS_FILE = Path(__file__).resolve().parent / "synonyms.yaml"
ENTRY_KEYS = ("term", "means", "case_sensitive", "one_way")
_WORDS = re.compile(r"[^\W\d_]{2,}")   # words of two letters or more


class SynonymsError(VeilleError):
    code = "synonyms"

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Synonym:
    term: str                       # usually an acronym: QPV
    means: tuple[str, ...]          # what it stands for
    case_sensitive: bool = False    # expands only when typed as written (capitals)
    one_way: bool = False           # the expressions do not bring the term back


@dataclass(frozen=True)
class SynonymTable:
    entries: tuple[Synonym, ...] = ()
    no_expansion: tuple[str, ...] = ()


def parse_synonyms(text: str, name: str = "synonyms.yaml") -> SynonymTable:
    problems: list[str] = []

    def problem(node, key: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        problems.append(f"{name}:{line}: {key}: {message}")

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SynonymsError([f"{name}:{mark.line + 1 if mark else 1}: YAML invalide : "
                             f"{yaml_problem(exc)}"]) from None
    if root is None:
        return SynonymTable()
    if not isinstance(root, yaml.MappingNode):
        raise SynonymsError([f"{name}:1: le fichier doit contenir les clés synonyms et no_expansion"])
    top = {str(k.value): v for k, v in root.value}
    for knode, _ in root.value:
        if knode.value not in ("synonyms", "no_expansion"):
            problem(knode, str(knode.value), "clé inconnue (synonyms ou no_expansion)")
    entries: list[Synonym] = []
    seen: dict[str, int] = {}
    node = top.get("synonyms")
    items = node.value if isinstance(node, yaml.SequenceNode) else []
    if node is not None and not isinstance(node, yaml.SequenceNode):
        problem(node, "synonyms", "doit être une liste d'entrées")
    for i, item in enumerate(items):
        key = f"synonyms[{i}]"
        if not isinstance(item, yaml.MappingNode):
            problem(item, key, "doit être une entrée (term, means)")
            continue
        fields = {str(k.value): (k, v) for k, v in item.value}
        for field, (knode, _) in fields.items():
            if field not in ENTRY_KEYS:
                problem(knode, f"{key}.{field}", f"clé inconnue (une de : {', '.join(ENTRY_KEYS)})")
        term = _string(fields.get("term"), f"{key}.term", problem)
        means = _strings(fields.get("means"), f"{key}.means", problem)
        flags = {flag: _flag(fields.get(flag), f"{key}.{flag}", problem) for flag in ("case_sensitive", "one_way")}
        if term is None or not means:
            if "term" not in fields or "means" not in fields:
                problem(item, key, "une entrée demande term et means")
            continue
        folded = term.casefold()
        if folded in seen:
            problem(fields["term"][1], f"{key}.term", f"« {term} » figure déjà à l'entrée {seen[folded]}")
            continue
        seen[folded] = i
        lone = [m for m in means if len(_WORDS.findall(m)) < 2]
        if lone and not flags["one_way"]:
            # searching that one word would bring the term back every time it is used
            problem(fields["means"][1], f"{key}.means",
                    f"« {lone[0]} » : une expression d'un seul mot demande one_way: true")
            continue
        entries.append(Synonym(term, tuple(means), **flags))
    no_expansion = _strings((None, top["no_expansion"]), "no_expansion", problem) if "no_expansion" in top else []
    if problems:
        raise SynonymsError(problems)
    return SynonymTable(tuple(entries), tuple(no_expansion))


def _string(pair, key: str, problem) -> str | None:
    if pair is None:
        return None
    node = pair[1]
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        problem(node, key, "doit être un texte non vide")
        return None
    return " ".join(str(node.value).split())


def _strings(pair, key: str, problem) -> list[str]:
    if pair is None:
        return []
    node = pair[1]
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return []
    if not isinstance(node, yaml.SequenceNode):
        problem(node, key, "doit être une liste d'expressions")
        return []
    out = []
    for j, item in enumerate(node.value):
        value = _string((None, item), f"{key}[{j}]", problem)
        if value:
            out.append(value)
    return out


def _flag(pair, key: str, problem) -> bool:
    if pair is None:
        return False
    node = pair[1]
    value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, bool):
        problem(node, key, "doit valoir true ou false")
        return False
    return value


def load_synonyms(path: Path = SYNONYMS_FILE) -> SynonymTable:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return SynonymTable()
    except (OSError, UnicodeDecodeError) as exc:
        raise SynonymsError([f"{Path(path).name}:1: illisible ({exc})"]) from None
    return parse_synonyms(text, Path(path).name)


class SynonymFile:
    """The table of a file, read again when the file changes (its owner asks on each search)."""

    def __init__(self, path: Path = SYNONYMS_FILE):
        self.path = Path(path)
        self._stamp: tuple | None = None
        self._table = SynonymTable()
        self._lock = threading.Lock()

    def table(self) -> SynonymTable:
        try:
            info = os.stat(self.path)
            stamp: tuple | None = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
        if stamp == self._stamp:
            return self._table
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._table = load_synonyms(self.path) if stamp else SynonymTable()
                except SynonymsError as exc:
                    log.warning("%s : les synonymes précédents restent en usage", "; ".join(exc.problems))
                self._stamp = stamp
        return self._table
