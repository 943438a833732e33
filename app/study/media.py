"""Study media on disk: uploaded videos (WebM, MP4) and documents (PDF).

Files live in ``MEDIA_DIR`` (default ``<INSTANCE_PATH>/media``) under server-chosen random names;
the uploaded name is never used (QUALITY A34). The type is decided by the file's first bytes,
not by its name or the browser's claim, so an HTML page renamed ``film.webm`` is refused.
Files are served with their sniffed type, ``nosniff`` (set for every response) and range
support so that phones can seek; videos go out as attachments, which a ``<video>`` element
plays but a browser never renders as a page. PDFs go out inline (for "打开文件"); the reader
draws them itself with PDF.js, so nothing is ever framed (``frame-ancestors 'none'``, A27).
"""
from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import abort, current_app, send_file

from config import INSTANCE_DIR


#: kind -> sniffed MIME types accepted for it.
ACCEPTED = {"video": ("video/webm", "video/mp4"), "document": ("application/pdf",)}
EXTENSIONS = {"video/webm": "webm", "video/mp4": "mp4", "application/pdf": "pdf"}
_CHUNK = 1024 * 1024


class MediaError(ValueError):
    """A refused upload; the message is shown to the admin as it is."""


@dataclass(frozen=True)
class StoredMedia:
    name: str
    mime: str
    size: int


def media_dir() -> Path:
    cfg = current_app.config
    if cfg.get("MEDIA_DIR"):
        return Path(cfg["MEDIA_DIR"])
    return Path(cfg.get("INSTANCE_PATH") or INSTANCE_DIR) / "media"


def sniff(head: bytes) -> str | None:
    """MIME type from the first bytes: WebM (EBML header with DocType "webm"), MP4 (an
    ``ftyp`` box), PDF (``%PDF-``); None for anything else."""
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "video/webm"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def store_upload(stream: BinaryIO, kind: str, max_bytes: int, messages: dict[str, str]) -> StoredMedia:
    """Copy an upload into the media folder after checking its type and size.

    Nothing is left behind on refusal: the copy goes to a temporary name first and is renamed
    only once it passed. ``messages`` carries the translated texts for "empty", "type" and
    "size" (this module stays free of request and locale concerns).
    """
    head = stream.read(64)
    if not head:
        raise MediaError(messages["empty"])
    mime = sniff(head)
    if mime not in ACCEPTED.get(kind, ()):
        raise MediaError(messages["type"])
    folder = media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[mime]}"
    partial = folder / f".{name}.part"
    size = len(head)
    try:
        with open(partial, "wb") as out:
            out.write(head)
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise MediaError(messages["size"])
                out.write(chunk)
        os.replace(partial, folder / name)
    finally:
        partial.unlink(missing_ok=True)
    return StoredMedia(name, mime, size)


def copy_into_media(source: Path) -> StoredMedia:
    """Install a shipped file (demo content) under its own name; reruns overwrite it."""
    head = source.read_bytes()[:64]
    mime = sniff(head)
    if mime is None:
        raise MediaError(f"{source.name}: not a WebM, MP4 or PDF file")
    folder = media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / source.name)
    return StoredMedia(source.name, mime, source.stat().st_size)


def remove(name: str | None) -> None:
    if name:
        (media_dir() / Path(name).name).unlink(missing_ok=True)


def send_media(name: str, mime: str):
    """The file with range support; 404 when it is missing. PDFs open in the browser's own
    viewer (inline), videos are attachments (a <video> element still plays them)."""
    path = media_dir() / Path(name).name
    if not path.is_file():
        abort(404)
    inline = mime == "application/pdf"
    response = send_file(path, mimetype=mime, conditional=True, as_attachment=not inline,
                         download_name=f"study-{path.stem[:8]}.{EXTENSIONS.get(mime, 'bin')}", max_age=0)
    if inline:
        # "打开文件" shows it in the browser's own viewer; the reader draws it with PDF.js
        # (app/static/js/pdfview.mjs), so nothing frames it and A27's headers stay as they are.
        response.headers["Content-Disposition"] = f'inline; filename="study-{path.stem[:8]}.pdf"'
    return response
