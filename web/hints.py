"""What the empty-result page suggests, so every suggestion could actually find more."""
from __future__ import annotations

import re

# Parts of a query as the search box reads them: "phrases" (closed or not), then words.
_PART = re.compile(r'-?"[^"]*"?|-?“[^”]*”?|\S+')
_OR = {"或", "or", "OR", "|"}
MAX_FEWER = 4  # "drop this word" links shown

# Hybrid already unites keyword and meaning matches, so from there no other mode finds more;
# from either single mode, hybrid (and the other side) can.
OTHER_MODES = {"hybrid": (), "keyword": ("hybrid", "semantic"), "semantic": ("hybrid", "keyword")}


def fewer_words(q: str) -> list[tuple[str, str]]:
    """(part, the query without it) for a query of several parts that must all match. A query
    with 或 already widens: dropping one of its alternatives would only narrow it."""
    parts = _PART.findall(q)
    if any(p in _OR for p in parts):
        return []
    words = [n for n, p in enumerate(parts) if not p.startswith("-")]
    if len(words) < 2:
        return []
    return [(parts[n], " ".join(parts[:n] + parts[n + 1 :])) for n in words[:MAX_FEWER]]
