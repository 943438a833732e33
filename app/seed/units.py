"""Taiyuan's political-legal units for the demo (PRODUCT.md "Domain").

Station names are illustrative; the structure (city → system → branch → station) and the
branch list follow the product brief.
"""
from __future__ import annotations

# (code, name, [(code, name, [(code, name), ...]), ...])
TAIYUAN = ("TY", "太原市政法系统", [
    ("TY-GA", "太原市公安局", [
        ("TY-GA-XD", "小店分局", [("TY-GA-XD-01", "坞城派出所"), ("TY-GA-XD-02", "龙城派出所"),
                                 ("TY-GA-XD-03", "北格派出所"), ("TY-GA-XD-04", "刑侦大队")]),
        ("TY-GA-YZ", "迎泽分局", [("TY-GA-YZ-01", "柳巷派出所"), ("TY-GA-YZ-02", "桥东派出所"),
                                 ("TY-GA-YZ-03", "郝庄派出所")]),
        ("TY-GA-XHL", "杏花岭分局", [("TY-GA-XHL-01", "巨轮派出所"), ("TY-GA-XHL-02", "三桥派出所"),
                                   ("TY-GA-XHL-03", "敦化坊派出所")]),
        ("TY-GA-JCP", "尖草坪分局", [("TY-GA-JCP-01", "上兰派出所"), ("TY-GA-JCP-02", "光社派出所"),
                                   ("TY-GA-JCP-03", "迎新街派出所")]),
        ("TY-GA-WBL", "万柏林分局", [("TY-GA-WBL-01", "千峰派出所"), ("TY-GA-WBL-02", "下元派出所"),
                                   ("TY-GA-WBL-03", "西铭派出所")]),
        ("TY-GA-JY", "晋源分局", [("TY-GA-JY-01", "晋祠派出所"), ("TY-GA-JY-02", "义井派出所")]),
        ("TY-GA-GJ", "古交市公安局", [("TY-GA-GJ-01", "东曲派出所"), ("TY-GA-GJ-02", "屯兰派出所")]),
        ("TY-GA-QX", "清徐县公安局", [("TY-GA-QX-01", "清源派出所"), ("TY-GA-QX-02", "徐沟派出所")]),
        ("TY-GA-YQ", "阳曲县公安局", [("TY-GA-YQ-01", "黄寨派出所"), ("TY-GA-YQ-02", "大盂派出所")]),
        ("TY-GA-LF", "娄烦县公安局", [("TY-GA-LF-01", "娄烦镇派出所"), ("TY-GA-LF-02", "静游派出所")]),
        ("TY-GA-JJ", "交通警察支队", [("TY-GA-JJ-01", "一大队"), ("TY-GA-JJ-02", "二大队")]),
    ]),
    ("TY-FY", "太原市中级人民法院", [
        ("TY-FY-JG", "市中院机关", [("TY-FY-JG-01", "刑事审判庭"), ("TY-FY-JG-02", "民事审判庭"),
                                   ("TY-FY-JG-03", "执行局")]),
        ("TY-FY-XD", "小店区人民法院", [("TY-FY-XD-01", "立案庭"), ("TY-FY-XD-02", "审判一庭")]),
        ("TY-FY-YZ", "迎泽区人民法院", [("TY-FY-YZ-01", "立案庭"), ("TY-FY-YZ-02", "审判一庭")]),
    ]),
    ("TY-JCY", "太原市人民检察院", [
        ("TY-JCY-JG", "市检察院机关", [("TY-JCY-JG-01", "第一检察部"), ("TY-JCY-JG-02", "第二检察部")]),
        ("TY-JCY-XD", "小店区人民检察院", [("TY-JCY-XD-01", "第一检察部"), ("TY-JCY-XD-02", "综合业务部")]),
    ]),
    ("TY-SFJ", "太原市司法局", [
        ("TY-SFJ-JG", "市司法局机关", [("TY-SFJ-JG-01", "社区矫正科"), ("TY-SFJ-JG-02", "法治督察科")]),
        ("TY-SFJ-XD", "小店区司法局", [("TY-SFJ-XD-01", "坞城司法所"), ("TY-SFJ-XD-02", "北格司法所")]),
    ]),
])

SUPERVISOR_BRANCH = "TY-GA-XD"
OFFICER_STATION = "TY-GA-XD-01"
