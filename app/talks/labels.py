"""Words for talk kinds and topics (codes in app/models/talks.py)."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {"heart": _l("谈心谈话"), "reminder": _l("提醒谈话"), "admonish": _l("诫勉谈话"), "home": _l("家访")}
TOPIC_LABELS = {"thought": _l("思想状况"), "pressure": _l("工作压力"), "family": _l("家庭困难"),
                "integrity": _l("廉洁自律"), "relatives": _l("亲属从业"), "offduty": _l("八小时以外"),
                "other": _l("其他")}
#: Who recorded a talk, as the officer talked with reads it (a role, never a name in the list).
RECORDER_LABELS = {"supervisor": _l("单位管理员"), "inspector": _l("纪检督察"), "leader": _l("领导"),
                   "admin": _l("教育整顿办")}
