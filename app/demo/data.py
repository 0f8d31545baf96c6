"""Catalogues behind the demo: names, sectors (界别), skills, communities, groups, need templates.

Everything here is fixed reference data; ``app.demo.plan`` draws from it with a seeded RNG.
Figures follow the 2017 report on 朝阳区 "政协委员进社区": 410 members in 22 groups paired with
24 streets and 19 townships; needs arrive through liaison stations, collection boxes, reception
days, mailboxes, the WeChat 委员论坛, civic assistants and deliberation meetings.
Community names are plausible, not an official register.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

DISTRICT_CODE = "chaoyang"
DISTRICT_NAME = "朝阳区"
MEMBER_COUNT = 410
DEMAND_COUNT = 250
ACTIVE_SHARE = 0.6  # share of members with a community activity already this year


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    kind: str  # street | township
    lat: float
    lon: float


def load_areas() -> list[AreaRow]:
    """The 43 areas from the packaged ``app/data/chaoyang_areas.csv``."""
    text = resources.files("app").joinpath("data/chaoyang_areas.csv").read_text(encoding="utf-8")
    return [
        AreaRow(r["code"], r["name_zh"], r["kind"], float(r["lat_approx"]), float(r["lon_approx"]))
        for r in csv.DictReader(io.StringIO(text))
    ]


# --------------------------------------------------------------------------- people
SURNAMES = (
    "王王王王李李李李张张张张刘刘刘陈陈陈杨杨杨赵赵黄黄周周吴吴徐徐孙孙胡胡朱朱高高林何郭马罗梁宋郑"
    "谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆"
    "郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文庞樊兰殷施陶洪翟安颜倪严牛温芦季"
)
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林峰建国志文博东亮成海晨"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英玲桂兰萍红琳婷雪慧莉颖佳琪欣月燕晶倩梅璐瑶洁蕾楠薇云岚"
# Real people named in the report: never reuse their names for invented members.
RESERVED_NAMES = frozenset({"马晓峰", "杨扬", "赵永庄", "田宝森", "倪遥远"})
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "158",
    "159",
    "176",
    "177",
    "180",
    "181",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
)

# --------------------------------------------------------------------------- skills
# (code, name, category, synonyms). Synonyms are unique across the catalogue so that a free-text
# skill resolves to exactly one code.
SKILLS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("law", "法律咨询", "expertise", ("律师", "法律援助", "法律服务")),
    ("finance", "金融", "expertise", ("防金融诈骗", "理财", "银行业务")),
    ("education", "教育", "expertise", ("教师", "家庭教育", "入学政策")),
    ("medical", "医疗卫生", "expertise", ("医生", "健康讲座", "全科医学")),
    ("psychology", "心理咨询", "expertise", ("心理健康", "心理疏导")),
    ("it", "信息技术", "expertise", ("互联网", "网络安全", "智能手机")),
    ("social_work", "社会工作", "expertise", ("社工", "社区治理")),
    ("environment", "环境保护", "expertise", ("环保", "垃圾分类")),
    ("planning", "建筑规划", "expertise", ("城市规划", "老旧小区改造")),
    ("property", "物业管理", "expertise", ("物业", "业主委员会")),
    ("food_safety", "食品安全", "expertise", ("食品检测", "餐饮安全")),
    ("water_quality", "饮用水水质", "expertise", ("直饮水", "水质检测", "二次供水")),
    ("elderly_care", "养老服务", "expertise", ("助老", "居家养老")),
    ("tcm", "中医药", "expertise", ("中医", "中医养生")),
    ("fire_safety", "消防安全", "expertise", ("消防", "应急救护")),
    ("labor", "劳动就业", "expertise", ("就业指导", "劳动保障", "社保政策")),
    ("media", "新闻传媒", "expertise", ("宣传", "新媒体", "社区媒体")),
    ("economics", "经济管理", "expertise", ("企业管理", "创业指导")),
    ("disability", "助残服务", "expertise", ("残疾人服务", "无障碍")),
    ("traffic", "交通管理", "expertise", ("停车管理", "交通安全")),
    ("mediation", "人民调解", "expertise", ("调解", "矛盾化解")),
    ("sign_language", "手语", "expertise", ("手语翻译",)),
    ("calligraphy", "书法", "interest", ("毛笔字", "硬笔书法")),
    ("painting", "绘画", "interest", ("国画", "美术")),
    ("dance", "舞蹈", "interest", ("广场舞", "民族舞")),
    ("choir", "合唱", "interest", ("声乐", "唱歌")),
    ("photography", "摄影", "interest", ("摄像",)),
    ("opera", "戏曲", "interest", ("京剧", "评剧")),
    ("fitness", "体育健身", "interest", ("健身", "太极拳")),
    ("chess", "棋类", "interest", ("象棋", "围棋")),
    ("reading", "读书朗诵", "interest", ("阅读", "朗诵")),
    ("instrument", "器乐", "interest", ("乐器", "二胡")),
    ("handicraft", "手工艺", "interest", ("剪纸", "编织")),
    ("venue", "活动场地", "resource", ("场地", "会议室")),
    ("artists", "文艺团体/艺术家", "resource", ("艺术家", "演出团体")),
    ("legal_aid", "法律援助资源", "resource", ("律师事务所", "法律服务机构")),
    ("students", "高校学生志愿者", "resource", ("大学生", "志愿者", "社会实践基地")),
    ("hospital", "医疗机构", "resource", ("医院", "社区卫生服务站")),
    ("enterprise", "爱心企业", "resource", ("企业捐助", "捐赠")),
    ("lab", "检测机构", "resource", ("检测实验室", "第三方检测")),
    ("media_channel", "媒体资源", "resource", ("报社", "电视台")),
    ("school", "学校资源", "resource", ("中小学", "学位")),
    ("puppetry", "木偶剧团", "resource", ("木偶剧", "木偶艺术")),
)

# Skills only the scenarios hand out (nobody draws them at random): they make the hard cases.
RARE_SKILLS = frozenset({"water_quality", "sign_language", "opera", "puppetry"})

# Interests everyone may hold, with popularity weights.
INTEREST_WEIGHTS: dict[str, int] = {
    "calligraphy": 8,
    "painting": 6,
    "dance": 6,
    "choir": 7,
    "photography": 8,
    "fitness": 10,
    "chess": 5,
    "reading": 9,
    "instrument": 4,
    "handicraft": 3,
}

# --------------------------------------------------------------------------- sectors (界别)
# name -> (members, expertise weights, resource weights). Counts sum to MEMBER_COUNT.
SECTORS: dict[str, tuple[int, dict[str, int], dict[str, int]]] = {
    "中共": (
        44,
        {"social_work": 5, "mediation": 4, "law": 3, "economics": 3, "planning": 2, "labor": 2, "property": 2},
        {"venue": 3, "enterprise": 1},
    ),
    "民革": (14, {"law": 6, "mediation": 4, "finance": 2, "traffic": 1}, {"legal_aid": 3}),
    "民盟": (20, {"education": 6, "psychology": 2, "media": 2, "law": 2}, {"school": 3, "students": 2}),
    "民建": (20, {"finance": 6, "economics": 6, "property": 2, "law": 1}, {"enterprise": 4, "venue": 2}),
    "民进": (16, {"education": 6, "media": 3, "psychology": 2}, {"school": 3, "media_channel": 1}),
    "农工党": (16, {"medical": 7, "tcm": 3, "psychology": 2, "food_safety": 1}, {"hospital": 4}),
    "致公党": (10, {"economics": 4, "law": 3, "finance": 3}, {"enterprise": 3}),
    "九三学社": (
        16,
        {"it": 4, "environment": 4, "planning": 3, "medical": 2, "food_safety": 2},
        {"lab": 2, "students": 2},
    ),
    "台盟": (4, {"economics": 3, "education": 2, "law": 1}, {"enterprise": 1}),
    "无党派人士": (16, {"law": 4, "psychology": 3, "education": 3, "finance": 2}, {"legal_aid": 1}),
    "共青团": (10, {"social_work": 4, "it": 4, "labor": 2}, {"students": 5}),
    "工会": (14, {"labor": 6, "social_work": 3, "fire_safety": 2, "law": 1}, {"venue": 2}),
    "妇联": (12, {"elderly_care": 4, "psychology": 3, "education": 3, "social_work": 3}, {"venue": 1}),
    "科技界": (22, {"it": 6, "environment": 4, "food_safety": 3, "planning": 2}, {"lab": 3, "students": 1}),
    "经济界": (40, {"finance": 6, "economics": 6, "property": 4, "law": 1, "labor": 1}, {"enterprise": 5, "venue": 3}),
    "农业界": (8, {"food_safety": 4, "environment": 4, "economics": 1}, {"lab": 1, "venue": 1}),
    "教育界": (26, {"education": 8, "psychology": 3, "it": 1, "social_work": 1}, {"school": 5, "students": 4}),
    "文化艺术界": (22, {"media": 3, "education": 1}, {"artists": 6, "venue": 2, "media_channel": 1}),
    "医药卫生界": (26, {"medical": 8, "tcm": 4, "psychology": 3, "elderly_care": 2, "food_safety": 1}, {"hospital": 6}),
    "体育界": (8, {"education": 2, "medical": 1}, {"venue": 3}),
    "新闻出版界": (10, {"media": 8, "it": 2}, {"media_channel": 5}),
    "社会科学界": (12, {"law": 4, "social_work": 4, "economics": 3, "mediation": 2, "planning": 2}, {"students": 2}),
    "社会福利和社会保障界": (12, {"elderly_care": 6, "disability": 5, "social_work": 4, "labor": 3}, {"venue": 1}),
    "少数民族界": (6, {"social_work": 3, "education": 2}, {"artists": 1}),
    "特邀": (6, {"law": 5, "mediation": 3, "traffic": 2, "fire_safety": 2}, {"legal_aid": 2}),
}
# Interests a sector leans to, on top of the general popularity.
SECTOR_INTERESTS: dict[str, dict[str, int]] = {
    "文化艺术界": {"dance": 12, "choir": 12, "painting": 10, "calligraphy": 8, "instrument": 10, "photography": 6},
    "体育界": {"fitness": 25, "chess": 6},
    "少数民族界": {"dance": 12, "handicraft": 8},
    "新闻出版界": {"photography": 12, "reading": 10},
    "教育界": {"reading": 10, "calligraphy": 6},
}

# --------------------------------------------------------------------------- communities (社区)
COMMUNITIES: dict[str, tuple[str, ...]] = {
    "JW": ("光华里社区", "永安里社区", "建国里社区", "秀水社区"),
    "CW": ("吉祥里社区", "雅宝里社区", "芳草地社区", "神路街社区"),
    "HJL": ("呼家楼北社区", "金台里社区", "新街社区", "关东店社区"),
    "SLT": ("幸福一村社区", "北三里社区", "中三里社区", "东三里社区"),
    "ZJZ": ("左家庄社区", "顺源里社区", "三源里社区", "曙光里社区"),
    "XHY": ("西坝河北里社区", "光熙门北里社区", "柳芳北里社区"),
    "HPJ": ("樱花园社区", "和平家园社区", "小黄庄社区", "胜古庄社区"),
    "AZ": ("安贞里社区", "安华里社区", "外馆斜街社区", "裕民路社区"),
    "YYC": ("安慧里社区", "华严北里社区", "京民社区", "北辰东路社区"),
    "XG": ("惠新里社区", "小关东里社区", "惠新苑社区", "小关北里社区"),
    "JXQ": ("大山子社区", "南路西社区", "酒仙桥东路社区"),
    "MZD": ("农展南里社区", "枣营北里社区", "朝阳公园社区"),
    "TJH": ("团结湖北头社区", "中路北社区", "水碓子社区"),
    "LLT": ("甜水园社区", "碧水园社区", "道家园社区"),
    "BLZ": ("红庙社区", "远洋天地社区", "十里堡北里社区", "延静里社区"),
    "SJ": ("九龙社区", "广泉社区", "双花园社区", "富力社区"),
    "JS": ("劲松东社区", "劲松西社区", "农光里社区", "磨房北里社区"),
    "PJY": ("潘家园社区", "华威西里社区", "松榆里社区", "武圣东里社区"),
    "FT": ("垡头西里社区", "翠城馨园社区", "双合家园社区"),
    "SDJC": ("南平里社区", "西平街社区", "南路东社区"),
    "DT": ("嘉铭园社区", "慧忠北里社区", "金泉家园社区", "育慧里社区"),
    "WJ": ("南湖东园社区", "花家地北里社区", "方舟苑社区", "望花路东里社区"),
    "AYC": ("绿色家园社区", "大屯里社区", "南沙滩社区", "科学园社区"),
    "DH": ("利泽西园社区", "望京花园东区社区", "东湖湾社区", "大西洋新城社区"),
    "NMF": ("南新园社区", "双龙社区", "平乐园社区"),
    "GBD": ("北花园社区", "兴隆家园社区", "水南庄社区"),
    "JT": ("驼房营西里社区", "芳园里社区", "将府家园社区"),
    "TYG": ("芍药居北里社区", "夏家园社区", "太阳宫新区社区", "尚家楼社区"),
    "XHM": ("鸿博家园社区", "龙爪树社区", "肖村社区"),
    "SBLD": ("周庄嘉园社区", "吕家营社区", "西直河社区"),
    "PF": ("京通苑社区", "石各庄社区", "青年路社区"),
    "DF": ("南十里居社区", "将台洼社区", "东风苑社区"),
    "LGY": ("清友园社区", "北苑家园社区", "朝来家园社区", "立城苑社区"),
    "CY": ("连心园社区", "万象新天社区", "常营民族家园社区", "北辰福第社区"),
    "SJF": ("三间房东里社区", "聚福苑社区", "定福家园社区"),
    "GZ": ("管庄北里社区", "建东苑社区", "双桥社区"),
    "JZ": ("楼梓庄社区", "长店社区", "东窑社区"),
    "SH": ("康营家园社区", "上辛堡社区", "雷庄社区"),
    "CGZ": ("东辛店社区", "奶西社区", "索家坟社区"),
    "DB": ("东坝家园社区", "康静里社区", "坝鑫家园社区", "东晓景社区"),
    "HZH": ("定辛庄社区", "郎辛庄社区", "黑庄户社区"),
    "DGZ": ("于家围社区", "水牛坊社区", "青青家园社区"),
    "WSY": ("观音堂社区", "道口社区", "白鹿司社区"),
}

# --------------------------------------------------------------------------- groups (小组, 结对)
GROUP_NAMES = (
    "第一小组",
    "第二小组",
    "第三小组",
    "第四小组",
    "第五小组",
    "第六小组",
    "第七小组",
    "第八小组",
    "第九小组",
    "第十小组",
    "第十一小组",
    "第十二小组",
    "第十三小组",
    "第十四小组",
    "第十五小组",
    "第十六小组",
    "第十七小组",
    "第十八小组",
    "第十九小组",
    "第二十小组",
    "第二十一小组",
    "第二十二小组",
)
# Neighbouring areas paired with each group, in GROUP_NAMES order; together they cover all 43.
GROUP_AREAS: tuple[tuple[str, ...], ...] = (
    ("JW", "CW"),
    ("HJL", "TJH"),
    ("SLT", "MZD"),
    ("ZJZ", "XHY"),
    ("HPJ", "TYG"),
    ("AZ", "XG"),
    ("YYC", "DT"),
    ("AYC",),
    ("WJ", "DH"),
    ("JXQ", "JT", "DF"),
    ("LLT", "BLZ"),
    ("SJ", "JS"),
    ("PJY", "XHM", "SBLD"),
    ("FT", "WSY"),
    ("NMF", "GBD"),
    ("PF", "CY"),
    ("SJF", "GZ"),
    ("JZ", "DB"),
    ("SH", "CGZ"),
    ("LGY",),
    ("HZH", "DGZ"),
    ("SDJC",),
)

# --------------------------------------------------------------------------- needs (民需)
CHANNEL_WEIGHTS: dict[str, int] = {
    "liaison_station": 24,
    "needs_collection": 20,
    "reception_day": 15,
    "mailbox": 10,
    "wechat_forum": 11,
    "civic_assistant": 10,
    "council_meeting": 7,
    "other": 3,
}
# Large residential areas raise more needs than the members living there can meet alone.
AREA_DEMAND_WEIGHTS: dict[str, float] = {
    "WJ": 3.0,
    "LGY": 3.0,
    "CY": 3.0,
    "AYC": 2.5,
    "DH": 2.5,
    "SJ": 2.0,
    "JS": 2.0,
    "AZ": 2.0,
    "DT": 2.0,
    "DB": 2.0,
    "TYG": 1.5,
    "JZ": 1.5,
    "SH": 1.5,
}

# Time patterns: "day" weekday daytime, "evening" weekday evening, "weekend".
DAY_STARTS = ("09:00", "09:30", "10:00", "14:00", "14:30", "15:00")
WEEKEND_STARTS = ("09:00", "09:30", "10:00", "14:00", "14:30")
EVENING_STARTS = ("18:30", "19:00")


@dataclass(frozen=True)
class DemandKind:
    """A template for one kind of need; ``variants`` pair a title with its required skills."""

    key: str
    variants: tuple[tuple[str, tuple[str, ...]], ...]
    description: str
    min_members: tuple[int, int]
    max_members: tuple[int, int]
    priority: tuple[int, int]
    channels: tuple[str, ...]  # preferred channels (half of the needs come through one of them)
    times: tuple[str, ...]  # patterns drawn from uniformly
    durations: tuple[int, ...]  # minutes
    weight: int


DEMAND_KINDS: tuple[DemandKind, ...] = (
    DemandKind(
        "fraud",
        (("防范金融诈骗知识讲座", ("finance",)), ("防范养老诈骗与理财风险讲座", ("finance", "law"))),
        "社区老年居民多次接到可疑电话和理财推销，希望请委员讲解常见骗局和防范办法。",
        (1, 1),
        (1, 2),
        (3, 4),
        ("needs_collection", "liaison_station", "wechat_forum"),
        ("day", "day", "weekend"),
        (120, 150),
        14,
    ),
    DemandKind(
        "property_dispute",
        (
            ("业主与物业纠纷法律援助", ("law",)),
            ("物业费与维修基金纠纷法律咨询", ("law", "property")),
            ("业委会筹备法律指导", ("law", "legal_aid")),
        ),
        "业主与物业公司在收费和服务上长期对立，希望委员作为中间方提供法律援助、协助化解矛盾。",
        (1, 2),
        (2, 2),
        (4, 5),
        ("reception_day", "mailbox", "council_meeting"),
        ("day", "evening"),
        (120, 150, 180),
        14,
    ),
    DemandKind(
        "troupe_teacher",
        (
            ("社区舞蹈队教学老师", ("dance",)),
            ("社区合唱团指导老师", ("choir",)),
            ("文艺队伍器乐教学老师", ("instrument",)),
            ("文艺队伍教学老师", ("artists", "dance")),
        ),
        "社区文化队伍很多，但专业师资资源急缺，希望委员或其联系的艺术家来指导排练。",
        (1, 1),
        (1, 2),
        (2, 3),
        ("civic_assistant", "needs_collection"),
        ("day", "weekend", "weekend"),
        (120, 150),
        12,
    ),
    DemandKind(
        "students",
        (("大学生社区实践", ("students",)), ("高校志愿者参与社区治理", ("students", "social_work"))),
        "社区希望引入大学生参与社区工作、建立教育实践基地，为社区建设增添活力。",
        (1, 1),
        (1, 1),
        (2, 3),
        ("council_meeting", "liaison_station"),
        ("day",),
        (120, 180),
        8,
    ),
    DemandKind(
        "migrant_school",
        (("流动儿童入学咨询", ("education",)), ("打工子弟入学政策解读", ("education", "school"))),
        "辖区流动人口子女较多，家长对入学条件和材料不了解，希望委员提供政策咨询。",
        (1, 1),
        (1, 2),
        (4, 4),
        ("reception_day", "mailbox"),
        ("day", "evening"),
        (120, 150),
        9,
    ),
    DemandKind(
        "elderly",
        (("养老助老服务对接", ("elderly_care",)), ("居家养老政策讲解", ("elderly_care", "social_work"))),
        "社区高龄独居老人多，希望委员帮助对接助老服务资源、讲解居家养老政策。",
        (1, 2),
        (2, 3),
        (3, 4),
        ("liaison_station", "civic_assistant"),
        ("day",),
        (120, 150, 180),
        13,
    ),
    DemandKind(
        "garbage",
        (("垃圾分类宣传", ("environment",)),),
        "小区垃圾分类投放准确率不高，希望委员参与入户宣传和现场指导。",
        (1, 1),
        (1, 2),
        (2, 3),
        ("liaison_station", "wechat_forum"),
        ("day", "weekend"),
        (120, 150),
        10,
    ),
    DemandKind(
        "psychology",
        (("心理健康讲座", ("psychology",)), ("青少年心理疏导讲座", ("psychology", "education"))),
        "居民反映工作和学业压力大，希望请专业委员开展心理健康讲座。",
        (1, 1),
        (1, 1),
        (3, 3),
        ("needs_collection", "wechat_forum"),
        ("evening", "weekend"),
        (90, 120),
        9,
    ),
    DemandKind(
        "clinic",
        (("社区义诊", ("medical", "hospital")), ("中医义诊", ("tcm", "medical"))),
        "社区老年人慢病较多，希望组织义诊和健康咨询。",
        (2, 2),
        (2, 3),
        (4, 4),
        ("liaison_station", "reception_day"),
        ("weekend",),
        (150, 180),
        10,
    ),
    DemandKind(
        "council",
        (("社区议事会委员席位", ("social_work", "law")), ("老旧小区改造议事会", ("planning", "property"))),
        "社区党政群共商共治议事会讨论重点难点问题，按议题邀请相关委员进入议事组织。",
        (2, 3),
        (3, 3),
        (4, 5),
        ("council_meeting",),
        ("evening",),
        (120,),
        9,
    ),
    DemandKind(
        "renovation",
        (("老旧小区改造方案论证", ("planning", "property")),),
        "小区准备加装电梯和改造管线，希望懂规划和物业的委员参与方案论证。",
        (1, 1),
        (1, 2),
        (3, 4),
        ("council_meeting", "civic_assistant"),
        ("day",),
        (120, 150),
        6,
    ),
    DemandKind(
        "smartphone",
        (("老年人智能手机使用培训", ("it",)),),
        "老年人不会用手机挂号、缴费和防范网络诈骗，希望请委员开展培训。",
        (1, 1),
        (1, 2),
        (2, 3),
        ("needs_collection", "liaison_station"),
        ("day", "weekend"),
        (120,),
        8,
    ),
    DemandKind(
        "food",
        (("食品安全进社区", ("food_safety",)),),
        "社区周边小餐饮较多，居民关心食品安全，希望委员讲解识别和投诉方法。",
        (1, 1),
        (1, 1),
        (3, 3),
        ("mailbox", "liaison_station"),
        ("day",),
        (120,),
        6,
    ),
    DemandKind(
        "fire",
        (("消防安全演练指导", ("fire_safety",)),),
        "老旧楼房楼道堆物、电动车充电隐患多，希望委员指导消防演练。",
        (1, 1),
        (1, 1),
        (3, 4),
        ("liaison_station", "civic_assistant"),
        ("day", "weekend"),
        (120,),
        6,
    ),
    DemandKind(
        "jobs",
        (("就业创业指导", ("labor", "economics")),),
        "辖区有待业青年和灵活就业人员，希望委员提供就业和创业指导。",
        (1, 1),
        (1, 1),
        (3, 3),
        ("reception_day", "needs_collection"),
        ("day", "evening"),
        (120,),
        6,
    ),
    DemandKind(
        "arts_class",
        (("书法兴趣班", ("calligraphy",)), ("国画兴趣班", ("painting",)), ("社区摄影兴趣小组", ("photography",))),
        "社区老年大学希望开设兴趣班，请有特长的委员授课。",
        (1, 1),
        (1, 1),
        (1, 2),
        ("needs_collection", "civic_assistant"),
        ("weekend", "day"),
        (120,),
        8,
    ),
    DemandKind(
        "venue",
        (("社区活动场地协调", ("venue",)),),
        "社区缺少举办大型活动的场地，希望委员协调驻区单位提供场地。",
        (1, 1),
        (1, 1),
        (2, 3),
        ("liaison_station", "other"),
        ("day",),
        (90, 120),
        5,
    ),
    DemandKind(
        "mediation",
        (("邻里纠纷调解", ("mediation", "law")),),
        "楼上楼下噪音和漏水纠纷反复发生，希望委员以中间方身份参与调解。",
        (1, 1),
        (1, 2),
        (4, 4),
        ("reception_day", "mailbox", "wechat_forum"),
        ("evening", "day"),
        (120,),
        8,
    ),
    DemandKind(
        "parking",
        (("社区停车难协商", ("traffic", "mediation")),),
        "小区停车位紧张、乱停车严重，希望委员参与协商停车管理方案。",
        (1, 1),
        (1, 2),
        (3, 4),
        ("council_meeting", "wechat_forum"),
        ("evening",),
        (120,),
        5,
    ),
    DemandKind(
        "media",
        (("社区媒体平台建设", ("media", "it")),),
        "社区希望建立微信公众号和宣传栏等媒体平台，把社区资源统筹起来为居民所用。",
        (1, 1),
        (1, 1),
        (2, 3),
        ("wechat_forum", "liaison_station"),
        ("day",),
        (120,),
        4,
    ),
    DemandKind(
        "disability",
        (("助残服务对接", ("disability",)),),
        "社区残疾人家庭需要康复和无障碍改造方面的帮助，希望委员对接资源。",
        (1, 1),
        (1, 1),
        (3, 4),
        ("civic_assistant", "liaison_station"),
        ("day",),
        (120,),
        4,
    ),
    DemandKind(
        "fitness",
        (("全民健身指导", ("fitness",)),),
        "社区健身队希望请委员指导太极拳和科学健身。",
        (1, 1),
        (1, 2),
        (1, 2),
        ("needs_collection", "other"),
        ("weekend",),
        (90, 120),
        5,
    ),
    DemandKind(
        "donation",
        (("困难家庭帮扶资源对接", ("enterprise",)),),
        "社区困难家庭较多，希望委员联系爱心企业开展帮扶。",
        (1, 1),
        (1, 1),
        (3, 4),
        ("liaison_station", "civic_assistant"),
        ("day",),
        (90,),
        4,
    ),
    DemandKind(
        "reading",
        (("社区读书会", ("reading",)),),
        "社区读书会希望请委员领读和朗诵指导。",
        (1, 1),
        (1, 1),
        (1, 2),
        ("needs_collection", "wechat_forum"),
        ("weekend", "evening"),
        (90, 120),
        3,
    ),
)

# Annual duty titles (履职记录).
SUGGESTION_TOPICS = (
    "社区养老驿站建设",
    "老旧小区加装电梯",
    "垃圾分类长效机制",
    "社区停车治理",
    "流动儿童入学保障",
    "小区直饮水监管",
    "社区文化队伍师资",
    "背街小巷环境整治",
    "社区卫生服务站布局",
    "居家养老服务补贴",
)
INFORMATION_TOPICS = (
    "居民反映小区直饮水监管缺失",
    "打工子弟入学难",
    "老年人遭遇电信诈骗增多",
    "物业服务质量投诉集中",
    "社区活动场地不足",
    "独居老人照护缺口",
    "电动自行车充电隐患",
    "社区医疗资源紧张",
)

CHANNEL_LABELS: dict[str, str] = {
    "liaison_station": "民情联络站",
    "needs_collection": "民需收集库",
    "reception_day": "民众接待日",
    "mailbox": "民意信箱",
    "wechat_forum": "委员论坛(微信)",
    "civic_assistant": "民情助理",
    "council_meeting": "议事会",
    "other": "其他",
}
