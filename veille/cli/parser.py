"""The argparse tree of `veille`: every command, its options and its help.

Each command names its handler as "module:function" in `veille.cli`'s subject modules
(index, watch, accounts, mail, service, ops); `main` imports that one module when the command runs.
Together they pull in the web app, both search engines, the crawlers and the scheduler
(about 0.6 s), which `veille user list` or `veille --help` need not wait for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from veille import __version__
from veille.cli.french_argparse import FrenchArgumentParser
from veille.core.config import CONFIG_ENV, DEFAULT_CONFIG


def worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} n'est pas un nombre entier") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("entre 1 et 64")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} n'est pas un numéro de port") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("un port est entre 1 et 65535")
    return value


def positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} n'est pas un nombre entier") from None
    if value < 1:
        raise argparse.ArgumentTypeError("au moins 1")
    return value


def add_server_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--host", default="127.0.0.1", metavar="ADRESSE",
                   help=f"adresse où {what} écoute (par défaut 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=5000, help="port (par défaut 5000)")


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(
        prog="veille", description="Veille documentaire et juridique : relever, indexer, rechercher.")
    parser.add_argument("--config", metavar="FICHIER",
                        help=f"fichier de configuration (par défaut : ${CONFIG_ENV}, sinon ./{DEFAULT_CONFIG})")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="journal détaillé, avec la trace des erreurs")
    parser.add_argument("--version", action="version", version=f"veille {__version__}",
                        help="afficher la version et quitter")
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", required=True)

    p = sub.add_parser("check", help="vérifier la configuration (code 1 et la liste des problèmes)")
    p.set_defaults(handler="ops:run_check")

    p = sub.add_parser("crawl", help="relever maintenant les sources suivies (une ligne par source ; "
                                     "code de sortie 1 si l'une a échoué)")
    p.add_argument("--source", metavar="NOM", help="cette source seulement")
    p.set_defaults(handler="watch:run_crawl")

    p = sub.add_parser("sources", help="les sources et leur état ; import et export OPML")
    p.add_argument("--json", action="store_true", help="écrire du JSON : {sources: [...]}")
    p.set_defaults(handler="watch:run_sources")
    srcs = p.add_subparsers(dest="sources_command", metavar="ACTION")
    q = srcs.add_parser("list", help="l'état des sources (action par défaut)")
    q.add_argument("--json", action="store_true", help="écrire du JSON : {sources: [...]}")
    q = srcs.add_parser("import", help="ajouter à la configuration les flux d'un fichier OPML "
                                       "(commentaires conservés)")
    q.add_argument("file", metavar="FICHIER.opml")
    q.add_argument("--schedule", default="12h", metavar="RYTHME",
                   help="rythme de relevé des flux ajoutés (par défaut 12h)")
    q = srcs.add_parser("export", help="écrire les sources de type flux en OPML "
                                       "(sur la sortie standard, ou --out FICHIER)")
    q.add_argument("--out", metavar="FICHIER", help="écrire dans FICHIER plutôt que sur la sortie standard")

    p = sub.add_parser("run", help="le service : relevés planifiés, alertes, lettre de veille et interface web")
    add_server_options(p, "l'interface web")
    p.add_argument("--workers", type=worker_count, default=1, metavar="N",
                   help="servir l'interface web depuis N processus (gunicorn), le planificateur "
                        "restant dans celui-ci ; par défaut 1 (waitress, dans ce processus)")
    p.set_defaults(handler="service:run_service")

    p = sub.add_parser("index", help="synchroniser la bibliothèque et indexer les documents nouveaux "
                                     "ou modifiés")
    p.add_argument("--rebuild", action="store_true",
                   help="reconstruire tout l'index depuis le catalogue (la recherche reste disponible)")
    p.add_argument("--optimize", action="store_true",
                   help="puis fusionner les segments de l'index (fait aussi selon `search.optimize`)")
    p.set_defaults(handler="index:run_index")

    p = sub.add_parser("search", help="chercher dans l'espace documentaire")
    p.add_argument("query", metavar="RECHERCHE",
                   help='des mots, "une expression exacte", OR, -exclure, title:...')
    p.add_argument("--json", action="store_true", help="écrire du JSON : {total, results: [...]}")
    p.add_argument("--limit", type=positive_count, default=10, metavar="N",
                   help="nombre de résultats (par défaut 10)")
    p.set_defaults(handler="index:run_search")

    p = sub.add_parser("stats", help="compter les documents par source et par nature")
    p.add_argument("--json", action="store_true", help="écrire du JSON")
    p.set_defaults(handler="index:run_stats")

    p = sub.add_parser("serve", help="servir l'interface web avec un serveur WSGI de production")
    add_server_options(p, "le serveur")
    p.add_argument("--workers", type=worker_count, default=1, metavar="N",
                   help="servir depuis N processus (gunicorn) pour occuper N cœurs ; "
                        "par défaut 1 (waitress)")
    p.add_argument("--scheduler-pid", type=int, help=argparse.SUPPRESS)   # set by `veille run`
    p.set_defaults(handler="service:run_serve")

    p = sub.add_parser("demo", help="la démonstration hors ligne sur les données fournies : relevé, "
                                    "index, puis le service")
    add_server_options(p, "la démonstration")
    p.add_argument("--data-dir", type=Path, metavar="DOSSIER",
                   help="dossier des données de la démonstration (par défaut index/demo) ; "
                        "elles sont gardées d'un lancement à l'autre")
    p.add_argument("--reset", action="store_true",
                   help="effacer les données de la démonstration et repartir de zéro")
    p.add_argument("--no-serve", action="store_true",
                   help="préparer les données sans lancer le service")
    p.set_defaults(handler="service:run_demo_then_serve")

    p = sub.add_parser("digest", help="prévisualiser ou envoyer les courriels d'alertes")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true",
                      help="afficher (ou écrire avec --out) le courriel de chaque destinataire ; "
                           "rien n'est envoyé ni enregistré")
    mode.add_argument("--send", action="store_true",
                      help="envoyer à chaque destinataire les nouveautés depuis son dernier courriel")
    p.add_argument("--out", metavar="FICHIER", help="avec --preview : écrire le HTML dans FICHIER "
                   "(FICHIER-<destinataire>.html s'il y a plusieurs destinataires)")
    p.add_argument("--recipient", metavar="ADRESSE", help="avec --preview : ce destinataire seulement")
    p.add_argument("--text", action="store_true",
                   help="avec --preview : la version texte plutôt que le HTML")
    p.set_defaults(handler="mail:run_digest")

    p = sub.add_parser("backup", help="écrire le dossier de données dans une archive cohérente (.tar.gz)")
    p.add_argument("file", metavar="FICHIER", nargs="?",
                   help="archive à écrire (par défaut : ./veille-backup-AAAAMMJJ-HHMMSS.tar.gz)")
    p.set_defaults(handler="ops:run_backup")

    p = sub.add_parser("restore", help="remplacer le dossier de données par le contenu d'une sauvegarde")
    p.add_argument("file", metavar="FICHIER", help="archive écrite par `veille backup`")
    p.add_argument("--force", action="store_true",
                   help="remplacer un dossier de données non vide (il est mis de côté, pas effacé)")
    p.set_defaults(handler="ops:run_restore")

    p = sub.add_parser("user", help="les comptes de l'équipe pour l'interface web (add, list, remove)")
    users = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    q = users.add_parser("add", help="créer un compte de l'équipe (le mot de passe est demandé deux fois)")
    q.add_argument("email", metavar="ADRESSE")
    q.add_argument("--password-stdin", action="store_true",
                   help="lire le mot de passe sur la première ligne de l'entrée standard (scripts)")
    q.add_argument("--reset", action="store_true", help="changer le mot de passe d'un compte existant")
    q.set_defaults(handler="accounts:run_user")
    q = users.add_parser("list", help="les comptes de l'équipe et leur dernière connexion")
    q.set_defaults(handler="accounts:run_user")
    q = users.add_parser("remove", help="supprimer un compte de l'équipe (ses sessions prennent fin)")
    q.add_argument("email", metavar="ADRESSE")
    q.set_defaults(handler="accounts:run_user")

    return parser
