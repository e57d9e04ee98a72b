"""argparse speaking French: its own words (usage, errors, group titles) from a catalog.

argparse looks every message up through `gettext` (`argparse._`, `argparse.ngettext`) when
it is needed. `FrenchArgumentParser` points those two names at `FRENCH` for as long as one
of its methods runs, and puts them back afterwards, so nothing outside the `veille` parser
(pytest's own, gunicorn's) is affected. The catalog holds argparse's message ids as Python
3.11 spells them; an id missing here stays in English, which tests/test_cli_french.py catches.
"""

from __future__ import annotations

import argparse
import contextlib
import gettext
import threading
from typing import Iterator

MESSAGES = {
    "usage: ": "utilisation : ",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "the following arguments are required: %s": "il manque : %s",
    "one of the arguments %s is required": "il faut l'une de ces options : %s",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s : %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix inconnu : %(value)r (choix possibles : %(choices)s)",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue %(parser_name)r (commandes : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur %(value)r impossible à lire (%(type)s attendu)",
    "unrecognized arguments: %s": "arguments en trop : %s",
    "not allowed with argument %s": "incompatible avec %s",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "une valeur au plus attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "ignored explicit argument %r": "valeur %r ignorée",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "subcommands": "commandes",
}
PLURALS = {
    "expected %s argument": ("%s valeur attendue", "%s valeurs attendues"),
}
# The type names argparse puts in "invalid %(type)s value" (the function's __name__).
TYPE_NAMES = {"int": "un nombre entier", "float": "un nombre", "Path": "un chemin",
              "worker_count": "un nombre entier"}


class FrenchCatalog(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return MESSAGES.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = PLURALS.get(singular)
        if forms is None:
            return singular if n == 1 else plural
        return forms[0] if n <= 1 else forms[1]   # French: 0 and 1 take the singular


FRENCH = FrenchCatalog()
_lock = threading.RLock()
_depth = 0


@contextlib.contextmanager
def french_messages() -> Iterator[None]:
    """argparse's messages in French while the block runs (re-entrant)."""
    global _depth
    with _lock:
        if _depth == 0:
            saved = argparse._, argparse.ngettext
            argparse._, argparse.ngettext = FRENCH.gettext, FRENCH.ngettext
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
            if _depth == 0:
                argparse._, argparse.ngettext = saved


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose every message (help, usage, errors) is French."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        with french_messages():
            super().__init__(*args, **kwargs)
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="afficher cette aide et quitter")

    def parse_args(self, args=None, namespace=None):
        with french_messages():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):
        with french_messages():
            return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        with french_messages():
            return super().format_usage()

    def format_help(self) -> str:
        with french_messages():
            return super().format_help()

    def error(self, message: str):
        with french_messages():
            for english, french in TYPE_NAMES.items():
                message = message.replace(f"({english} attendu)", f"({french} attendu)")
            super().error(message)
