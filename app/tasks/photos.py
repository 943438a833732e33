"""Task proof photos (QUALITY A34): checked by content, resized, re-encoded, stripped, renamed.

An upload is accepted only if its first bytes say JPEG, PNG or WebP *and* Pillow decodes it.
It is then turned upright (EXIF orientation), shrunk to at most ``MAX_SIDE`` px and re-encoded
as a fresh JPEG built from the pixels alone, so no EXIF block (GPS position, camera serial)
and no other metadata survives. The file goes to ``MEDIA_DIR/tasks`` under a random name; the
uploaded name is never used. Nothing is left behind on refusal.
"""
from __future__ import annotations

import io
import os
import secrets
import warnings
from pathlib import Path
from typing import BinaryIO

from flask import abort, send_file
from PIL import Image, ImageOps

from ..study.media import media_dir

MAX_SIDE = 1600
MAX_PIXELS = 50_000_000
MAX_PHOTOS = 3
NAME_LEN = 32 + 4  # token_hex(16) + ".jpg"


class PhotoError(ValueError):
    """A refused photo; the message is shown to the officer as it is."""


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def photo_dir() -> Path:
    return media_dir() / "tasks"


def _read_capped(stream: BinaryIO, max_bytes: int, messages: dict) -> bytes:
    data = stream.read(max_bytes + 1)
    if not data:
        raise PhotoError(messages["empty"])
    if len(data) > max_bytes:
        raise PhotoError(messages["size"])
    return data


def clean_jpeg(data: bytes, messages: dict) -> bytes:
    """The picture as a fresh JPEG with no metadata, at most MAX_SIDE px on its long side."""
    if sniff(data[:16]) is None:
        raise PhotoError(messages["type"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in ("JPEG", "PNG", "WEBP") or img.width * img.height > MAX_PIXELS:
                    raise PhotoError(messages["type"])
                img = ImageOps.exif_transpose(img)
                img.thumbnail((MAX_SIDE, MAX_SIDE))
                rgb = img.convert("RGB")
    except PhotoError:
        raise
    except Exception as err:  # truncated, corrupt, a bomb, or not an image at all
        raise PhotoError(messages["type"]) from err
    # Rebuild from raw pixels: no info dict, no EXIF, no ICC, no XMP comes along.
    bare = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    bare.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def store(stream: BinaryIO, max_bytes: int, messages: dict) -> str:
    """Check, clean and write one photo; returns its server-chosen file name."""
    data = clean_jpeg(_read_capped(stream, max_bytes, messages), messages)
    return write_new(photo_dir(), data, "jpg")


def write_new(folder: Path, data: bytes, ext: str) -> str:
    """Write ``data`` under a new random, server-chosen name in ``folder`` and return the name.
    Written to a hidden ``.part`` file first and renamed, so a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    partial = folder / f".{name}.part"
    try:
        partial.write_bytes(data)
        os.replace(partial, folder / name)
    finally:
        partial.unlink(missing_ok=True)
    return name


def remove(names) -> None:
    for name in names or ():
        if name:
            (photo_dir() / Path(name).name).unlink(missing_ok=True)


def send_photo(name: str):
    """Always a JPEG we wrote ourselves; sent as image/jpeg with nosniff (set globally)."""
    path = photo_dir() / Path(name).name
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=0,
                         download_name=f"proof-{path.stem[:8]}.jpg")
    response.headers["Content-Disposition"] = f'inline; filename="proof-{path.stem[:8]}.jpg"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
