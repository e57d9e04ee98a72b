"""Reading `sources.yaml` as a YAML node tree, so that every value keeps its line.

`compose` parses without constructing Python objects: tags such as `!!python/object` stay
inert text, and each node knows where it starts. `Reader` turns nodes into plain values and,
instead of raising, records each mistake as `file:line: key: message`, so that one pass over
the file finds them all. What the values mean is the schema's business (config_schema).
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Iterable

import yaml

NULL_TAG = "tag:yaml.org,2002:null"
STR_TAG = "tag:yaml.org,2002:str"

# Scalar types the reader converts to, with the words a problem uses for each.
TYPE_NAMES = {str: "un texte", int: "un nombre entier", float: "un nombre", bool: "true ou false"}

Items = dict[str, tuple[yaml.Node, yaml.Node]]   # key -> (key node, value node)


class ConfigError(Exception):
    """One or more problems in a configuration file, each as `file:line: key: message`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def compose(text: str, file: str) -> yaml.Node | None:
    """The node tree of `text`; a syntax error becomes a ConfigError naming its line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ConfigError([f"{file}:{line}: YAML invalide : {yaml_problem(exc)}"]) from None
    except RecursionError:  # PyYAML's parser recurses once per nesting level
        raise ConfigError([f"{file}:1: YAML invalide : imbrication trop profonde"]) from None


# PyYAML's problems, in its words (English), and in ours.
_YAML_PROBLEMS = (
    (r"expected the node content, but found '(.*)'", "« {0} » inattendu à cet endroit"),
    (r"mapping values are not allowed here",
     "« : » inattendu (une valeur contenant « : » doit être entre guillemets)"),
    (r"found character '(.*)' that cannot start any token", "caractère « {0} » interdit à cet endroit"),
    (r"found unexpected end of stream", "fin du fichier inattendue (guillemet non refermé ?)"),
    (r"expected '(.)' or '(.)', but got '(.*)'", "« {0} » ou « {1} » attendu, « {2} » trouvé"),
    (r"expected <block end>, but found '(.*)'", "indentation incohérente (« {0} » mal aligné)"),
    (r"found undefined alias '(.*)'", "alias « {0} » non défini"),
    (r"found unknown escape character '(.*)'", "séquence d'échappement « \\{0} » inconnue"),
    (r"expected '<document start>', but found '(.*)'", "« {0} » en trop"),
    (r"could not find expected ':'", "« : » manquant après une clé"),
    (r"found duplicate anchor '(.*)'.*", "ancre « {0} » en double"),
)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What PyYAML found wrong, in French."""
    problem = str(getattr(exc, "problem", None) or "")
    for pattern, french in _YAML_PROBLEMS:
        match = re.fullmatch(pattern, problem)
        if match:
            return french.format(*match.groups())
    return "syntaxe incorrecte"


def join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def quoted(text: str) -> str:
    """A value as a problem quotes it: `« 6 h »`, or `« 'a\\x00' »` when it has odd characters."""
    return f"« {shown(text)} »"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """` (vouliez-vous dire « x » ?)` for the closest of `choices`, or nothing."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (vouliez-vous dire {quoted(close[0])} ?)" if close else ""


class Reader:
    """Converts nodes to values while collecting problems, each at its node's line."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[tuple[int, str]] = []

    def error(self, node: yaml.Node | None, key: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        where = f"{key}: " if key else ""
        self.problems.append((line, f"{self.file}:{line}: {where}{message}"))

    def sorted_problems(self) -> list[str]:
        """The problems in line order; those of one line in the order they were found."""
        return [text for _, text in sorted(self.problems, key=lambda problem: problem[0])]

    def mapping(self, node: yaml.Node, key: str) -> Items | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG:
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.error(node, key, "doit être une table (clé: valeur)")
            return None
        items: Items = {}
        for knode, vnode in node.value:
            name = str(knode.value)
            if name in items:
                self.error(knode, join(key, shown(name)), "clé en double")
            items[name] = (knode, vnode)
        return items

    def sequence(self, node: yaml.Node, key: str) -> list[yaml.Node] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, key, "doit être une liste")
            return None
        return list(node.value)

    def unknown_keys(self, items: Items, allowed: Iterable[str], key: str) -> None:
        allowed = list(allowed)
        for name, (knode, _) in items.items():
            if name not in allowed:
                self.error(knode, join(key, shown(name)), f"clé inconnue{did_you_mean(name, allowed)}")

    def scalar(self, node: yaml.Node, key: str, kind: type) -> Any:
        """`node` as a `kind` (str, int, float, bool), or None after recording why not."""
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, key, f"doit être {TYPE_NAMES[kind]}")
            return None
        if node.tag == STR_TAG:
            value = node.value
        elif node.tag == NULL_TAG:
            value = None
        else:
            try:  # an explicit tag (`!!int zz`, `!!timestamp x`) can make PyYAML's constructors fail
                value = yaml.safe_load(yaml.serialize(node))
            except (yaml.YAMLError, ValueError, TypeError, LookupError, AttributeError, OverflowError):
                self.error(node, key, f"valeur {quoted(node.value)} invalide pour l'étiquette {node.tag}")
                return None
        if value is None:
            self.error(node, key, "ne doit pas être vide")
            return None
        if kind is str:
            if isinstance(value, (bytes, list, dict, set)):
                self.error(node, key, f"doit être un texte, pas {quoted(node.value)}")
                return None
            if "\0" in str(value):
                self.error(node, key, "ne doit pas contenir de caractère NUL")
                return None
            return str(value)
        if kind is bool:
            if isinstance(value, bool):
                return value
        elif kind is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif kind is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if math.isfinite(value):
                    return float(value)
                self.error(node, key, f"doit être un nombre fini, pas {quoted(node.value)}")
                return None
        self.error(node, key, f"doit être {TYPE_NAMES[kind]}, pas {quoted(node.value)}")
        return None

    def strings(self, node: yaml.Node, key: str) -> list[tuple[str, str, yaml.Node]]:
        """A list of strings as (key, value, node); a single string is a one-item list."""
        if isinstance(node, yaml.ScalarNode) and node.tag != NULL_TAG:
            value = self.scalar(node, key, str)
            return [(key, value, node)] if value else []
        values = []
        for i, item in enumerate(self.sequence(node, key) or []):
            value = self.scalar(item, f"{key}[{i}]", str)
            if value:
                values.append((f"{key}[{i}]", value, item))
        return values

def shown(name: str) -> str:
    """A key as a problem shows it: quoted when spaces or control characters would hide it."""
    return name if name.strip() == name and name.isprintable() else repr(name)
