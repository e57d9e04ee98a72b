"""What staff edited on a library folder's documents, written back to its metadata file.

The folder stays the source of truth: `export_edits` writes the staff's edits (title,
authors, date, themes, territories, type, summary, visibility) into the cells of the folder's
`metadata.csv` (or `metadata.yaml`, when that is what the folder uses), every other column
and row kept as the documentalists left them. `write_sidecar` puts it in the folder atomically (a temporary file renamed over the
old one), keeping the previous version as a hidden `.metadata.csv.precedent`. The edits stay
in the catalog: a re-sync finds the same values in both places.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from indexer.library.sidecar import load_sidecar, merge_csv, merge_yaml
from veille.core.config import LibraryFolder
from veille.core.errors import VeilleError
from veille.storage.catalog import Catalog

# edit field -> sidecar entry field
_FIELDS = {"title": "title", "authors": "authors", "published": "published", "themes": "themes",
           "territories": "territories", "doc_type": "doc_type", "summary": "summary",
           "visibility": "visibility"}


class SidecarWriteError(VeilleError):
    code = "sidecar_write"


@dataclass(frozen=True)
class SidecarExport:
    name: str               # metadata.csv or metadata.yaml
    data: bytes             # the whole file
    exported: int           # files whose edits it carries


def export_edits(folder: LibraryFolder, catalog: Catalog) -> SidecarExport:
    """The folder's metadata file with the staff's edits merged in (nothing written)."""
    root = Path(folder.path)
    sidecar = load_sidecar(root)
    files = catalog.library_files.of_library(folder.name)
    edits = catalog.edits.of_many(entry.doc_id for entry in files.values())
    changes = {relpath: {_FIELDS[field]: value for field, value in edits[known.doc_id].items() if field in _FIELDS}
               for relpath, known in files.items() if edits.get(known.doc_id)}
    name = sidecar.name or "metadata.csv"
    try:
        data = (root / name).read_bytes() if sidecar.name else None
    except OSError:
        data = None
    merged = merge_csv(data, changes) if name.endswith(".csv") else merge_yaml(data, changes)
    return SidecarExport(name=name, data=merged, exported=len(changes))


def write_sidecar(folder: LibraryFolder, export: SidecarExport) -> Path:
    """Put `export` in the folder, atomically; the previous file is kept, hidden."""
    root = Path(folder.path)
    target = root / export.name
    try:
        if target.is_file():
            previous = root / f".{export.name}.precedent"
            previous.write_bytes(target.read_bytes())
        handle, temporary = tempfile.mkstemp(prefix=f".{export.name}.", suffix=".tmp", dir=root)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(export.data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SidecarWriteError(f"impossible d'écrire {export.name} dans « {folder.name} » : "
                                f"{exc.strerror or exc}",
                                hint="le dossier de la bibliothèque doit être modifiable par le service") from None
    return target
