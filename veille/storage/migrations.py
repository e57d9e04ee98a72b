"""Versioned migrations of the catalog: the schema version lives in `PRAGMA user_version`.

`MIGRATIONS` is an ordered list of steps; step N brings a catalog from version N-1 to N and
runs once, in one transaction with the version bump, so a crash leaves the catalog at the
version before or after it, never between. A catalog at the current version is only read:
one on a full or read-only disk still opens (search keeps answering). A catalog newer than
this code is refused rather than misread.

Add a step at the end to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable

from veille.core.errors import VeilleError
from veille.storage.db import Database


class CatalogTooNew(VeilleError):
    code = "catalog_too_new"


# The schema of the first versioned release. The release before it kept no version (0) and
# made these same tables, the oldest catalogs without documents.revision: IF NOT EXISTS and
# the ALTER below bring any of them here without touching their rows.
SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    url TEXT,
    path TEXT,
    summary TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL DEFAULT '',
    published TEXT,
    updated TEXT,
    content_hash TEXT NOT NULL DEFAULT '',
    stored_file TEXT,
    doc_type TEXT NOT NULL DEFAULT '',
    themes TEXT NOT NULL DEFAULT '[]',
    territories TEXT NOT NULL DEFAULT '[]',
    authors TEXT NOT NULL DEFAULT '[]',
    language TEXT NOT NULL DEFAULT 'fr',
    page_count INTEGER,
    status TEXT NOT NULL DEFAULT 'ok',
    status_reason TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    indexed INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 0   -- bumped by every change, so indexing a stale copy
                                          -- never marks the newer one indexed
);
CREATE INDEX IF NOT EXISTS documents_url ON documents(url);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_pending ON documents(indexed) WHERE indexed = 0;
CREATE INDEX IF NOT EXISTS documents_first_seen ON documents(first_seen);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);

-- ids removed from the catalog whose removal the index has not applied yet
CREATE TABLE IF NOT EXISTS index_deletions (id TEXT PRIMARY KEY);

CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    http_status INTEGER,
    new INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    warning TEXT
);
CREATE INDEX IF NOT EXISTS runs_source ON runs(source, id);

CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    fetched TEXT
);

-- legal keys of each document (indexer.enrich.legal): those naming the document itself ('self')
-- and those it cites ('cites'); kept in step with documents.extra when a document is put or deleted
CREATE TABLE IF NOT EXISTS legal_keys (
    doc_id TEXT NOT NULL,
    key TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (doc_id, role, key)
);
CREATE INDEX IF NOT EXISTS legal_keys_key ON legal_keys(key, role);

-- per-source crawl state: failures and backoff, shown by `veille sources`
CREATE TABLE IF NOT EXISTS source_state (
    source TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_attempt TEXT,
    last_success TEXT,
    last_error TEXT,
    last_error_code TEXT,
    last_error_at TEXT,
    backoff_until TEXT
);

-- the last text seen of each watched page (`change` sources), to diff the next version against
CREATE TABLE IF NOT EXISTS page_snapshots (
    source TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    seen TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS library_files (
    library TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (library, path)
);

-- alerts created by staff in the web UI (the YAML ones live in sources.yaml)
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    query TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    recipients TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

-- end of the last period delivered to each recipient: the next digest starts there
CREATE TABLE IF NOT EXISTS digest_periods (
    recipient TEXT PRIMARY KEY,
    period_end TEXT NOT NULL,
    digest_id TEXT NOT NULL
);

-- every digest composed for sending, whatever became of it:
-- status sending (recorded before SMTP) -> sent | failed -> superseded (by a later sent one)
CREATE TABLE IF NOT EXISTS digests (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    created TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    sent TEXT,
    message_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    documents INTEGER NOT NULL DEFAULT 0,
    html TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS digests_recipient ON digests(recipient, created);
CREATE INDEX IF NOT EXISTS digests_created ON digests(created);

-- which alert matched which document in a digest (the Atom feed per alert reads it)
CREATE TABLE IF NOT EXISTS digest_items (
    digest_id TEXT NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    alert TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    date TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (digest_id, alert, doc_id)
);
CREATE INDEX IF NOT EXISTS digest_items_alert ON digest_items(alert);

-- alert '*' means every alert of that recipient
CREATE TABLE IF NOT EXISTS unsubscriptions (
    recipient TEXT NOT NULL,
    alert TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (recipient, alert)
);

-- staff accounts (veille.storage.users): the password only as a salted KDF hash (scrypt)
CREATE TABLE IF NOT EXISTS staff_users (
    email TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    last_login TEXT
);

-- random keys generated once per data directory (signed links, sessions)
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def _statements(script: str) -> list[str]:
    """The statements of an SQL script, to run inside a transaction (executescript commits)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _step_1(db: sqlite3.Connection) -> None:
    for statement in _statements(SCHEMA_1):
        db.execute(statement)
    columns = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
    if "revision" not in columns:
        db.execute("ALTER TABLE documents ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")


def _step_2(db: sqlite3.Connection) -> None:
    # Who may see a document. Rows made before it existed get what their source or library
    # folder says at the next crawl or sync; until then they stay public, as they were.
    columns = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
    if "visibility" not in columns:
        db.execute("ALTER TABLE documents ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'")
    db.execute("CREATE INDEX IF NOT EXISTS documents_visibility ON documents(visibility)"
               " WHERE visibility != 'public'")
    # What staff set by hand on a document: kept over every re-sync and re-crawl
    db.execute("""CREATE TABLE IF NOT EXISTS document_edits (
        doc_id TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT NOT NULL,          -- JSON
        edited_by TEXT NOT NULL DEFAULT '',
        edited TEXT NOT NULL,
        PRIMARY KEY (doc_id, field)
    )""")


def _step_3(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS source_cursors ("
               " source TEXT PRIMARY KEY,"
               " position TEXT NOT NULL,"    # the last item of an ordered series read whole
               " updated TEXT NOT NULL)")


SCHEMA_4 = """
-- the scheduler's jobs (veille.storage.schedule): what `veille run` must find after a restart
CREATE TABLE IF NOT EXISTS scheduled_jobs (
    id TEXT PRIMARY KEY,
    trigger TEXT NOT NULL,   -- the schedule the job was planned with; a changed one replans it
    next_run TEXT            -- UTC, to the microsecond; in the past: due while the process was down
);
"""


def _step_4(db: sqlite3.Connection) -> None:
    for statement in _statements(SCHEMA_4):
        db.execute(statement)


SCHEMA_5 = """
-- the lettre de veille: numbered issues; a draft (brouillon) is edited, then frozen when
-- its sending starts: status draft -> scheduled -> sending -> sent
CREATE TABLE IF NOT EXISTS lettres (
    numero INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    editorial TEXT NOT NULL DEFAULT '',
    rubriques TEXT NOT NULL DEFAULT '[]',     -- JSON: the rubriques in the chosen order
    since TEXT NOT NULL,                      -- its triage queue: documents first seen after
    frozen TEXT,                              -- ... and up to this moment, once frozen
    scheduled TEXT,                           -- when it is to be sent (status scheduled)
    sent TEXT,                                -- when every recipient was dealt with
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

-- the triage of a draft's queue, saved field by field as documentalists go
CREATE TABLE IF NOT EXISTS lettre_triage (
    numero INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    decision TEXT NOT NULL DEFAULT '',        -- '' (to sort) | keep | aside
    comment TEXT NOT NULL DEFAULT '',
    rubrique TEXT NOT NULL DEFAULT '',        -- '' means the document's default rubrique
    position INTEGER,                         -- order inside the rubrique
    updated TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (numero, doc_id)
);

-- what a frozen lettre holds, as it was sent (the public archive shows it)
CREATE TABLE IF NOT EXISTS lettre_items (
    numero INTEGER NOT NULL REFERENCES lettres(numero) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    rank INTEGER NOT NULL,
    rubrique TEXT NOT NULL,
    title TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL,
    original TEXT,
    date TEXT NOT NULL,
    published TEXT,
    kind TEXT NOT NULL DEFAULT '',
    doc_type TEXT NOT NULL DEFAULT '',
    nor TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (numero, doc_id)
);

-- each recipient of a frozen lettre, with the exact message archived before SMTP:
-- status pending -> sent | unsubscribed (left before their turn)
CREATE TABLE IF NOT EXISTS lettre_recipients (
    numero INTEGER NOT NULL REFERENCES lettres(numero) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    message_id TEXT NOT NULL,
    raw BLOB NOT NULL,
    sent TEXT,
    PRIMARY KEY (numero, recipient)
);

-- one row per recipient and attempt (test sends included): sending -> sent | failed,
-- or interrupted when the process died during SMTP
CREATE TABLE IF NOT EXISTS lettre_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    numero INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    test INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS lettre_attempts_numero ON lettre_attempts(numero, recipient);

-- subscriptions with double opt-in: to the lettre (topic 'lettre') or to a search
-- ('recherche:<key>', turned into an alert once confirmed); status pending -> confirmed ->
-- unsubscribed, or pending -> expired
CREATE TABLE IF NOT EXISTS subscribers (
    email TEXT NOT NULL,
    topic TEXT NOT NULL,
    status TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',       -- JSON: a search's query and filters
    nonce TEXT NOT NULL,                      -- only the latest confirmation link works
    origin TEXT NOT NULL,                     -- form | import | staff
    requested TEXT NOT NULL,
    expires TEXT,
    confirmed TEXT,
    ended TEXT,
    PRIMARY KEY (email, topic)
);

-- the consent record: every request, confirmation, import and unsubscription, kept
CREATE TABLE IF NOT EXISTS consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    topic TEXT NOT NULL,
    event TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS consents_email ON consents(email);
"""


def _step_5(db: sqlite3.Connection) -> None:
    for statement in _statements(SCHEMA_5):
        db.execute(statement)


def _step_6(db: sqlite3.Connection) -> None:
    # Staff sessions held server-side: logging out ends the session for every copy of its
    # cookie. The cookie carries a random id; only its SHA-256 is kept here.
    db.execute("""CREATE TABLE IF NOT EXISTS staff_sessions (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        created TEXT NOT NULL
    )""")
    db.execute("CREATE INDEX IF NOT EXISTS staff_sessions_email ON staff_sessions(email)")


SCHEMA_7 = """
-- « Relever maintenant »: a source the team asked to crawl now, until the scheduler has done it
-- (veille.storage.crawl_requests); the web and the scheduler may be different processes
CREATE TABLE IF NOT EXISTS crawl_requests (
    source TEXT PRIMARY KEY,
    requested TEXT NOT NULL,      -- UTC; a later request replaces the time, the row stays one
    by TEXT NOT NULL DEFAULT ''
);

-- end of the last period delivered to a recipient by the immediate e-mails of one source
-- (the weekly digest's is digest_periods)
CREATE TABLE IF NOT EXISTS immediate_periods (
    recipient TEXT NOT NULL,
    source TEXT NOT NULL,
    period_end TEXT NOT NULL,
    digest_id TEXT NOT NULL,
    PRIMARY KEY (recipient, source)
);

-- the newest documents of one kind (the library page's latest additions) without walking
-- every newer document of the other kinds
CREATE INDEX IF NOT EXISTS documents_kind_first_seen ON documents(kind, first_seen);
"""


def _step_7(db: sqlite3.Connection) -> None:
    for statement in _statements(SCHEMA_7):
        db.execute(statement)
    # an alert is sent with the weekly digest, or at once after a crawl finds something
    alerts = {row[1] for row in db.execute("PRAGMA table_info(alerts)")}
    if "frequency" not in alerts:
        db.execute("ALTER TABLE alerts ADD COLUMN frequency TEXT NOT NULL DEFAULT 'weekly'")
    # a digest e-mail is the weekly one, or an immediate one for the documents of one source
    digests = {row[1] for row in db.execute("PRAGMA table_info(digests)")}
    if "kind" not in digests:
        db.execute("ALTER TABLE digests ADD COLUMN kind TEXT NOT NULL DEFAULT 'weekly'")
    if "source" not in digests:
        db.execute("ALTER TABLE digests ADD COLUMN source TEXT")


@dataclass(frozen=True)
class Migration:
    version: int            # user_version once applied
    summary: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the tables of the first release (documents, queue, runs, alerts, digests, accounts...)",
              _step_1),
    Migration(2, "documents' visibility; what staff edit by hand on a document", _step_2),
    Migration(3, "where each source stopped in a series it reads in order (source_cursors)", _step_3),
    Migration(4, "the scheduler's jobs and their next run times (formerly scheduler.sqlite3)", _step_4),
    Migration(5, "the lettre de veille (issues, triage, deliveries) and subscribers with their consent",
              _step_5),
    Migration(6, "staff sessions held server-side, so that logging out ends them", _step_6),
    Migration(7, "crawl requests from the web; immediate alerts (alerts.frequency, digests.kind and "
                 "source, immediate_periods); documents by kind and date", _step_7),
)
CURRENT_VERSION = MIGRATIONS[-1].version


def schema_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(database: Database) -> int:
    """Bring the catalog to CURRENT_VERSION; returns the version it was at.

    Raises CatalogTooNew when a newer Veille wrote it.
    """
    found = schema_version(database.connection())
    if found > CURRENT_VERSION:
        raise CatalogTooNew(
            f"le catalogue {database.path} a été écrit par une version plus récente de Veille "
            f"(schéma {found} ; cette version connaît le schéma {CURRENT_VERSION})",
            hint="mettez Veille à jour, ou restaurez une sauvegarde faite avec cette version")
    for step in MIGRATIONS:
        if step.version <= found:
            continue
        with database.transaction() as db:
            if schema_version(db) >= step.version:  # another process got there first
                continue
            step.apply(db)
            db.execute(f"PRAGMA user_version = {step.version:d}")
    return found
