"""Generate catalog_573.csv: a district hall's 573 service items (事项) across the demo queues A–F.

Run from the repository root: python tests/data/make_catalog.py
The output is deterministic, so the committed CSV and this script always agree.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

TOTAL = 573
COLUMNS = ["code", "name", "queue", "department", "category", "basis", "materials", "time_limit_days", "kind"]

# queue prefix -> (code letters, department, legal basis, base item names, typical materials)
QUEUES = {
    "A": (
        "QS",
        "区市场监督管理局",
        "《中华人民共和国市场主体登记管理条例》",
        [
            "企业开办（设立登记）",
            "企业变更登记",
            "企业注销登记",
            "个体工商户登记",
            "食品经营许可",
            "药品经营许可",
            "公章刻制备案",
            "营业执照补领",
        ],
        ["营业执照", "法定代表人身份证件", "公司章程", "登记申请书", "住所使用证明", "股东会决议"],
    ),
    "B": (
        "RS",
        "区人力资源和社会保障局",
        "《中华人民共和国社会保险法》",
        [
            "养老保险参保登记",
            "社会保障卡申领",
            "医保关系转移接续",
            "异地就医备案",
            "失业保险金申领",
            "工伤认定申请",
            "灵活就业人员参保",
        ],
        ["居民身份证", "户口簿", "银行卡", "参保缴费凭证", "劳动合同", "近期免冠照片"],
    ),
    "C": (
        "BD",
        "区不动产登记中心",
        "《不动产登记暂行条例》",
        ["不动产首次登记", "存量房转移登记", "抵押权登记", "抵押权注销登记", "不动产登记资料查询", "预告登记"],
        ["不动产登记申请书", "不动产权证书", "买卖合同", "完税凭证", "申请人身份证明", "抵押合同"],
    ),
    "D": (
        "GJ",
        "市住房公积金管理中心二道分中心",
        "《住房公积金管理条例》",
        ["住房公积金提取", "住房公积金贷款申请", "单位缴存登记", "缴存证明打印", "个人账户转移"],
        ["居民身份证", "银行卡", "购房合同", "租房合同", "收入证明"],
    ),
    "E": (
        "HJ",
        "区公安分局",
        "《中华人民共和国户口登记条例》",
        ["居民身份证申领", "户口迁入", "出生登记", "居住证办理", "普通护照签发", "往来港澳通行证签发"],
        ["户口簿", "居民身份证", "近期免冠照片", "出生医学证明", "居住证明", "亲属关系证明"],
    ),
    "F": (
        "ZH",
        "区税务局",
        "《中华人民共和国税收征收管理法》",
        ["发票申领", "税务注销", "个人所得税咨询", "残疾人证申领", "最低生活保障申请", "婚姻登记预约咨询"],
        ["经办人身份证件", "营业执照", "税务登记信息", "户口簿", "家庭收入声明"],
    ),
}


def rows(total: int = TOTAL, seed: int = 573) -> list[dict]:
    """The catalog as CSV rows, spread over the queues in turn."""
    rng = random.Random(seed)
    prefixes = list(QUEUES)
    out = []
    for i in range(total):
        prefix = prefixes[i % len(prefixes)]
        letters, department, basis, names, materials = QUEUES[prefix]
        n = i // len(prefixes) + 1
        base = names[(i // len(prefixes)) % len(names)]
        kind = rng.choice(["instant", "promised", "即办件", "承诺件"])
        promised = kind in ("promised", "承诺件")
        out.append(
            {
                "code": f"X{letters}{i + 1:04d}",
                "name": f"{base}-第{n}项",
                "queue": prefix,
                "department": department,
                "category": rng.choice(["法人", "个人"]),
                "basis": basis if rng.random() < 0.8 else "",
                "materials": ";".join(rng.sample(materials, rng.randint(1, 4))),
                "time_limit_days": str(rng.choice([3, 5, 7, 10, 15, 20]) if promised else rng.choice([0, 1])),
                "kind": kind,
            }
        )
    return out


def write(path: Path, data: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(data)
    return path


if __name__ == "__main__":
    target = write(Path(__file__).with_name("catalog_573.csv"), rows())
    print(f"wrote {target} ({TOTAL} items)")
