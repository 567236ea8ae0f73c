"""The keyword engine: every use of whoosh lives here, so it could be swapped.

Fields: id (unique), title (boosted) and text analysed by our jieba Analyzer,
units/kind/series/issue/date for display and filters, all stored so results render
without the source files. Scoring is whoosh's BM25F.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.scoring import BM25F

from .analysis import Analyzer
from .item import Item

TEXT_FIELDS = ("title", "text")


class JiebaWhooshTokenizer(Tokenizer):
    """Adapts Analyzer.index_tokens to whoosh; positions are word positions."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.pretokenized: dict[str, list] = {}  # field value -> tokens, filled by the indexer

    def __getstate__(self) -> dict[str, Any]:  # whoosh pickles the schema; the jieba state stays out
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.analyzer = None  # replaced by the schema passed at open time
        self.pretokenized = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaWhooshTokenizer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[WhooshToken]:
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        terms = self.pretokenized.get(value)
        if terms is not None and not (positions or chars):  # the indexer's terms: no re-analysis
            for term in terms:
                token.text = term
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = term
                yield token
            return
        for tok in self.analyzer.index_tokens(value):
            token.text = tok.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = tok.text
            if positions:
                token.pos = start_pos + tok.pos
            if chars:
                token.startchar = start_char + tok.start
                token.endchar = start_char + tok.end
            yield token


def make_schema(analyzer: Analyzer, title_boost: float) -> Schema:
    tokenizer = JiebaWhooshTokenizer(analyzer)
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        # No positions: phrases are checked on the text itself (search/engine.py), and
        # frequency-only postings make whoosh's commits much faster.
        title=TEXT(analyzer=tokenizer, stored=True, field_boost=title_boost, phrase=False),
        text=TEXT(analyzer=tokenizer, stored=True, phrase=False),
        units=KEYWORD(stored=True, commas=True, scorable=False),
        series=ID(stored=True),
        issue=NUMERIC(stored=True, signed=False),
        date=ID(stored=True),
        issuer=STORED,
        reporters=STORED,
        source=STORED,
    )


def item_fields(item: Item) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "text": item.text,
        "units": ",".join(item.units),
        "issuer": item.issuer,
        "reporters": list(item.reporters),
        "source": json.dumps(item.source.__dict__ if item.source else None, ensure_ascii=False),
    }
    if item.series:
        fields["series"] = item.series
    if item.issue is not None:
        fields["issue"] = item.issue
    if item.date:
        fields["date"] = item.date
    return fields


def stored_to_item(stored: dict[str, Any]) -> Item:
    """The inverse of item_fields: units were joined with commas, the source stored as JSON."""
    return Item.from_dict({
        **stored,
        "units": [u for u in (stored.get("units") or "").split(",") if u],
        "source": json.loads(stored["source"]) if stored.get("source") else None,
    })


def create(path: Path, schema: Schema) -> Any:
    path.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(str(path), schema)


def open_index(path: Path, schema: Schema) -> Any:
    return whoosh_index.open_dir(str(path), schema=schema)


WRITER_MB = 256  # whoosh's in-memory buffer per writer


def write(ix: Any, docs: Iterable[tuple[Item, dict[str, list]]], delete_ids: Iterable[str], commit_every: int) -> None:
    """Delete, then add (item, tokens per field) pairs, committing every commit_every items.

    The tokens come from the indexer, which analysed each text once; whoosh reuses them.
    A failure cancels the open batch (the generation is discarded by the caller anyway)."""
    tokenizers = [ix.schema[name].analyzer for name in TEXT_FIELDS]
    writer = ix.writer(limitmb=WRITER_MB)
    pending = 0
    try:
        for item_id in delete_ids:
            writer.delete_by_term("id", item_id)
        for item, tokens in docs:
            cache = {getattr(item, name): tokens[name] for name in TEXT_FIELDS}
            for tokenizer in tokenizers:
                tokenizer.pretokenized = cache
            writer.update_document(**item_fields(item))
            pending += 1
            if pending >= commit_every:
                writer.commit(merge=False)  # merging grows with the index; once, at the end, is enough
                writer, pending = ix.writer(limitmb=WRITER_MB), 0
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        for tokenizer in tokenizers:
            tokenizer.pretokenized = {}


class KeywordSearcher:
    """Read side: one whoosh searcher, reused; document numbers mapped to catalog rows.
    Queries are scored by search/bm25f.py; whoosh provides the stored items."""

    def __init__(self, ix: Any, row_of_id: dict[str, int]) -> None:
        self.ix = ix
        self.searcher = ix.searcher(weighting=BM25F())
        self.size = len(row_of_id)
        self.row_of_doc = np.full(self.searcher.doc_count_all(), -1, dtype=np.int64)
        for docnum, stored in self.searcher.reader().iter_docs():
            self.row_of_doc[docnum] = row_of_id.get(stored["id"], -1)

    def stored_items(self) -> Iterator[Item]:
        for _docnum, stored in self.searcher.reader().iter_docs():
            yield stored_to_item(stored)

    def score_terms(self, alternatives: Iterable[str]) -> np.ndarray:
        """whoosh's own BM25F score per row, summed over the alternatives: the reference that
        search/bm25f.py (the fast path) is tested against."""
        scores = np.zeros(self.size, dtype=np.float32)
        subqueries = [wq.Term(field, alt) for alt in alternatives for field in TEXT_FIELDS]
        if not subqueries:
            return scores
        results = self.searcher.search(wq.Or(subqueries), limit=None, scored=True)
        for hit in results.top_n:
            score, docnum = hit
            row = self.row_of_doc[docnum]
            if row >= 0:
                scores[row] = score
        return scores

    def close(self) -> None:
        self.searcher.close()
