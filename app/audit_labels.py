"""The audit trail in words (issue 16 point 5): every action code, object type, field key and
detail an audit row can hold, with the wording the audit log, the admin overview and the audit
exports show in the reader's language.

The rows keep their codes (filters, the API and the exports' 操作代码 column use them); only
what a person reads goes through here. Values are rendered by their key: booleans as 是/否,
module and role codes by their registry labels, unit and person ids by name, stored UTC times
in Asia/Shanghai, week keys as 第N周. ``tests/test_audit_labels.py`` scans every call of the audit
writer and fails when an action, object type, field or detail the code can log has no entry
here, so a new key arrives with its label.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from .timeutils import ISO_INSTANT_RE, WEEK_KEY_RE, parse_stored_instant, to_local
from .web import week_label

#: Dotted action code → what happened.
ACTIONS = {
    "auth.login": _l("登录"), "auth.login_failed": _l("登录失败"), "auth.logout": _l("退出"),
    "auth.password_changed": _l("修改密码"), "auth.mfa_enrolled": _l("绑定动态口令"),
    "auth.mfa_passed": _l("二次验证通过"), "access.denied": _l("越权访问被拒绝"),
    "user.create": _l("新增人员"), "user.update": _l("修改人员"), "user.reset_password": _l("重置密码"),
    "user.import": _l("批量导入人员"), "user.disable_demo": _l("停用演示账号"),
    "unit.create": _l("新增单位"), "unit.update": _l("修改单位"), "unit.move": _l("调整单位隶属"),
    "content.create": _l("新增学习内容"), "content.update": _l("修改学习内容"),
    "content.publish": _l("发布/撤回学习内容"), "content.policy": _l("修改学时规则"),
    "study.flag_void": _l("作废可疑学时"), "study.flag_dismiss": _l("核查无误"),
    "question.update": _l("修改试题"), "question.retire": _l("停用/启用试题"), "bank.import": _l("导入题库"),
    "exam.create": _l("生成每周测试"), "exam.create_failed": _l("每周测试生成失败"),
    "exam.blueprint": _l("修改组卷规则"), "exam.grant_extra_time": _l("办理延时"),
    "exam.grant_makeup": _l("办理补考"), "attempt.finish": _l("交卷"), "attempt.flagged": _l("答题过快"),
    "settings.score_weights": _l("修改综合得分权重"), "report.remind": _l("发送提醒"),
    "report.snapshot_refresh": _l("重新生成周报快照"),
    "task.create": _l("布置任务"), "task.review": _l("审核任务"), "task.update": _l("修改任务"),
    "task.delete": _l("删除任务"), "task.withdraw": _l("撤回任务"), "task.restore": _l("恢复任务"),
    "task.attendance": _l("确认参加活动"), "campaign.stage": _l("设置整顿阶段"),
    "announcement.send": _l("发布通知"), "audit.export": _l("导出操作日志"),
    "form.read": _l("查阅保密表单"), "form.submit": _l("提交表单"), "form.reopen": _l("退回表单修改"),
    "form.settings": _l("设置表单"), "form.publish": _l("发布表单版本"),
    "form.field_add": _l("添加表单题目"), "form.field_edit": _l("修改表单题目"), "form.field_move": _l("移动表单题目"),
    "form.field_delete": _l("删除表单题目"),
    "ledger.create": _l("登记整改问题"), "ledger.submit": _l("提交销号申请"), "ledger.review": _l("审核销号"),
    "order.create": _l("下发督办令"), "order.respond": _l("回复督办令"), "order.escalate": _l("督办令逾期升级"),
    "talk.record": _l("记录谈心谈话"), "talk.read": _l("查阅谈话记录"),
}

#: The part of an action before the dot (the audit log's 类别 filter).
CATEGORIES = {
    "auth": _l("登录与账号安全"), "access": _l("越权访问"), "user": _l("人员"), "unit": _l("单位"),
    "content": _l("学习内容"), "study": _l("学习核查"), "question": _l("试题"), "bank": _l("题库"),
    "exam": _l("每周测试"), "attempt": _l("答卷"), "settings": _l("设置"), "report": _l("统计报表"),
    "task": _l("任务"), "campaign": _l("整顿阶段"), "announcement": _l("通知"), "audit": _l("操作日志"),
    "form": _l("查纠整改表单"), "ledger": _l("整改台账"), "order": _l("督办令"),
    "talk": _l("谈心谈话"),
}

#: ``target_type`` → the kind of object. Model targets are the class name in lower case
#: (``audit.build``); the rest are written literally by the callers.
TARGET_TYPES = {
    # One object of a kind (English: Person, Task, File, Setting), where the word alone is a menu's plural.
    "user": lazy_pgettext("audit object", "人员"), "task": lazy_pgettext("audit object", "任务"),
    "file": lazy_pgettext("audit object", "文件"), "path": lazy_pgettext("audit object", "文件"),
    "setting": lazy_pgettext("audit object", "设置"), "appsetting": lazy_pgettext("audit object", "设置"),
    "unit": _l("单位"), "endpoint": _l("页面"), "week": _l("周次"), "officers": _l("干警"), "audit_log": _l("操作日志"),
    "form": _l("表单"), "form_submission": _l("表单填报"), "formsubmission": _l("表单填报"),
    "formversion": _l("表单版本"), "formfile": _l("表单附件"),
    "ledgeritem": _l("整改问题"), "ledgerevidence": _l("整改佐证材料"), "supervisionorder": _l("督办令"),
    "supervisiontarget": _l("督办令（单位）"), "talk": _l("谈心谈话"),
    "studyitem": _l("学习内容"), "studypolicy": _l("学时规则"), "studyflag": _l("可疑学时"),
    "studybeat": _l("学习记录"), "studyday": _l("每日学时"), "studycursor": _l("学习记录"),
    "studyprogress": _l("学习进度"), "question": _l("试题"), "questionversion": _l("试题版本"),
    "exam": _l("每周测试"), "examblueprint": _l("组卷规则"), "exampoolitem": _l("试题池"),
    "attempt": _l("答卷"), "attemptquestion": _l("答卷题目"), "examgrant": _l("延时/补考"),
    "tasksubmission": _l("任务完成情况"), "campaign": _l("教育整顿"),
    "campaignstage": _l("整顿阶段"), "announcement": _l("通知"), "notification": _l("消息"),
    "reportsnapshot": _l("周报快照"), "reportsnapshotunit": _l("周报快照"),
    "practiceset": _l("练习"), "practiceitem": _l("练习题"), "practicecard": _l("错题卡"),
    "jobrun": _l("定时任务"), "authsession": _l("登录会话"), "loginthrottle": _l("登录限制"),
    "auditlog": _l("操作日志"),
}

#: Keys of ``before``/``after`` → the field's name.
FIELDS = {
    "": _l("内容"),
    "officer_id": _l("谈话对象"), "talked_on": _l("谈话日期"),
    # people and units
    "name": _l("名称"), "unit_id": _l("单位"), "role": _l("角色"), "is_active": _l("启用"), "phone": _l("手机号"),
    "badge_no": _l("警号"), "code": _l("代码"), "parent_id": _l("上级单位"), "sort_order": _l("排序"),
    "created": _l("新增"), "updated": _l("更新"), "skipped": _l("跳过"), "unchanged": _l("未变"),
    "new_versions": _l("新版本"), "version": _l("版本"),
    # study content and the credit policy
    "module": _l("模块"), "kind": _l("类型"), "title": _l("标题"), "summary": _l("摘要"), "body_html": _l("正文"),
    "media_file": _l("文件"), "media_type": _l("文件类型"), "media_url": _l("视频地址"),
    "credited_minutes": _l("计入学时（分钟）"), "required": _l("必学"), "stage": _l("整顿阶段"),
    "target_unit_id": _l("面向单位"), "target_unit": _l("面向单位"), "publish_at": _l("定时发布"),
    "unpublish_at": _l("定时下线"), "is_published": _l("已发布"),
    "heartbeat_seconds": _l("心跳间隔"), "slack_seconds": _l("容差"), "min_gap_seconds": _l("最短间隔"),
    "idle_seconds": _l("无操作判定"), "item_cap_multiple": _l("单篇学时上限（倍）"),
    "daily_cap_seconds": _l("每日学时上限"), "daily_target_seconds": _l("每日学习目标"),
    "weekly_target_seconds": _l("每周学习目标"),
    "status": _l("状态"), "seconds_by_day": _l("每日学时"), "voided_seconds": _l("作废学时"),
    # questions, exams, blueprints
    "stem": _l("题干"), "options": _l("选项"), "answer": _l("答案"), "explanation": _l("解析"),
    "difficulty": _l("难度"), "tags": _l("标签"), "source": _l("出处"), "is_retired": _l("已停用"),
    "type": _l("题型"), "count": _l("题数"),
    "week": _l("周次"), "pool": _l("题池题数"), "bank": _l("题库题数"), "duration": _l("时长（分钟）"),
    "exam": _l("测试"), "minutes": _l("分钟"), "ends_at": _l("截止时间"), "reason": _l("原因"),
    "score": _l("成绩"), "id": _l("编号"), "rules": _l("抽题规则"), "points": _l("每题分值"),
    "duration_minutes": _l("答题时长（分钟）"), "opens_offset_minutes": _l("开放时间（周一起，分钟）"),
    "closes_offset_minutes": _l("关闭时间（周一起，分钟）"), "pass_mark": _l("及格分"),
    "reveal_policy": _l("公布答案"), "multiple_partial": _l("多选题少选得部分分"),
    "avoid_recent_weeks": _l("避开最近几周的题"), "pool_multiple": _l("题池倍数"),
    # tasks and the campaign
    "description": _l("说明"), "due_at": _l("截止时间"), "min_chars": _l("最少字数"), "comment": _l("审核意见"),
    "task_id": _l("任务"), "user_id": _l("干警"), "withdrawn": _l("已撤回"), "submissions": _l("已提交人数"),
    "starts_on": _l("开始日期"), "ends_on": _l("结束日期"), "stage_id": _l("整顿阶段"), "item_id": _l("关联学习内容"),
    "created_at": _l("创建时间"), "withdrawn_at": _l("撤回时间"), "withdrawn_by_id": _l("撤回人"),
    # weights, announcements, exports
    "study": _l("学习达标率"), "participation": _l("参考率"), "tasks": _l("任务完成率"),
    "audience": _l("接收人"), "body_format": _l("正文格式"), "recipients": _l("接收人数"),
    "format": _l("文件格式"), "rows": _l("条数"), "filters": _l("筛选条件"),
    "category": _l("类别"), "action": _l("操作"), "actor": _l("操作人"), "target_type": _l("对象类型"),
    "target_id": _l("对象编号"), "date_from": _l("开始日期"), "date_to": _l("结束日期"), "outcome": _l("结果"),
    "ip": _l("IP 地址"),
    # 一键提醒 (app/reports/services.py remind)
    "deadline": _l("整改期限"), "responsible_id": _l("责任人"), "unit_ids": _l("督办单位"),
    "attachment": _l("附件"), "order_id": _l("督办令"), "files": _l("佐证材料数"),
    "sent": _l("已发送人数"), "skipped": _l("今日已提醒（跳过）"),
    # the office's form builder (app/forms_/services.py)
    "field_key": _l("题目编号"), "field_type": _l("题目类型"), "field_label": _l("题目"), "field_help": _l("填写提示"),
    "columns": _l("表格的列"), "details_label": _l("选“是”时的说明提示"), "position": _l("位置（第几项）"),
}

#: A field whose name depends on the object: a person's ``name`` is 姓名.
FIELD_BY_TARGET = {("user", "name"): _l("姓名"), ("tasksubmission", "status"): _l("完成状态"),
                   ("exam", "week"): _l("周次"), ("form", "required"): _l("必填")}

#: Fixed ``detail`` texts.
DETAILS = {
    "bad password": _l("密码错误"), "unknown user": _l("账号不存在"), "account disabled": _l("账号已停用"),
    "initial password expired": _l("初始密码过期"),
}
#: The reasons of a refused access (``access.denied``), after the method (and endpoint).
DENIALS = {
    "role": _l("角色无此权限"), "scope": _l("超出管辖范围"), "not theirs": _l("不在本人管辖范围内"),
    "officers out of scope": _l("含管辖范围外的干警"),
}
METHODS = {"GET": _l("打开页面"), "HEAD": _l("打开页面"), "POST": _l("提交操作"), "PUT": _l("提交操作"),
           "PATCH": _l("提交操作"), "DELETE": _l("删除操作")}
#: The part of an endpoint before the dot (its blueprint) → the area of the site.
AREAS = {
    "admin": _l("管理后台"), "audit": _l("操作日志"), "api": _l("接口"), "auth": _l("登录与账号"),
    "bank": _l("题库"), "content": _l("学习内容管理"), "exam_admin": _l("考试管理"), "exams": _l("考试"),
    "main": _l("首页"), "notices": _l("通知"), "reports": _l("统计报表"), "study": _l("学习"), "tasks": _l("任务"),
}

_YES, _NO = _l("是"), _l("否")
#: Separators, translated like words: 角色：干警；手机号：… reads "Role: Officer; Phone: …" in English.
_COLON, _SEMI, _LIST = _l("："), _l("；"), _l("、")
_CHARS = re.compile(r"(\d+) chars")
_UNIT_KEYS = frozenset({"unit_id", "parent_id", "target_unit_id"})
_SECONDS_KEYS = frozenset({"heartbeat_seconds", "slack_seconds", "min_gap_seconds", "idle_seconds",
                           "daily_cap_seconds", "daily_target_seconds", "weekly_target_seconds", "voided_seconds"})
#: Where ``names`` (see ``audit_queries.target_names``) keeps the names an id of this key refers to.
REFERENCE_KINDS = {**{k: "unit" for k in _UNIT_KEYS}, "user_id": "user", "withdrawn_by_id": "user",
                   "task_id": "task", "stage_id": "stage", "item_id": "item", "responsible_id": "user",
                   "officer_id": "user"}


@lru_cache(maxsize=1)
def value_labels() -> dict[str, Mapping]:
    """Coded values by field: each table is the one its page already uses (imported late: forms
    pull in WTForms, and this module is imported by the app's template setup)."""
    from .admin.forms import ROLE_CHOICES
    from .exams.bank_format import TYPE_LABELS
    from .exams.keys import REVEAL_POLICY_LABELS
    from .forms_.webforms import FIELD_LABELS
    from .ledger import labels as ledger
    from .notices.forms import AUDIENCE_LABELS, FORMAT_LABELS
    from .study import labels as study
    from .tasks.forms import KIND_LABELS as TASK_KINDS
    from .talks.labels import KIND_LABELS as TALK_KINDS
    from .tasks.forms import STATUS_LABELS as TASK_STATUSES

    stages = study.STAGE_LABELS
    # The kinds a 一键提醒 sends (app/notices/reminders.py), named by their notice titles.
    REMINDER_KINDS = {"exam_reminder": _l("本周测试还未参加"), "study_reminder": _l("本周学习时长还未达标"),
                      "exam_failed": _l("本周测试未及格")}
    return {
        "module": study.MODULE_LABELS, "role": dict(ROLE_CHOICES), "kind": {**study.KIND_LABELS, **TASK_KINDS, **REMINDER_KINDS, **TALK_KINDS},
        "stage": stages, "code": stages, "status": {**ledger.STATUS_LABELS, **TASK_STATUSES, **study.FLAG_STATUS_LABELS},
        "source": ledger.SOURCE_LABELS, "category": ledger.CATEGORY_LABELS,
        "audience": AUDIENCE_LABELS, "body_format": FORMAT_LABELS, "type": TYPE_LABELS, "qtype": TYPE_LABELS,
        "difficulty": {1: _l("易"), 2: _l("中"), 3: _l("难")},
        "reason": {"deadline": _l("到时自动交卷"), "submitted": _l("本人交卷")},
        "reveal_policy": {**REVEAL_POLICY_LABELS, None: _l("按系统设置")},
        "format": {"xlsx": "Excel", "csv": "CSV"},
        "outcome": {"failure": _l("失败"), "success": _l("成功")},
        "points": TYPE_LABELS, "field_type": FIELD_LABELS,
    }


def action_label(code: str | None) -> str:
    return str(ACTIONS[code]) if code in ACTIONS else (code or "")


def target_label(target_type: str | None) -> str:
    return str(TARGET_TYPES[target_type]) if target_type in TARGET_TYPES else (target_type or "")


def field_label(key: str, target_type: str | None = None) -> str:
    label = FIELD_BY_TARGET.get((target_type, key)) or FIELDS.get(key)
    return str(label) if label is not None else key


def audit_label(code: str | None) -> str:
    """An action code or a fixed detail text in words; anything else as it is (older callers)."""
    if code in ACTIONS:
        return str(ACTIONS[code])
    return str(DETAILS[code]) if code in DETAILS else (code or "")


def _week(key: str) -> str:
    return week_label(key)


def _denied(detail: str) -> str:
    """``GET role``, ``POST scope``, ``POST tasks.review not theirs`` → 打开时被拒：角色无此权限."""
    method, _sep, rest = detail.partition(" ")
    if method not in METHODS:
        return detail
    endpoint, _sep, why = rest.partition(" ")
    if rest in DENIALS or "." not in endpoint:
        why, endpoint = rest, ""
    reason = DENIALS.get(why, why)
    area = AREAS.get(endpoint.split(".", 1)[0]) if endpoint else None
    text = _("%(how)s被拒绝：%(why)s", how=METHODS[method], why=reason)
    return _("%(text)s（%(area)s）", text=text, area=area) if area else text


def _detail_export(detail: str) -> str:
    fmt, _sep, n = detail.partition(" ")
    return _("%(fmt)s，%(n)s 条", fmt=value_labels()["format"].get(fmt, fmt), n=n) if n.isdigit() else detail


def _detail_accounts(detail: str) -> str:
    m = re.fullmatch(r"(\d+) accounts", detail)
    return _("%(n)s 个账号", n=m.group(1)) if m else detail


def _detail_burst(detail: str) -> str:
    m = re.fullmatch(r"(\d+) saves within (\d+) s", detail)
    return _("%(s)s 秒内保存 %(n)s 次", s=m.group(2), n=m.group(1)) if m else detail


def _detail_flag(detail: str) -> str:
    from .study.labels import FLAG_LABELS

    reason, _sep, week = detail.partition(" ")
    if reason not in FLAG_LABELS:
        return detail
    return f"{FLAG_LABELS[reason]} · {_week(week)}" if WEEK_KEY_RE.fullmatch(week) else str(FLAG_LABELS[reason])


def _detail_form_read(detail: str) -> str:
    """How a confidential submission was read (app/forms_/access.py)."""
    ways = {"page": _l("查看填报内容"), "file": _l("查看附件"), "export": _l("导出 Excel"), "api": _l("通过接口查看")}
    return str(ways.get(detail, detail))


def _detail_form_version(detail: str) -> str:
    """The version a form was published as: ``v3`` → 第 3 版."""
    return str(_l("第 %(n)s 版", n=detail[1:])) if detail.startswith("v") and detail[1:].isdigit() else detail


def _verbatim(detail: str) -> str:
    """Already words for people (a reminder's title, the bank's reasons in Chinese)."""
    return detail


#: Actions whose ``detail`` is built from parts (an f-string at the call): how to read it.
DETAIL_FORMATS = {
    "access.denied": _denied, "audit.export": _detail_export, "user.disable_demo": _detail_accounts,
    "attempt.flagged": _detail_burst, "study.flag_void": _detail_flag, "study.flag_dismiss": _detail_flag,
    "exam.create_failed": _verbatim, "report.remind": _verbatim,
    "form.read": _detail_form_read, "form.publish": _detail_form_version,
    # the field's own label, as the office wrote it
    "form.field_add": _verbatim, "form.field_edit": _verbatim, "form.field_move": _verbatim,
    "form.field_delete": _verbatim,
}


def detail_label(action: str | None, detail: str | None) -> str:
    if not detail:
        return ""
    if detail in DETAILS:
        return str(DETAILS[detail])
    reader = DETAIL_FORMATS.get(action or "")
    return reader(detail) if reader else detail


def target_text(target_type: str | None, target_id: str | None) -> str:
    """The object as a person reads it: 人员 #12, 第11周（03-09～03-15）, 页面：管理后台."""
    if not target_type:
        return ""
    if target_type == "week" and target_id:
        return _week(target_id)
    if target_type == "endpoint" and target_id:
        area = AREAS.get(target_id.split(".", 1)[0])
        return f"{TARGET_TYPES['endpoint']}{_COLON}{area}" if area else f"{TARGET_TYPES['endpoint']} {target_id}"
    if target_type == "officers" and target_id:
        return _("%(n)s 名干警", n=target_id)
    label = target_label(target_type)
    return f"{label} #{target_id}" if target_id else label


def _duration(seconds: Any) -> str:
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return str(seconds)
    if total < 60 or total % 60:
        return _("%(n)d 秒", n=total)
    hours, minutes = divmod(total // 60, 60)
    if hours and minutes:
        return _("%(h)d 小时 %(m)d 分钟", h=hours, m=minutes)
    return _("%(h)d 小时", h=hours) if hours else _("%(m)d 分钟", m=minutes)


def _local(text: str) -> str:
    try:
        moment = parse_stored_instant(text)
    except ValueError:
        return text
    return f"{to_local(moment):%Y-%m-%d %H:%M}"


def value_text(key: str, value: Any, names: Mapping | None = None, limit: int = 120) -> str:
    """One stored value as a person reads it (see the module docstring); long text is cut."""
    names = names or {}
    table = value_labels().get(key)
    if value is None:
        return str(table[None]) if table and None in table else "—"
    if isinstance(value, bool):
        return str(_YES if value else _NO)
    if table is not None and not isinstance(value, (dict, list)) and value in table:
        return str(table[value])
    if key in REFERENCE_KINDS and isinstance(value, (int, str)) and not isinstance(value, bool):
        name = names.get((REFERENCE_KINDS[key], str(value)))
        return name if name else f"#{value}"
    if key in _SECONDS_KEYS:
        return _duration(value)
    if isinstance(value, dict):
        if key == "seconds_by_day":
            parts = [f"{day}{_COLON}{_duration(v)}" for day, v in value.items()]
        else:
            labels = value_labels().get(key, {})
            parts = [f"{labels.get(k) or field_label(str(k))}{_COLON}{value_text(str(k), v, names)}"
                     for k, v in value.items()]
        text = str(_SEMI).join(parts)
    elif isinstance(value, list):
        if key == "options":  # [["A", "text"], …]
            text = str(_SEMI).join(" ".join(map(str, o)) if isinstance(o, list) else str(o) for o in value)
        else:
            text = str(_LIST).join(value_text(key, v, names) for v in value)
    elif isinstance(value, str):
        if key == "body_html" and (m := _CHARS.fullmatch(value)):
            text = _("%(n)s 字", n=m.group(1))
        elif key in ("week", "exam") and WEEK_KEY_RE.fullmatch(value):
            text = _week(value)
        elif ISO_INSTANT_RE.fullmatch(value):
            text = _local(value)
        else:
            text = value
    else:
        text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def changes(row, names: Mapping | None = None) -> list[tuple[str, str | None, str | None]]:
    """(field label, before, after) in words for the fields a row changed (``AuditRow.changes``
    decides which); None where the field was absent on that side."""
    out = []
    before = row.before if isinstance(row.before, dict) else {"": row.before}
    after = row.after if isinstance(row.after, dict) else {"": row.after}
    for key, old, new in row.changes():
        line = (field_label(key, row.target_type) if key else "",
                None if old is None else value_text(key, before.get(key), names),
                None if new is None else value_text(key, after.get(key), names))
        if line not in out:  # target_unit_id and target_unit both read 面向单位：小店分局
            out.append(line)
    return out


def snapshot_text(values: Any, target_type: str | None = None, names: Mapping | None = None) -> str:
    """A whole ``before`` or ``after`` in words, for the exports: 角色：干警；手机号：138…"""
    if values is None:
        return ""
    if not isinstance(values, dict):
        return value_text("", values, names, limit=2000)
    parts = [f"{field_label(str(k), target_type)}{_COLON}{value_text(str(k), v, names, limit=2000)}"
             for k, v in values.items()]
    return str(_SEMI).join(dict.fromkeys(parts))


def references(rows) -> dict[str, set[int]]:
    """Ids the rows' ``before``/``after`` refer to, by kind (unit, user, task), for one name lookup."""
    found: dict[str, set[int]] = {}
    for row in rows:
        for values in (row.before, row.after):
            if not isinstance(values, dict):
                continue
            for key, kind in REFERENCE_KINDS.items():
                value = values.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    found.setdefault(kind, set()).add(value)
    return found


def jinja_globals() -> dict:
    """What templates call: ``audit_label`` (kept for older templates) and the row helpers."""
    return {"audit_label": audit_label, "audit_action": action_label, "audit_detail": detail_label,
            "audit_target": target_text, "audit_changes": changes, "audit_target_type": target_label}
