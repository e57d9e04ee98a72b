"""Signatures of the library files already read (size, mtime, SHA-256), so a sync reads
only the files that changed."""

from __future__ import annotations

from dataclasses import dataclass

from veille.storage.db import Database


@dataclass(frozen=True)
class LibraryFile:
    library: str
    path: str
    size: int
    mtime_ns: int
    sha256: str
    doc_id: str


class LibraryFileRepository:
    def __init__(self, database: Database):
        self._db = database

    def of_library(self, library: str) -> dict[str, LibraryFile]:
        """path -> signature, for the files recorded in `library`."""
        rows = self._db.connection().execute("SELECT * FROM library_files WHERE library = ?", (library,))
        return {r["path"]: LibraryFile(**dict(r)) for r in rows}

    def put(self, entry: LibraryFile) -> None:
        with self._db.transaction() as db:
            db.execute("INSERT OR REPLACE INTO library_files VALUES (?, ?, ?, ?, ?, ?)",
                       (entry.library, entry.path, entry.size, entry.mtime_ns, entry.sha256, entry.doc_id))

    def forget(self, library: str, path: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM library_files WHERE library = ? AND path = ?", (library, path))

    def library_names(self) -> list[str]:
        """Libraries that have files recorded (configured or not any more)."""
        rows = self._db.connection().execute("SELECT DISTINCT library FROM library_files ORDER BY library")
        return [row[0] for row in rows]
