"""Plain-text tables for a terminal: CJK characters are two columns wide."""
from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence

from search.item import KIND_LABELS, KINDS, Item

TITLE_COLUMNS = 56
UNITS_COLUMNS = 24


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(text: str, columns: int) -> str:
    """Cut to at most `columns` display columns (with …) and pad to exactly that."""
    if width(text) > columns:
        out = ""
        for ch in text:
            if width(out + ch) > columns - 1:
                break
            out += ch
        text = out + "…"
    return text + " " * (columns - width(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]], max_widths: Sequence[int]) -> str:
    widths = [min(max([width(h)] + [width(r[i]) for r in rows]), m) for i, (h, m) in enumerate(zip(header, max_widths))]
    lines = ["  ".join(fit(h, w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(fit(c, w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def item_table(items: Sequence[Item]) -> str:
    rows = [
        (KIND_LABELS[i.kind], i.date or "-", str(i.issue) if i.issue is not None else "-", "、".join(i.units) or "-", i.title)
        for i in items
    ]
    return table(("类型", "日期", "期号", "单位", "标题"), rows, (8, 10, 4, UNITS_COLUMNS, TITLE_COLUMNS))


def summary_line(files: int, kinds: Counter, failed: int, duplicates: int = 0) -> str:
    total = sum(kinds.values())
    parts = "，".join(f"{KIND_LABELS[k]} {kinds.get(k, 0)}" for k in KINDS)
    line = f"共 {files} 个文件，{total} 条（{parts}），失败 {failed} 个文件"
    if duplicates:
        line += f"，重复条目 {duplicates} 条已合并"
    return line


REUSE_LABELS = {"near": "几乎相同", "partial": "部分重复"}


def results_table(result: dict) -> str:
    rows = [
        (f"{r['score']:.3f}", r["date"] or "-", "、".join(r["units"]) or "-", r["title"], r["id"])
        for r in result["results"]
    ]
    head = ""
    if "total" in result:
        head = f"共 {result['total']} 条，显示第 {result['offset'] + 1}–{result['offset'] + len(rows)} 条（{result['mode']}）\n"
    if any("reuse" in r for r in result["results"]):  # similar items: the draft check's mark, then the plain label
        marks = [f"{REUSE_LABELS[r['reuse']]} {r['overlap']:.0%}" if r.get("reuse") else "-" for r in result["results"]]
        rows = [(mark, r.get("label") or "-", *row[1:]) for mark, r, row in zip(marks, result["results"], rows)]
        return head + table(("重复", "相似度", "日期", "单位", "标题", "ID"), rows, (13, 6, 10, UNITS_COLUMNS, TITLE_COLUMNS, 16))
    return head + table(("得分", "日期", "单位", "标题", "ID"), rows, (6, 10, UNITS_COLUMNS, TITLE_COLUMNS, 16))
