"""Display labels of the ledger's codes (the codes themselves live in app/models/ledger.py).

The six chronic problems are named as the campaign's own reports list them (seeds 000: 违反防止干预
司法“三个规定”、干警及其家属违规从事经营活动（违规违法经商办企业）、违规参股借贷、有案不立/压案不查/
有罪不究、违规违法减刑假释暂予监外执行、离任法官检察官违规从事律师职业/充当“司法掮客”).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

SOURCE_LABELS = {"self": _l("自查"), "org": _l("组织查处"), "inspection": _l("督导反馈"), "public": _l("群众反映")}
CATEGORY_LABELS = {
    "interference": _l("违反防止干预司法“三个规定”"),
    "business": _l("违规违法经商办企业"),
    "lending": _l("违规参股借贷"),
    "cases": _l("有案不立、压案不查、有罪不究"),
    "sentence": _l("违规违法减刑、假释、暂予监外执行"),
    "lawyer": _l("离任法官检察官违规从事律师职业、充当“司法掮客”"),
    "other": _l("其他"),
}
STATUS_LABELS = {"open": _l("整改中"), "submitted": _l("待验收"), "closed": _l("已销号"),
                 "returned": _l("已退回")}
#: The state of one unit's part of a 督办令 (``queries.target_state``).
TARGET_LABELS = {"responded": _l("已回复"), "late": _l("逾期后回复"), "pending": _l("未回复"),
                 "overdue": _l("已逾期"), "escalated": _l("已逾期 · 已升级督办")}
