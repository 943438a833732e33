"""Long demo films, assembled at seed time in pure Python (no encoder, nothing downloaded).

A lecture recording (专题讲座, 警示教育片) is long but shows few distinct pictures. The demo ships
every card of every film once, as a VP9 key frame in one IVF file
(``app/seed_data/media/films.ivf``, made by ``make_films.py`` beside it with Pillow and ffmpeg);
``plan`` says which films exist and how many minutes each card stays on screen (the warning
film's cards are written in ``study_items.yaml``; the daily lectures walk through our own
articles heading by heading). ``build_film`` writes a real WebM file from these: each card's key
frame at the card's start time, repeated every ``REPEAT_MS`` so a seek lands near a frame, and
the film's true duration in the header. A film therefore really lasts as long as the minutes
its item credits (``film_seconds`` reads the duration back from any WebM for the tests).
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from ..models.modules import MODULES, REGISTRY


#: A card's key frame is repeated this often (ms), so a seek never needs a far-away frame.
REPEAT_MS = 300_000


@dataclass(frozen=True)
class Card:
    frame: int
    kicker: str
    headline: str
    lines: tuple[str, ...]
    minutes: float


@dataclass(frozen=True)
class Film:
    slug: str
    title: str
    cards: tuple[Card, ...]

    @property
    def seconds(self) -> int:
        return int(round(sum(c.minutes for c in self.cards) * 60))


def read_ivf(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, frames) of an IVF file (32-byte header, then 12-byte frame headers)."""
    data = path.read_bytes()
    if data[:4] != b"DKIF" or data[8:12] != b"VP90":
        raise ValueError(f"{path.name}: not a VP9 IVF file")
    header_len = struct.unpack_from("<H", data, 6)[0]
    width, height = struct.unpack_from("<HH", data, 12)
    frames, pos = [], header_len
    while pos + 12 <= len(data):
        size = struct.unpack_from("<I", data, pos)[0]
        frames.append(data[pos + 12:pos + 12 + size])
        pos += 12 + size
    return width, height, frames


# --- EBML / Matroska (WebM) writing ---------------------------------------------------------

def _size(n: int) -> bytes:
    """An EBML variable-size integer for a data size."""
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return (n | (1 << (7 * length))).to_bytes(length, "big")
    raise ValueError("element too large")


def _el(element_id: int, payload: bytes) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + _size(len(payload)) + payload


def _uint(element_id: int, value: int, width: int | None = None) -> bytes:
    width = width or max(1, (value.bit_length() + 7) // 8)
    return _el(element_id, value.to_bytes(width, "big"))


def _float(element_id: int, value: float) -> bytes:
    return _el(element_id, struct.pack(">d", value))


def _str(element_id: int, value: str) -> bytes:
    return _el(element_id, value.encode("ascii"))


def write_webm(out: Path, width: int, height: int, blocks: list[tuple[int, bytes]], duration_ms: int) -> int:
    """A WebM file of key frames ``blocks`` = [(start ms, VP9 key frame)], lasting
    ``duration_ms``; one cluster and one cue point per frame. Returns the file size."""
    header = _el(0x1A45DFA3, _uint(0x4286, 1) + _uint(0x42F7, 1) + _uint(0x42F2, 4) + _uint(0x42F3, 8)
                 + _str(0x4282, "webm") + _uint(0x4287, 4) + _uint(0x4285, 2))
    info = _el(0x1549A966, _uint(0x2AD7B1, 1_000_000) + _str(0x4D80, "smart-study films.py")
               + _str(0x5741, "smart-study films.py") + _float(0x4489, float(duration_ms)))
    video = _el(0xE0, _uint(0xB0, width) + _uint(0xBA, height))
    tracks = _el(0x1654AE6B, _el(0xAE, _uint(0xD7, 1) + _uint(0x73C5, 1) + _uint(0x83, 1) + _str(0x86, "V_VP9")
                                 + _uint(0x9C, 0) + video))
    clusters = [_el(0x1F43B675, _uint(0xE7, start) + _el(0xA3, b"\x81\x00\x00\x80" + frame))
                for start, frame in blocks]

    def cues(positions: list[int]) -> bytes:
        return _el(0x1C53BB6B, b"".join(
            _el(0xBB, _uint(0xB3, start) + _el(0xB7, _uint(0xF7, 1) + _uint(0xF1, pos, 8)))
            for (start, _), pos in zip(blocks, positions)))

    # Cue positions are fixed-width, so the cues' size is known before the positions are.
    first = len(info) + len(tracks) + len(cues([0] * len(blocks)))
    positions, at = [], first
    for cluster in clusters:
        positions.append(at)
        at += len(cluster)
    body = info + tracks + cues(positions) + b"".join(clusters)
    data = header + _el(0x18538067, body)
    out.write_bytes(data)
    return len(data)


def build_film(film: Film, source, out: Path) -> int:
    """Write ``film`` as WebM to ``out`` from an IVF path or its ``read_ivf`` result; returns
    its duration in seconds."""
    width, height, frames = read_ivf(source) if isinstance(source, Path) else source
    blocks, start = [], 0
    for card in film.cards:
        length = int(round(card.minutes * 60_000))
        for offset in range(0, length, REPEAT_MS):
            blocks.append((start + offset, frames[card.frame]))
        start += length
    write_webm(out, width, height, blocks, start)
    return start // 1000


def film_seconds(path: Path) -> float:
    """The duration a WebM file declares (Segment → Info → Duration × TimecodeScale), in
    seconds; for tests that compare it with an item's credited minutes."""
    data = path.read_bytes()

    def read_vint(pos: int, keep_marker: bool) -> tuple[int, int]:
        first = data[pos]
        length = 1
        while length <= 8 and not first & (0x80 >> (length - 1)):
            length += 1
        value = int.from_bytes(data[pos:pos + length], "big")
        if not keep_marker:
            value &= (1 << (7 * length)) - 1
        return value, pos + length

    def children(start: int, end: int):
        pos = start
        while pos < end:
            element_id, pos = read_vint(pos, True)
            size, pos = read_vint(pos, False)
            yield element_id, pos, min(end, pos + size)
            pos += size

    scale, duration = 1_000_000, None
    for element_id, start, end in children(0, len(data)):
        if element_id != 0x18538067:
            continue
        for child, c_start, c_end in children(start, end):
            if child != 0x1549A966:
                continue
            for field, f_start, f_end in children(c_start, c_end):
                if field == 0x2AD7B1:
                    scale = int.from_bytes(data[f_start:f_end], "big")
                elif field == 0x4489:
                    raw = data[f_start:f_end]
                    duration = struct.unpack(">d" if len(raw) == 8 else ">f", raw)[0]
            break
        break
    if duration is None:
        raise ValueError(f"{path.name}: no duration")
    return duration * scale / 1e9


# --- what the demo films show ----------------------------------------------------------------

#: Module names as the films print them (the films are pictures, not translated pages).
MODULE_NAMES = {m.code: m.name for m in REGISTRY}
#: Campaign weeks that have lectures: this week and the ones before (the demo's four weeks of
#: history plus today's week).
LECTURE_WEEKS = 5
#: One lecture a working day, 120 minutes each: 2 hours a day, 10 hours a week, the targets.
LECTURE_MINUTES = 120
#: Monday to Friday: one module a day, in the registry's order.
LECTURE_DAYS = MODULES

_SECTION = re.compile(r"<h2>(.*?)</h2>\s*(?:<p>(.*?)</p>)?", re.S)  # an article's section headings
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Lecture:
    """A demo lecture recording: released on ``weekday`` (0 = Monday) of campaign week
    ``week`` (0 = four weeks before this one), about ``articles`` (their slugs)."""

    film: Film
    module: str
    week: int
    weekday: int
    articles: tuple[str, ...]
    summary: str
    outline: tuple[str, ...]


def _wrap(text: str, width: int, lines: int) -> tuple[str, ...]:
    text = _TAG.sub("", text or "").strip()
    first = re.split(r"(?<=[。！？])", text)[0] if text else ""
    out = [first[i:i + width] for i in range(0, len(first), width)][:lines]
    if out and len(first) > width * lines:
        out[-1] = out[-1][:-1] + "…"
    return tuple(out)


def _split_seconds(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan(entries: list[dict]) -> tuple[list[Film], list[Lecture]]:
    """Every demo film in key-frame order: first the films of items that carry a ``film:``
    block in ``study_items.yaml`` (their cards are written there), then the lectures, one
    per working day of each campaign week, each walking through one or two of that module's
    articles heading by heading (cards derived from our own articles)."""
    films: list[Film] = []
    frame = 0
    for entry in entries:
        if not entry.get("film"):
            continue
        cards = []
        for card in entry["film"]["cards"]:
            cards.append(Card(frame, card.get("kicker", ""), card["headline"], tuple(card.get("lines", ())),
                              float(card["minutes"])))
            frame += 1
        films.append(Film(entry["slug"], entry["title"], tuple(cards)))
    lectures: list[Lecture] = []
    by_module = {m: [e for e in entries if e["module"] == m and e.get("kind", "article") == "article"]
                 for m in LECTURE_DAYS}
    for week in range(LECTURE_WEEKS):
        for weekday, module in enumerate(LECTURE_DAYS):
            articles = by_module[module]
            chunk = articles[week * len(articles) // LECTURE_WEEKS:(week + 1) * len(articles) // LECTURE_WEEKS]
            name = MODULE_NAMES[module]
            title = f"{name}专题讲座第{week + 1}讲：{chunk[0]['title']}"
            raw = [(None, f"第{week + 1}讲 · 约{LECTURE_MINUTES}分钟", (f"{name}专题讲座", "演示录像"))]
            outline = []
            for article in chunk:
                raw.append((article["title"], "本讲内容", _wrap(article.get("summary", ""), 22, 2)))
                for heading, para in _SECTION.findall(article.get("body") or ""):
                    heading = _TAG.sub("", heading).strip()
                    raw.append((article["title"], heading, _wrap(para, 22, 3)))
                    outline.append(heading)
            seconds = _split_seconds(LECTURE_MINUTES * 60, len(raw))
            cards = []
            for (kicker, headline, lines), length in zip(raw, seconds):
                if kicker is None:
                    kicker, headline = title.split("：", 1)[0], chunk[0]["title"]
                cards.append(Card(frame, kicker, headline, lines, length / 60))
                frame += 1
            film = Film(f"lecture-w{week + 1}-{module.replace('_', '-')}", title, tuple(cards))
            films.append(film)
            lectures.append(Lecture(film, module, week, weekday, tuple(a["slug"] for a in chunk),
                                    f"每日一课：{name}专题辅导录像（演示），{LECTURE_MINUTES}分钟，"
                                    f"结合《{chunk[0]['title']}》逐段讲解。", tuple(outline)))
    return films, lectures
