"""`veille backup` / `veille restore`: the whole data directory as one consistent archive.

The archive (tar.gz) holds every file of the data directory: the catalog (documents, alerts,
digest history, staff accounts, the scheduler's next runs), the search index, stored files and the
secret key, with a MANIFEST.json of sizes and SHA-256 sums.

Consistency without stopping the service:
- SQLite databases are copied with SQLite's backup API (a snapshot, WAL included).
- The catalog is snapshotted *before* the index is copied. Indexing commits to the index
  first and marks documents indexed in the catalog second, so every document the snapshot
  calls indexed is already in the index files copied after it; the worst case is a document
  indexed twice later (adding replaces by id), never one missing.
- Index files are copied until a copy completes with no file appearing, vanishing or
  changing during it (a commit in progress makes the copy start again).

Restore unpacks into a staging directory beside the data directory, checks the manifest
sums and SQLite's integrity check, and only then swaps it in; the replaced directory is
kept aside (`<data_dir>.before-restore-<stamp>`) and never deleted.

Authentication: the manifest (which holds every file's SHA-256) is signed with an HMAC
keyed by the instance's secret key (`MANIFEST.hmac`). An archive whose signature cannot be
checked with the key of the instance restoring it (altered, made elsewhere, or by a release
before signatures) may still carry a good catalog, but nothing in it that a library would
execute is opened: its search index (Whoosh's table of contents is a pickle) and the job
store of earlier releases (APScheduler pickles its jobs) are left out, the index is rebuilt from the catalog,
and the catalog must hold nothing but tables and indexes.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import io
import json
import logging
import os
import shutil
import stat
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from veille.storage.sqlite_files import (is_sqlite_file, snapshot_sqlite, sqlite_problem,
                                         untrusted_schema_problem)
from indexer.search.indexes import IndexBusy, index_write_lock
from indexer.search.request import IndexOutdated, SearchRequest
from indexer.search.space import DocumentSpace
from veille.core.config import Config
from veille.core.layout import DataDir
from veille.core.errors import VeilleError, os_error_reason
from veille.core.secret_key import existing_secret_key, load_secret_key

log = logging.getLogger("veille.ops.backup")

FORMAT = "veille-backup/1"
MANIFEST = "MANIFEST.json"
SIGNATURE = "MANIFEST.hmac"        # HMAC-SHA256 of the manifest, keyed by the secret key
ROOT = "data"                       # members are stored under data/ in the archive
SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")
INDEX_COPY_ATTEMPTS = 20
INDEX_LOCK_TIMEOUT = 600.0          # seconds a backup waits for a running index write


class BackupError(VeilleError):
    code = "backup"


@dataclass(frozen=True)
class BackupReport:
    path: Path
    files: int
    bytes: int
    databases: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    data_dir: Path
    files: int
    set_aside: Path | None
    rebuilt: bool = False          # the archived index could not answer: rebuilt from the catalog
    documents: int = 0             # in the restored catalog
    brought_up_to_date: int = 0    # documents indexed after the restore
    authenticated: bool = True     # signed with this instance's key; else restored without
                                   # its index and job store (see the module docstring)


def sign_manifest(key: str, manifest: bytes) -> str:
    """The archive's signature: an HMAC of its manifest, which holds every file's SHA-256."""
    message = FORMAT.encode("ascii") + b"\n" + manifest
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def default_archive_name(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"veille-backup-{now.strftime('%Y%m%d-%H%M%S')}.tar.gz"


def _skipped(path: Path, layout: DataDir) -> bool:
    return (path.name.endswith(SKIP_SUFFIXES) or path.name.startswith(f".{layout.secret_key.name}.")
            or path == layout.search_write_lock)


def _listing(root: Path, layout: DataDir) -> dict[str, tuple[int, int]]:
    """relative path -> (size, mtime_ns) of the regular files under `root`."""
    out = {}
    for path in sorted(root.rglob("*")):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode) and not _skipped(path, layout):
            out[path.relative_to(root).as_posix()] = (info.st_size, info.st_mtime_ns)
    return out


def _copy_quiet_tree(source: Path, dest: Path, layout: DataDir, attempts: int = INDEX_COPY_ATTEMPTS) -> None:
    """Copy `source` to `dest` once a copy completes without the tree changing under it."""
    for attempt in range(attempts):
        before = _listing(source, layout)
        shutil.rmtree(dest, ignore_errors=True)
        try:
            for name in before:
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, target)
        except FileNotFoundError:
            pass  # a file vanished mid-copy (a commit or merge): start again
        else:
            if _listing(source, layout) == before:
                return
        log.debug("l'index a changé pendant sa copie (essai %d) ; nouvelle copie", attempt + 1)
        time.sleep(min(0.05 * (attempt + 1), 1.0))
    raise BackupError(f"l'index de {source} a changé pendant chacun des {attempts} essais de copie",
                      hint="réessayez, ou arrêtez `veille run` le temps de la sauvegarde")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _snapshot(layout: DataDir, staging: Path) -> int:
    """Copy the data directory into `staging` consistently; returns the number of databases."""
    data_dir = layout.root
    databases = 0
    index_root = layout.search
    trees = [index_root] if index_root.is_dir() else []
    # 1. databases first (see the module docstring for why the order matters)
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if any(path.is_relative_to(tree) for tree in trees) or not path.is_file() or path.is_symlink():
            continue
        if _skipped(path, layout):
            continue
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_sqlite_file(path):
            snapshot_sqlite(path, target)
            databases += 1
    # 2. the index, copied whole while no process writes to it
    for tree in trees:
        try:
            with index_write_lock(layout, timeout=INDEX_LOCK_TIMEOUT):
                _copy_quiet_tree(tree, staging / tree.relative_to(data_dir), layout)
        except IndexBusy as exc:
            raise BackupError(str(exc), hint="réessayez quand l'indexation sera finie") from None
    # 3. everything else: stored files, the secret key, small state files
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        target = staging / rel
        if any(path.is_relative_to(tree) for tree in trees) or target.exists():
            continue
        if path.is_file() and not path.is_symlink() and not _skipped(path, layout):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(path, target)
            except FileNotFoundError:
                continue  # removed meanwhile (a temporary file of a running job)
    return databases


def backup(config: Config, archive: Path) -> BackupReport:
    """Write the data directory of `config` to `archive` (a .tar.gz), atomically."""
    started = time.monotonic()
    data_dir = Path(config.data_dir)
    if not data_dir.is_dir():
        raise BackupError(f"pas de dossier de données en {data_dir}", hint="rien à sauvegarder pour l'instant")
    archive = Path(archive).resolve()
    if archive.is_relative_to(data_dir.resolve()):
        raise BackupError(f"{archive} est dans le dossier de données", hint="écrivez la sauvegarde ailleurs")
    archive.parent.mkdir(parents=True, exist_ok=True)
    key = load_secret_key(config.layout.secret_key)   # before the snapshot, so the archive holds it
    partial = archive.with_name(f".{archive.name}.{os.getpid()}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix="veille-backup-") as tmp:
            staging = Path(tmp) / ROOT
            staging.mkdir()
            databases = _snapshot(config.layout, staging)
            files = {}
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                files[path.relative_to(staging).as_posix()] = {"size": path.stat().st_size,
                                                                "sha256": _sha256(path)}
            manifest = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "engine": config.search.engine, "files": files}
            with tarfile.open(partial, "w:gz") as tar:
                data = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
                signature = sign_manifest(key, data).encode("ascii")
                for name, content in ((MANIFEST, data), (SIGNATURE, signature)):
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode = len(content), int(time.time()), 0o600
                    tar.addfile(info, io.BytesIO(content))
                tar.add(staging, arcname=ROOT)
            with open(partial, "rb") as handle:
                os.fsync(handle.fileno())
        os.chmod(partial, 0o600)  # it holds the secret key and the staff password hashes
        os.replace(partial, archive)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise BackupError(f"plus de place sur le disque pour écrire {archive}",
                              hint="libérez de la place ou écrivez la sauvegarde ailleurs") from None
        raise BackupError(f"impossible d'écrire la sauvegarde {archive} : {os_error_reason(exc)}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    total = sum(f["size"] for f in files.values())
    report = BackupReport(path=archive, files=len(files), bytes=total, databases=databases,
                          seconds=time.monotonic() - started)
    log.info("sauvegarde %s : %d fichiers, %d octets, %d bases en %.1f s", archive, report.files,
             report.bytes, report.databases, report.seconds)
    return report


# ---------------------------------------------------------------- restore


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's members, refusing anything that could write outside the target."""
    members = []
    for member in tar.getmembers():
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or "\\" in member.name:
            raise BackupError(f"chemin dangereux dans l'archive : {member.name!r}", hint="ce n'est pas une sauvegarde de Veille")
        if not (member.isfile() or member.isdir()):
            raise BackupError(f"entrée inattendue dans l'archive : {member.name!r} (liens et périphériques refusés)",
                              hint="ce n'est pas une sauvegarde de Veille")
        if member.name not in (MANIFEST, SIGNATURE) and path.parts[0] != ROOT:
            raise BackupError(f"entrée inattendue dans l'archive : {member.name!r}",
                              hint="ce n'est pas une sauvegarde de Veille")
        members.append(member)
    return members


def _member_bytes(tar: tarfile.TarFile, name: str, limit: int) -> bytes | None:
    try:
        member = tar.getmember(name)
    except KeyError:
        return None
    handle = tar.extractfile(member) if member.isfile() and member.size <= limit else None
    return handle.read() if handle else None


def _read_manifest(tar: tarfile.TarFile, key: str | None) -> tuple[dict, bool]:
    """The manifest, and whether its signature is right for `key` (the restoring instance's)."""
    data = _member_bytes(tar, MANIFEST, 64 * 1024 * 1024)
    try:
        manifest = json.loads(data.decode("utf-8")) if data is not None else None
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BackupError("l'archive n'a pas de MANIFEST.json valable", hint="ce n'est pas une sauvegarde de Veille")
    signature = _member_bytes(tar, SIGNATURE, 1024)
    authentic = (key is not None and signature is not None
                 and hmac.compare_digest(signature.strip(), sign_manifest(key, data).encode("ascii")))
    return manifest, authentic


def _set_aside_untrusted(staging: Path) -> list[str]:
    """Remove from an unauthenticated restore what a library would execute on opening it
    (the index, the old job store); refuse a catalog whose schema holds more than tables.
    Returns what was left out."""
    restored = DataDir(staging)
    left_out = []
    if restored.catalog.exists():
        problem = untrusted_schema_problem(restored.catalog)
        if problem:
            raise BackupError(f"archive non authentifiée et catalogue suspect ({problem}) : restauration refusée",
                              hint="restaurez une sauvegarde faite par cette instance")
    if restored.search.exists():
        shutil.rmtree(restored.search)
        left_out.append("l'index de recherche (reconstruit depuis le catalogue)")
    if restored.old_jobstore.exists():
        restored.old_jobstore.unlink()
        left_out.append("le planificateur (ses tâches sont recréées au démarrage)")
    return left_out


def _check_restored(staging: Path, manifest: dict) -> None:
    found = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
    expected = set(manifest["files"])
    if found != expected:
        missing, extra = sorted(expected - found), sorted(found - expected)
        raise BackupError(f"l'archive ne correspond pas à son manifeste (manquants : {missing[:3]}, en trop : {extra[:3]})")
    for name, entry in manifest["files"].items():
        path = staging / name
        if path.stat().st_size != entry.get("size") or _sha256(path) != entry.get("sha256"):
            raise BackupError(f"{name} est abîmé dans l'archive (somme de contrôle différente)")
        if is_sqlite_file(path):
            problem = sqlite_problem(path)
            if problem:
                raise BackupError(f"{name} échoue au contrôle d'intégrité de SQLite : {problem}")


def restore(config: Config, archive: Path, force: bool = False) -> RestoreReport:
    """Replace the data directory of `config` with the content of `archive`."""
    archive = Path(archive)
    data_dir = Path(config.data_dir)
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise BackupError(f"{data_dir} n'est pas vide",
                          hint="arrêtez le service et ajoutez --force : les données actuelles sont mises de côté, pas effacées")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # the key of the instance restoring, never the one inside the archive
    key = existing_secret_key(config.layout.secret_key)
    staging_root = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restore-", dir=data_dir.parent))
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = _safe_members(tar)
                manifest, authentic = _read_manifest(tar, key)
                tar.extractall(staging_root, members=[m for m in members if m.name != SIGNATURE],
                               filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                raise BackupError(f"plus de place sur le disque pour restaurer dans {data_dir.parent}") from None
            raise BackupError(f"impossible de lire l'archive {archive} : {exc}") from None
        staging = staging_root / ROOT
        staging.mkdir(exist_ok=True)
        _check_restored(staging, manifest)
        if not authentic:
            left_out = _set_aside_untrusted(staging)
            log.warning("sauvegarde %s non authentifiée par la clé de cette instance : restaurée sans %s",
                        archive, " ni ".join(left_out) or "rien d'exécutable")
        restored = DataDir(staging)
        for private in (restored.secret_key, restored.catalog):  # keys and password hashes
            if private.exists():
                private.chmod(0o600)
        set_aside = None
        if data_dir.exists() and not any(data_dir.iterdir()):
            data_dir.rmdir()
        elif data_dir.exists():
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
            set_aside = data_dir.with_name(f"{data_dir.name}.before-restore-{stamp}")
            n = 1
            while set_aside.exists():
                n += 1
                set_aside = data_dir.with_name(f"{data_dir.name}.before-restore-{stamp}-{n}")
            os.replace(data_dir, set_aside)
        os.replace(staging, data_dir)
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    log.info("%s restauré depuis %s (%d fichiers)%s", data_dir, archive, len(manifest["files"]),
             f" ; anciennes données gardées dans {set_aside}" if set_aside else "")
    rebuilt, documents, indexed = _index_in_step(config, trust_index=authentic)
    return RestoreReport(data_dir=data_dir, files=len(manifest["files"]), set_aside=set_aside,
                         rebuilt=rebuilt, documents=documents, brought_up_to_date=indexed,
                         authenticated=authentic)


def _index_in_step(config: Config, trust_index: bool = True) -> tuple[bool, int, int]:
    """Make the restored index answer for exactly the restored catalog: rebuilt when it cannot
    answer (another engine's, damaged) or comes from an archive that could not be
    authenticated (never opened then), cleared of documents indexed after the catalog was
    copied, then given what the catalog has pending. Returns (rebuilt, documents, indexed)."""
    if not trust_index:
        space = DocumentSpace(config)
        try:
            space.rebuild()
            indexed = space.index_pending().indexed
            return True, space.catalog.documents.count(), indexed
        finally:
            space.close()
    space = DocumentSpace(config)
    rebuilt = False
    try:
        try:
            space.search(SearchRequest(q="", per_page=1, facets=False))
            if space.stale_reason():
                raise IndexOutdated(space.stale_reason())
        except Exception as exc:
            log.warning("l'index restauré est inutilisable (%s : %s) ; il est reconstruit", type(exc).__name__, exc)
            space.close()
            space = DocumentSpace(config)
            space.rebuild()
            rebuilt = True
        space.remove_orphans()
        indexed = space.index_pending().indexed
        return rebuilt, space.catalog.documents.count(), indexed
    finally:
        space.close()
