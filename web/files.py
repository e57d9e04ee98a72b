"""Serving files from the data and library directories, and never from anywhere else.

A relative path from a URL or the catalog is resolved under its root, symlinks included, and
refused unless the result is still inside the root. Only PDFs and plain images open in the
browser; everything else (HTML above all, which would run on our origin) is an attachment.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from flask import abort, send_file

INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"}


def confined_path(root: Path, relative: str) -> Path | None:
    """`root / relative` if it names something inside `root`, else None.

    Refuses absolute paths, `..` segments, NUL bytes, backslashes (Windows-style escapes)
    and symlinks leading outside the root.
    """
    if not relative or "\x00" in relative or "\\" in relative:
        return None
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute() or any(part in ("..", "") for part in parts):
        return None
    try:
        root = root.resolve(strict=True)
        target = (root / Path(*parts)).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if target != root and root not in target.parents:
        return None
    return target


def send_confined(root: Path, relative: str, download_name: str | None = None):
    """Send the file `relative` under `root`, or 404 (never saying why: no probing)."""
    target = confined_path(Path(root), relative)
    if target is None or not target.is_file():
        abort(404)
    return send_path(target, download_name)


def send_path(target: Path, download_name: str | None = None):
    """Send a file already checked to be ours: PDFs and images inline, the rest attached."""
    mimetype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    inline = mimetype in INLINE_TYPES
    if mimetype == "text/plain":
        mimetype = "text/plain; charset=utf-8"
    response = send_file(target, mimetype=mimetype, as_attachment=not inline,
                         download_name=download_name or target.name, conditional=True, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if mimetype != "application/pdf":  # Chrome refuses to show a sandboxed PDF
        # a stored copy is someone else's document: it gets no powers on our origin
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
