"""The catalog's SQLite file: transactions whole or not at all, a connection per thread."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from veille.core.records import Document
from veille.storage.catalog import Catalog
from veille.storage.db import Database


def test_transaction_is_rolled_back_and_the_error_raised(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    now = datetime(2025, 3, 10, tzinfo=timezone.utc)
    with pytest.raises(RuntimeError, match="panne"):
        with catalog.transaction():
            catalog.documents.put(Document(id="a", title="A", source="s", kind="actualité", first_seen=now))
            catalog.runs.start("s", now)    # joins the outer transaction
            raise RuntimeError("panne")
    assert catalog.documents.count() == 0 and catalog.runs.recent() == []
    with catalog.transaction():
        catalog.documents.put(Document(id="a", title="A", source="s", kind="actualité", first_seen=now))
        catalog.runs.start("s", now)
    assert catalog.documents.count() == 1 and len(catalog.runs.recent()) == 1
    catalog.close()


def test_each_thread_has_its_own_connection(tmp_path):
    import threading

    database = Database(tmp_path / "db.sqlite3")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(database.connection()))
    thread.start()
    thread.join()
    assert seen[0] is not database.connection()
    database.close()
