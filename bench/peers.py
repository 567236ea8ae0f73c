"""Peers on the same tokens and vectors: bm25s and tantivy for BM25, exact numpy kNN for vectors."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

TOP_K = 20


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


class BM25sPeer:
    def __init__(self, docs_tokens: Sequence[Sequence[str]]) -> None:
        import bm25s

        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenization.Tokenized(*_vocab_ids(docs_tokens)), show_progress=False)
        self.vocab = _vocab_ids(docs_tokens)[1]

    def search(self, tokens: Sequence[str]) -> None:
        known = [t for t in tokens if t in self.vocab]
        if known:
            self.retriever.retrieve([known], k=TOP_K, show_progress=False, n_threads=1)


def _vocab_ids(docs_tokens: Sequence[Sequence[str]]) -> tuple[list[list[int]], dict[str, int]]:
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in docs_tokens]
    return ids, vocab


class TantivyPeer:
    """tantivy with jieba tokens given pre-split (whitespace tokenizer)."""

    def __init__(self, docs_tokens: Sequence[Sequence[str]], path: str) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
        builder.add_integer_field("row", stored=True)
        schema = builder.build()
        self.index = tantivy.Index(schema, path=path)
        writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        for row, tokens in enumerate(docs_tokens):
            writer.add_document(tantivy.Document(body=" ".join(tokens), row=row))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, tokens: Sequence[str]) -> None:
        if tokens:
            query = self.index.parse_query(" OR ".join(f'"{t}"' for t in tokens), ["body"])
            self.searcher.search(query, TOP_K)


class NumpyKnnPeer:
    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def search(self, query: np.ndarray) -> None:
        scores = self.vectors @ query
        top = np.argpartition(-scores, min(TOP_K, len(scores) - 1))[:TOP_K]
        top[np.argsort(-scores[top])]
