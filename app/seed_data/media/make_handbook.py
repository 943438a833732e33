"""Rebuild handbook.pdf, the demo's PDF document: 应知应会口袋书 (what every officer must know).

Pages are drawn with Pillow and the WenQuanYi Micro Hei font that Debian ships, then saved as a
PDF (one picture per page, so no font has to be embedded); nothing is downloaded. Run from the
repository root after changing the text below:

    .venv/bin/python app/seed_data/media/make_handbook.py

Needs ``apt-get install fonts-wqy-microhei``. The text is our own summary of the demo articles;
the item that shows it (``handbook-know-by-heart`` in study_items.yaml) credits the few minutes
it takes to read these pages.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
OUT = HERE / "handbook.pdf"
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
W, H, MARGIN = 1050, 1485, 80  # A5 at about 180 dpi

#: Pages: (heading, [(kind, text)]) where kind is "h" (sub-heading) or "p" (paragraph).
PAGES = [
    ("一、四项任务与三个环节", [
        ("h", "四项任务"),
        ("p", "筑牢政治忠诚、清除害群之马、整治顽瘴痼疾、弘扬英模精神。忠诚是魂，纯洁是本，治疾是要，英模是旗，四个方面同时用力。"),
        ("h", "三个环节"),
        ("p", "学习教育：打牢思想根基，完成规定学习内容和每周测试。"),
        ("p", "查纠整改：自查自纠、组织查处、整治顽瘴痼疾，如实填报个人有关事项。"),
        ("p", "总结提升：把整改成果固化为制度，好做法变成日常习惯。"),
        ("h", "自查从宽、被查从严"),
        ("p", "主动向组织说清问题，依规依纪从宽处理；心存侥幸、对抗组织，被查实的从严处理。"),
    ]),
    ("二、防止干预司法“三个规定”", [
        ("p", "三个规定分别针对领导干部干预司法活动、司法机关内部人员过问案件，以及司法人员与当事人、律师、特殊关系人、中介组织的接触交往。"),
        ("h", "干警要做到"),
        ("p", "1. 有人过问、插手案件，一律全面如实记录，按规定报告。"),
        ("p", "2. 不为他人打听案情、说情打招呼，不递条子、不转材料。"),
        ("p", "3. 不私下会见当事人及其律师，不接受请吃送礼，不介绍律师。"),
        ("p", "4. 记录报告受保护；不记录、不报告的，要被追责。"),
        ("h", "一句话"),
        ("p", "过问必留痕，留痕必报告；记录报告是对自己最好的保护。"),
    ]),
    ("三、六大顽瘴痼疾自查清单", [
        ("p", "1. 违反防止干预司法“三个规定”：接到说情是否记录报告？"),
        ("p", "2. 干警及家属违规经商办企业：配偶子女是否从事与我职权相关的经营？"),
        ("p", "3. 违规参股借贷：是否与管理服务对象有借贷或投资关系？"),
        ("p", "4. 有案不立、压案不查、有罪不究：经手案件是否该立未立、久拖不决？"),
        ("p", "5. 违规违法减刑、假释、暂予监外执行：材料是否真实，程序是否合规？"),
        ("p", "6. 离任法官检察官违规从事律师职业、充当“司法掮客”：是否与之不当往来？"),
        ("h", "整治思路"),
        ("p", "查：摸清底数；改：建台账、逐件销号；治：依规依纪依法处理；建：堵住制度漏洞。"),
    ]),
]


def wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return lines + ([line] if line else [])


def page(number: int, heading: str, blocks) -> Image.Image:
    img = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(img)
    title, sub, body, small = (ImageFont.truetype(FONT, s) for s in (50, 40, 36, 26))
    draw.rectangle([0, 0, W, 150], fill=40)
    draw.text((MARGIN, 30), "政法干警应知应会口袋书", font=small, fill=255)
    draw.text((MARGIN, 70), heading, font=title, fill=255)
    y = 210
    for kind, text in blocks:
        font = sub if kind == "h" else body
        if kind == "h":
            y += 16
        for line in wrap(draw, text, font, W - 2 * MARGIN):
            draw.text((MARGIN, y), line, font=font, fill=0)
            y += int(font.size * 1.55)
        y += 10
    draw.text((MARGIN, H - 70), f"智慧学习平台演示内容 · 第 {number} 页 / 共 {len(PAGES)} 页", font=small, fill=0)
    return img.convert("1", dither=Image.Dither.NONE)


def main() -> int:
    if not Path(FONT).exists():
        print("the WenQuanYi font is missing (apt-get install fonts-wqy-microhei)", file=sys.stderr)
        return 1
    pages = [page(n + 1, heading, blocks) for n, (heading, blocks) in enumerate(PAGES)]
    pages[0].save(OUT, "PDF", save_all=True, append_images=pages[1:], resolution=180, title="政法干警应知应会口袋书")
    print(f"{OUT} written: {OUT.stat().st_size} bytes, {len(pages)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
