"""Rebuild films.ivf: one VP9 key frame per card of every demo film (``app.study.films.plan``).

The demo's films (the warning film and the 25 daily lectures) are assembled at seed time, in
pure Python, from these key frames: each card stays on screen for its minutes, so every film
really lasts as long as it credits (``app/seed/films.py``). Everything is produced locally (no
download): Pillow draws the cards with the WenQuanYi Micro Hei font that Debian ships, ffmpeg
(libvpx-vp9) encodes them as key frames only. Run from the repository root after changing a
film's cards or the articles the lectures walk through:

    .venv/bin/python app/seed_data/media/make_films.py

Needs ``apt-get install ffmpeg fonts-wqy-microhei``; seeding does not.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
from app.study.films import plan  # noqa: E402

OUT = HERE / "films.ivf"
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
W, H = 640, 360
#: Stored size: a phone shows the film 360 px wide, and smaller frames keep films.ivf small.
SW, SH = 448, 252
NAVY, DEEP, GOLD, RED, WHITE, PALE = (26, 58, 107), (12, 28, 56), (201, 162, 39), (200, 16, 46), (255, 255, 255), (205, 216, 236)


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size)


def centred(draw: ImageDraw.ImageDraw, y: int, text: str, size: int, fill) -> None:
    f = font(size)
    while draw.textlength(text, font=f) > W - 40 and size > 14:
        size -= 2
        f = font(size)
    draw.text(((W - draw.textlength(text, font=f)) / 2, y), text, font=f, fill=fill)


def card(film_title: str, kicker: str, headline: str, lines, index: int, count: int) -> Image.Image:
    img = Image.new("RGB", (W, H), DEEP)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 70, W, 290], fill=NAVY)
    draw.rectangle([0, 66, W, 70], fill=GOLD)
    draw.rectangle([0, 290, W, 294], fill=GOLD)
    cx, cy = W // 2, 36
    draw.polygon([(cx - 16, cy - 18), (cx + 16, cy - 18), (cx + 16, cy + 2), (cx, cy + 20), (cx - 16, cy + 2)],
                 outline=GOLD, width=3)
    star = [(cx, cy - 12), (cx + 4, cy - 3), (cx + 12, cy - 3), (cx + 5, cy + 3), (cx + 8, cy + 12),
            (cx, cy + 6), (cx - 8, cy + 12), (cx - 5, cy + 3), (cx - 12, cy - 3), (cx - 4, cy - 3)]
    draw.polygon(star, fill=RED)
    centred(draw, 84, kicker, 20, GOLD)
    centred(draw, 118, headline, 40 if len(headline) <= 10 else 30, WHITE)
    for i, line in enumerate(lines):
        centred(draw, 180 + i * 32, line, 21, PALE)
    # Where this card sits in the film: a gold rule along the bottom.
    draw.rectangle([0, H - 6, int(W * (index + 1) / count), H], fill=RED)
    centred(draw, 312, f"{film_title[:30]} · {index + 1}/{count} · 智慧学习平台演示内容", 14, (140, 152, 176))
    return img


def main() -> int:
    if not shutil.which("ffmpeg"):
        print("ffmpeg is not installed (apt-get install ffmpeg)", file=sys.stderr)
        return 1
    entries = yaml.safe_load((ROOT / "app" / "seed_data" / "study_items.yaml").read_text(encoding="utf-8"))
    films, _ = plan(entries)
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for film in films:
            for i, c in enumerate(film.cards):
                assert c.frame == n
                card(film.title, c.kicker, c.headline, c.lines, i, len(film.cards)).resize((SW, SH), Image.LANCZOS).save(Path(tmp) / f"f{n:05d}.png")
                n += 1
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-framerate", "1", "-i", str(Path(tmp) / "f%05d.png"),
                        "-c:v", "libvpx-vp9", "-g", "1", "-auto-alt-ref", "0", "-lag-in-frames", "0", "-b:v", "0",
                        "-crf", "63", "-pix_fmt", "yuv420p", "-deadline", "good", "-f", "ivf", str(OUT)], check=True)
    print(f"{OUT} written: {OUT.stat().st_size} bytes, {n} key frames for {len(films)} films")
    return 0


if __name__ == "__main__":
    sys.exit(main())
