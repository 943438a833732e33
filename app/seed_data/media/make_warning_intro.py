"""Rebuild warning_intro.webm, the demo's short warning-education film (警示教育片 片头).

Everything is produced locally (no download): Pillow draws the title cards with the
WenQuanYi Micro Hei font that Debian ships, ffmpeg (libvpx-vp9) encodes them. Run from the
repository root:

    .venv/bin/python app/seed_data/media/make_warning_intro.py

Needs ``apt-get install ffmpeg fonts-wqy-microhei``. The result is 16 s, 640×360, silent,
well under 1 MB, and is committed beside this script.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
OUT = HERE / "warning_intro.webm"
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
W, H, FPS = 640, 360, 12
NAVY, DEEP, GOLD, RED, WHITE, PALE = (26, 58, 107), (12, 28, 56), (201, 162, 39), (200, 16, 46), (255, 255, 255), (205, 216, 236)

#: (seconds, kicker, headline, body lines)
CARDS = [
    (3.5, "政法队伍教育整顿", "警示教育片", ["以案为鉴 · 守住底线"]),
    (3.0, "第一课", "防止干预司法“三个规定”", ["过问案件，一律登记报告", "不打招呼，不递条子"]),
    (3.0, "第二课", "严禁违规经商办企业", ["干警及家属违规经商、参股借贷", "是整治的顽瘴痼疾之一"]),
    (3.0, "第三课", "自查从宽 · 被查从严", ["主动说清问题，是对自己负责", "心存侥幸，终将付出代价"]),
    (3.5, "太原市政法队伍教育整顿", "筑牢政治忠诚", ["清除害群之马 · 整治顽瘴痼疾 · 弘扬英模精神"]),
]


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size)


def centred(draw: ImageDraw.ImageDraw, y: int, text: str, size: int, fill) -> None:
    f = font(size)
    width = draw.textlength(text, font=f)
    draw.text(((W - width) / 2, y), text, font=f, fill=fill)


def card(kicker: str, headline: str, lines: list[str], progress: float) -> Image.Image:
    img = Image.new("RGB", (W, H), DEEP)
    draw = ImageDraw.Draw(img)
    # A navy band with gold rules: the platform's colours.
    draw.rectangle([0, 70, W, 290], fill=NAVY)
    draw.rectangle([0, 66, W, 70], fill=GOLD)
    draw.rectangle([0, 290, W, 294], fill=GOLD)
    # A police-badge-like emblem: a shield outline with a star.
    cx, cy = W // 2, 36
    draw.polygon([(cx - 16, cy - 18), (cx + 16, cy - 18), (cx + 16, cy + 2), (cx, cy + 20), (cx - 16, cy + 2)],
                 outline=GOLD, width=3)
    star = [(cx, cy - 12), (cx + 4, cy - 3), (cx + 12, cy - 3), (cx + 5, cy + 3), (cx + 8, cy + 12),
            (cx, cy + 6), (cx - 8, cy + 12), (cx - 5, cy + 3), (cx - 12, cy - 3), (cx - 4, cy - 3)]
    draw.polygon(star, fill=RED)
    centred(draw, 88, kicker, 22, GOLD)
    centred(draw, 124, headline, 44 if len(headline) <= 8 else 34, WHITE)
    for i, line in enumerate(lines):
        centred(draw, 200 + i * 34, line, 22, PALE)
    # Progress rule along the bottom, so a viewer sees the film moving.
    draw.rectangle([0, H - 6, int(W * progress), H], fill=RED)
    centred(draw, 316, "智慧学习平台 · 演示内容", 16, (140, 152, 176))
    return img


def fade(img: Image.Image, alpha: float) -> Image.Image:
    return Image.blend(Image.new("RGB", (W, H), (0, 0, 0)), img, max(0.0, min(1.0, alpha)))


def main() -> int:
    if not shutil.which("ffmpeg"):
        print("ffmpeg is not installed (apt-get install ffmpeg)", file=sys.stderr)
        return 1
    total = sum(c[0] for c in CARDS)
    with tempfile.TemporaryDirectory() as tmp:
        n, elapsed = 0, 0.0
        for seconds, kicker, headline, lines in CARDS:
            frames = int(seconds * FPS)
            for i in range(frames):
                t = elapsed + i / FPS
                alpha = min(1.0, i / (FPS * 0.4), (frames - i) / (FPS * 0.4))
                fade(card(kicker, headline, lines, t / total), alpha).save(Path(tmp) / f"f{n:05d}.png")
                n += 1
            elapsed += seconds
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-framerate", str(FPS), "-i", str(Path(tmp) / "f%05d.png"),
                        "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "40", "-pix_fmt", "yuv420p", "-an",
                        "-row-mt", "1", "-deadline", "good", str(OUT)], check=True)
    print(f"{OUT} written: {OUT.stat().st_size} bytes, {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
