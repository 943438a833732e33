"""User-visible names of study codes (translated at render time)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models.modules import REGISTRY

#: From the module registry (app/models/modules.py), in its display order.
MODULE_LABELS = {m.code: m.label for m in REGISTRY}
MODULE_BLURBS = {m.code: m.blurb for m in REGISTRY}
#: The palette colour of each module's card (``.st-accent--<accent>`` in static/css/study.css).
MODULE_ACCENTS = {m.code: m.accent for m in REGISTRY}
KIND_LABELS = {"article": _l("文章"), "video": _l("视频"), "document": _l("文件")}
STAGE_LABELS = {"study": _l("学习教育"), "rectify": _l("查纠整改"), "summary": _l("总结提升")}
FLAG_LABELS = {"night": _l("凌晨学习"), "uniform": _l("停留时间过于整齐"), "no_interaction": _l("长时间无操作")}
FLAG_STATUS_LABELS = {"open": _l("待核查"), "dismissed": _l("已核查，学时有效"), "voided": _l("学时已作废")}


def labels() -> dict:
    """For templates: ``module_labels``, ``kind_labels``… in one context dict (weeks: the ``week_label`` filter)."""
    return {"module_labels": MODULE_LABELS, "module_blurbs": MODULE_BLURBS, "module_accents": MODULE_ACCENTS,
            "kind_labels": KIND_LABELS, "stage_labels": STAGE_LABELS, "flag_labels": FLAG_LABELS,
            "flag_status_labels": FLAG_STATUS_LABELS}
