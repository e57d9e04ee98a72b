"""All of Veille's SQL: the catalog, one SQLite file, with a module per entity.

`catalog.Catalog` opens it (`Catalog.open(config.layout)`) and exposes one repository per
entity: `documents`, `queue` (what the index still has to do), `legal_keys`, `runs`,
`source_state`, `snapshots`, `validators`, `library_files`, `alerts`, `digests`,
`unsubscriptions`, `secrets`, `users`. `db` holds the connection and transaction helper,
`migrations` the numbered schema steps, `sqlite_files` the whole-file operations of backups.
"""
