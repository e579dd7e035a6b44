"""The fixed vocabulary of the simulated world: cities, names, categories, templates.

Everything here is data; the generators in the other modules draw from it with the block's random
generator. Coordinates are city centres (WGS84); postcodes start with the city's real two-digit prefix.
"""

from __future__ import annotations

__all__ = [
    "CITIES", "SURNAMES", "GIVEN", "EMAIL_DOMAINS", "EMAIL_TYPO_DOMAINS", "PHONE_PREFIXES",
    "CATEGORIES", "EDUCATION", "OCCUPATIONS", "MARITAL", "STORE_SUFFIXES", "BRANDS",
    "COUPONS", "USER_AGENTS", "BOT_USER_AGENTS", "REVIEW_TEMPLATES", "OFFER_KINDS", "RESPONSE_TYPES",
    "PLACEHOLDER_EMAILS", "PLACEHOLDER_PHONES",
]

# name, region (province), latitude, longitude, weight (share of customers), postcode prefix (2 digits)
CITIES: tuple[tuple[str, str, float, float, float, str], ...] = (
    ("上海", "上海市", 31.2304, 121.4737, 0.18, "20"),
    ("北京", "北京市", 39.9042, 116.4074, 0.16, "10"),
    ("广州", "广东省", 23.1291, 113.2644, 0.11, "51"),
    ("深圳", "广东省", 22.5431, 114.0579, 0.11, "51"),
    ("杭州", "浙江省", 30.2741, 120.1551, 0.09, "31"),
    ("成都", "四川省", 30.5728, 104.0668, 0.09, "61"),
    ("武汉", "湖北省", 30.5928, 114.3055, 0.07, "43"),
    ("南京", "江苏省", 32.0603, 118.7969, 0.07, "21"),
    ("西安", "陕西省", 34.3416, 108.9398, 0.06, "71"),
    ("重庆", "重庆市", 29.5630, 106.5516, 0.06, "40"),
)

# (characters, pinyin) of common surnames and given-name syllables
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
)
GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("玲", "ling"), ("欣", "xin"), ("婷", "ting"), ("浩", "hao"), ("宇", "yu"), ("晨", "chen"),
    ("雪", "xue"), ("佳", "jia"), ("怡", "yi"), ("子", "zi"), ("梓", "zi"), ("涵", "han"),
)

EMAIL_DOMAINS = ("163.com", "qq.com", "126.com", "gmail.com", "sina.com", "outlook.com", "foxmail.com")
# a misspelt form of each domain above, same order; no real address uses these
EMAIL_TYPO_DOMAINS = ("163.con", "qq.cmo", "126.co", "gmial.com", "sina.cm", "outlok.com", "foxmial.com")
PHONE_PREFIXES = ("138", "139", "137", "136", "135", "150", "151", "158", "159", "186", "187", "188", "177", "199")
PLACEHOLDER_EMAILS = ("none@none.com", "test@test.com")
PLACEHOLDER_PHONES = ("00000000000", "13800000000")

EDUCATION = ("高中", "大专", "本科", "硕士", "博士")
OCCUPATIONS = ("白领", "学生", "教师", "医生", "工程师", "自由职业", "公务员", "销售", "退休")
MARITAL = ("未婚", "已婚", "离异")
STORE_SUFFIXES = ("万达店", "来福士店", "中心店", "大悦城店", "万象城店", "吾悦店", "天街店", "银泰店", "新天地店", "太古里店")

# top-level category: (slug used in truth column names, [(sub, subsub, is_consumable, repurchase_days, median price)])
CATEGORIES: dict[str, tuple[str, tuple[tuple[str, str, bool, float | None, float], ...]]] = {
    "美妆": ("beauty", (
        ("护肤", "面霜", True, 60.0, 260.0), ("护肤", "精华", True, 75.0, 380.0),
        ("彩妆", "口红", False, None, 180.0), ("彩妆", "粉底", False, None, 220.0))),
    "眼镜": ("eyewear", (
        ("隐形眼镜", "月抛", True, 30.0, 120.0), ("隐形眼镜", "日抛", True, 30.0, 160.0),
        ("护理液", "多功能护理液", True, 30.0, 45.0), ("框架眼镜", "镜架", False, None, 480.0))),
    "服饰": ("apparel", (
        ("女装", "连衣裙", False, None, 299.0), ("男装", "衬衫", False, None, 199.0),
        ("鞋靴", "运动鞋", False, None, 459.0), ("配饰", "围巾", False, None, 129.0))),
    "食品": ("food", (
        ("零食", "坚果", True, 14.0, 59.0), ("饮料", "咖啡", True, 21.0, 79.0),
        ("粮油", "大米", True, 30.0, 69.0), ("生鲜", "水果", True, 7.0, 49.0))),
    "母婴": ("baby", (
        ("纸尿裤", "拉拉裤", True, 20.0, 139.0), ("奶粉", "婴儿奶粉", True, 25.0, 298.0),
        ("玩具", "益智玩具", False, None, 159.0))),
    "家居": ("home", (
        ("家纺", "四件套", False, None, 399.0), ("厨具", "炒锅", False, None, 259.0),
        ("清洁", "洗衣液", True, 45.0, 39.0))),
    "数码": ("electronics", (
        ("手机配件", "充电器", False, None, 99.0), ("耳机", "蓝牙耳机", False, None, 499.0),
        ("智能设备", "手环", False, None, 299.0))),
    "运动": ("sports", (
        ("健身", "瑜伽垫", False, None, 89.0), ("户外", "登山包", False, None, 359.0),
        ("营养", "蛋白粉", True, 40.0, 268.0))),
}
BRANDS = ("悦颜", "清眸", "博视", "衣锦", "简素", "味之源", "田园", "贝亲乐", "暖居", "极客", "跃动", "山野",
          "Lumière", "Optima", "Nordic", "Urban")

COUPONS = ("NEW10", "VIP20", "SPRING15", "DOUBLE11", "618SALE", "WELCOME5")
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.44",
    "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 Chrome/116.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Version/17.1 Safari/605.1.15",
    "JingzhunShop/3.2.1 (iOS 17.2; iPhone14,5)",
    "JingzhunShop/3.2.1 (Android 13; HUAWEI P60)",
)
BOT_USER_AGENTS = ("python-requests/2.31.0", "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/119.0 Safari/537.36",
                   "curl/8.4.0")

# sentiment -> language -> templates; "{c}" is replaced by the product's category
REVIEW_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "positive": {
        "zh": ("非常满意，{c}质量很好，还会回购！", "物流很快，{c}和描述一致，好评。", "性价比高，{c}用着很舒服。",
               "第二次买了，{c}一如既往地好。"),
        "en": ("Love it, the {c} is great quality and arrived fast.", "Excellent {c}, will buy again.",
               "Very happy with this {c}, exactly as described."),
    },
    "neutral": {
        "zh": ("{c}还可以，一般般吧。", "{c}中规中矩，价格合适。", "收到了，{c}没什么特别的。"),
        "en": ("The {c} is okay, nothing special.", "Average {c} for the price.", "It's fine, an ordinary {c}."),
    },
    "negative": {
        "zh": ("{c}质量很差，非常失望，不会再买了。", "发货太慢，{c}有破损，差评。", "{c}和图片不符，要求退货。"),
        "en": ("Terrible {c}, broke after two days.", "Very disappointed, the {c} was damaged.",
               "Not as described, returning this {c}."),
    },
}

OFFER_KINDS = ("discount", "new_product", "points")
# response type -> (probability of buying without treatment, with treatment), before per-offer modulation
RESPONSE_TYPES: dict[str, tuple[float, float]] = {
    "persuadable": (0.03, 0.30),
    "sure_thing": (0.35, 0.38),
    "lost_cause": (0.01, 0.02),
    "sleeping_dog": (0.20, 0.04),
}
