"""`veille user add|list|remove`: the staff accounts of the web UI."""

from __future__ import annotations

import argparse
import getpass
import sys

from veille.cli.console import load, warn
from veille.core.dates import french_datetime
from veille.core.emails import email_problem
from veille.core.errors import VeilleError
from veille.storage.catalog import Catalog
from veille.storage.users import hash_password, normalize_email, password_problem


def read_new_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin with --password-stdin, else typed twice."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Mot de passe (encore) : ") != password:
            raise VeilleError("les deux mots de passe diffèrent")
    problem = password_problem(password)
    if problem:
        raise VeilleError(problem)
    return password


def run_user(args: argparse.Namespace) -> int:
    config = load(args)
    catalog = Catalog.open(config.layout)
    if args.user_command == "list":
        return list_users(catalog, config.tz)
    email = normalize_email(args.email)
    if args.user_command == "remove":
        if not catalog.users.remove(email):
            raise VeilleError(f"aucun compte de l'équipe pour {email}")
        print(f"compte {email} supprimé ; ses sessions ouvertes prennent fin à sa prochaine requête")
        return 0
    problem = email_problem(email)
    if problem:
        raise VeilleError(problem)
    exists = catalog.users.get(email) is not None
    if exists and not args.reset:
        raise VeilleError(f"{email} a déjà un compte", hint="ajoutez --reset pour changer son mot de passe")
    if args.reset and not exists:
        raise VeilleError(f"aucun compte de l'équipe pour {email}")
    password_hash = hash_password(read_new_password(args.password_stdin))
    if args.reset:
        catalog.users.set_password(email, password_hash)
        print(f"mot de passe de {email} changé ; ses autres sessions sont fermées")
    else:
        catalog.users.add(email, password_hash)
        print(f"compte {email} créé")
    return 0


def list_users(catalog: Catalog, tz) -> int:
    users = catalog.users.all()
    for user in users:
        last = french_datetime(user.last_login, tz) if user.last_login else "jamais"
        print(f"{user.email}\tcréé le {french_datetime(user.created, tz)}\tdernière connexion : {last}")
    if not users:
        warn("aucun compte de l'équipe pour l'instant : créez-en un avec `veille user add ADRESSE`")
    return 0
