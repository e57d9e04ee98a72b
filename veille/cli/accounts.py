"""`veille user add|list|remove`: the staff accounts of the web UI."""

from __future__ import annotations

import argparse
import getpass
import sys

from veille.cli.console import load, warn
from veille.core.emails import email_problem
from veille.core.errors import VeilleError
from veille.storage.catalog import Catalog
from veille.storage.users import hash_password, normalize_email, password_problem


def read_new_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin with --password-stdin, else typed twice."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise VeilleError("the two passwords differ")
    problem = password_problem(password)
    if problem:
        raise VeilleError(problem)
    return password


def run_user(args: argparse.Namespace) -> int:
    catalog = Catalog.open(load(args).layout)
    if args.user_command == "list":
        return list_users(catalog)
    email = normalize_email(args.email)
    if args.user_command == "remove":
        if not catalog.users.remove(email):
            raise VeilleError(f"no staff account for {email}")
        print(f"removed {email}; their open sessions end at their next request")
        return 0
    problem = email_problem(email)
    if problem:
        raise VeilleError(problem)
    exists = catalog.users.get(email) is not None
    if exists and not args.reset:
        raise VeilleError(f"{email} already has an account", hint="add --reset to change its password")
    if args.reset and not exists:
        raise VeilleError(f"no staff account for {email}")
    password_hash = hash_password(read_new_password(args.password_stdin))
    if args.reset:
        catalog.users.set_password(email, password_hash)
        print(f"password changed for {email}; their other sessions are closed")
    else:
        catalog.users.add(email, password_hash)
        print(f"added {email}")
    return 0


def list_users(catalog: Catalog) -> int:
    users = catalog.users.all()
    for user in users:
        last = user.last_login.isoformat() if user.last_login else "never"
        print(f"{user.email}\tcreated {user.created.isoformat()}\tlast login {last}")
    if not users:
        warn("no staff account yet: create one with `veille user add EMAIL`")
    return 0
