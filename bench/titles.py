"""How many derived titles say nothing: measured on the dev items (../shared/eval/dev/items.jsonl).

Items whose record has no title get one derived from the text (indexer/titles.py). A derived
title is counted as bad when it is empty, holds a line break, is only a time phrase
(近日 / 12月30日上午 / 7日), starts with a news lead or byline (本报讯（记者 …）), or ends in a
time phrase (…，近日). Usage:

    python -m bench.titles                      # the current code
    python -m bench.titles --parsed items.jsonl # `bulletin parse --json` output of another version
"""
from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from indexer.textclean import strip_markup
from indexer.timephrases import NEWS_LEAD_RE, REPORTED_BY_RE, is_byline_line, is_time_phrase, strip_news_lead
from indexer.titles import split_clauses

DEV_ITEMS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev" / "items.jsonl"
CATEGORIES = ("empty", "line_break", "time_only", "news_lead_or_byline", "ends_in_time_phrase")


def classify(title: str) -> list[str]:
    """The problems of one derived title (empty list: fine)."""
    found = []
    if not title.strip():
        return ["empty"]
    if "\n" in title:
        found.append("line_break")
    first_line = title.split("\n")[0]
    if NEWS_LEAD_RE.match(first_line) or REPORTED_BY_RE.match(first_line) or is_byline_line(first_line):
        found.append("news_lead_or_byline")
    rest = strip_news_lead(title.replace("\n", " ")).strip(" …")
    clauses = split_clauses(rest)
    if not rest or all(is_time_phrase(c) for c in clauses):
        found.append("time_only")
    elif len(clauses) > 1 and is_time_phrase(clauses[-1]):
        found.append("ends_in_time_phrase")
    return found


def derived_titles(parsed: Path | None, dev: Path, title_max: int) -> list[str]:
    rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    if parsed is not None:
        items = [json.loads(line) for line in parsed.read_text(encoding="utf-8").splitlines() if line.strip()]
        titles = [i["title"] for i in items]
    else:
        from indexer.ingest import parse_file

        titles = [i.title for i in parse_file(dev, 50 * 1024 * 1024, title_max).items]
    if len(titles) != len(rows):
        raise SystemExit(f"{len(titles)} parsed items for {len(rows)} rows: the outputs do not line up")
    return [t for row, t in zip(rows, titles) if not strip_markup(str(row.get("title") or ""))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parsed", type=Path, help="JSON Lines from `bulletin parse --json` (default: parse now)")
    parser.add_argument("--dev", type=Path, default=DEV_ITEMS)
    parser.add_argument("--title-max", type=int, default=40)
    parser.add_argument("--show", action="store_true", help="print the bad titles")
    args = parser.parse_args()
    titles = derived_titles(args.parsed, args.dev, args.title_max)
    counts: Counter[str] = Counter()
    bad = 0
    for title in titles:
        problems = classify(title)
        counts.update(problems)
        bad += bool(problems)
        if problems and args.show:
            print(f"{','.join(problems):<40} {title!r}")
    print(f"derived titles: {len(titles)}; bad: {bad}")
    for name in CATEGORIES:
        print(f"  {name}: {counts[name]}")
    short = sum(1 for t in titles if len(re.sub(r"[^\u4e00-\u9fff]", "", t)) < 4)
    print(f"  fewer than 4 Chinese characters: {short}")


if __name__ == "__main__":
    main()
