"""Evidence files of ledger items and 督办令 responses (QUALITY A34).

Checked by content, never by name or the browser's claim, with the rules the platform already
has: a photo must be JPEG/PNG/WebP that Pillow decodes, and is re-encoded without metadata by
``app.tasks.photos.clean_jpeg``; a document must start with ``%PDF-`` (``app.study.media.sniff``).
Files go to ``MEDIA_DIR/ledger`` under random names; nothing is left behind on refusal. They
are served only through the routes' visibility check, photos inline as image/jpeg, PDFs as
attachments.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import abort, send_file

from ..study.media import media_dir, sniff as sniff_media
from ..tasks.photos import PhotoError, clean_jpeg, sniff as sniff_photo, write_new

#: Files one submission may add, and the most an item keeps.
MAX_FILES = 6


class EvidenceError(ValueError):
    """A refused file; the message is shown as it is."""


@dataclass(frozen=True)
class Stored:
    name: str
    kind: str
    size: int


def folder() -> Path:
    return media_dir() / "ledger"


def store(stream: BinaryIO, max_bytes: int, messages: dict) -> Stored:
    """Check and keep one upload: a photo (cleaned) or a PDF. ``messages``: translated texts for
    "empty", "type" and "size"."""
    data = stream.read(max_bytes + 1)
    if not data:
        raise EvidenceError(messages["empty"])
    if len(data) > max_bytes:
        raise EvidenceError(messages["size"])
    if sniff_media(data[:64]) == "application/pdf":
        return Stored(write_new(folder(), data, "pdf"), "pdf", len(data))
    if sniff_photo(data[:16]) is None:
        raise EvidenceError(messages["type"])
    try:
        clean = clean_jpeg(data, messages)
    except PhotoError as err:
        raise EvidenceError(str(err)) from err
    return Stored(write_new(folder(), clean, "jpg"), "photo", len(clean))


def remove(names) -> None:
    for name in names or ():
        if name:
            (folder() / Path(name).name).unlink(missing_ok=True)


def send(name: str, kind: str):
    path = folder() / Path(name).name
    if not path.is_file():
        abort(404)
    pdf = kind == "pdf"
    response = send_file(path, mimetype="application/pdf" if pdf else "image/jpeg", conditional=True, max_age=0,
                         as_attachment=pdf, download_name=f"evidence-{path.stem[:8]}.{'pdf' if pdf else 'jpg'}")
    if not pdf:
        response.headers["Content-Disposition"] = f'inline; filename="evidence-{path.stem[:8]}.jpg"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
