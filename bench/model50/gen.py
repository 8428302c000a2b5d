#!/usr/bin/env python3
"""Writes a 50-entity crmgen model to the directory given as the only argument.

bench/generate.sh measures generation and build time on it: the size the issue tracker asked about
("a 50-entity generated model"), larger than any example. It is deterministic: every run writes the same
model. Each entity has eight fields of the common types (string, text, int, decimal, date, bool, enum,
phone) and belongs to the entity before it (the first to none), so the model also has 49 relations,
49 foreign keys with their indexes, and 49 inverse connections in the GraphQL schema.
"""
import pathlib
import sys

N = 50
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
lines = [
    "app:",
    "  name: model50",
    "  title: {zh: 五十实体, en: Fifty entities}",
    "  locales: [zh, en]",
    "  defaultLocale: zh",
    "",
    "enums:",
    "  Level:",
    "    label: {zh: 级别, en: Level}",
    "    values:",
    "      - {key: low, label: {zh: 低, en: Low}}",
    "      - {key: mid, label: {zh: 中, en: Mid}}",
    "      - {key: high, label: {zh: 高, en: High}}",
    "",
    "entities:",
]
for i in range(1, N + 1):
    name = f"Thing{i:02d}"
    lines += [
        f"  {name}:",
        f"    label: {{zh: 事物{i}, en: Thing {i}}}",
        "    fields:",
        "      name: {type: string, label: {zh: 名称, en: Name}, required: true, maxLen: 100, search: true}",
        "      notes: {type: text, label: {zh: 备注, en: Notes}}",
        "      count: {type: int, label: {zh: 数量, en: Count}, min: 0}",
        "      amount: {type: decimal, precision: 12, scale: 2, label: {zh: 金额, en: Amount}}",
        "      due: {type: date, label: {zh: 到期, en: Due}}",
        "      active: {type: bool, label: {zh: 有效, en: Active}, default: true}",
        "      level: {type: enum, enum: Level, label: {zh: 级别, en: Level}, default: low}",
        "      phone: {type: phone, label: {zh: 电话, en: Phone}}",
    ]
    if i > 1:
        prev = f"Thing{i - 1:02d}"
        lines += [
            "    relations:",
            f"      parent: {{to: {prev}, kind: belongsTo, inverse: children{i:02d}, label: {{zh: 上级, en: Parent}}}}",
        ]
lines += ["", "data:", "  users:", "    - {username: admin, password: admin123, displayName: 管理员}", ""]
(out / "model.yaml").write_text("\n".join(lines))
