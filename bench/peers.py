"""Peers on the same tokens and vectors: bm25s and tantivy for BM25, exact numpy kNN for vectors.

The BM25 peers get each item's index terms (title and text, as the engine indexes them) as
arrays of term ids with the vocabulary (bench/run_size.py). bm25s's own `index()` counts terms
in Python lists of ints, which at a million items needs more memory than the machine has; the
peer builds the same score matrix (bm25s's defaults: Lucene IDF, k1 1.5, b 0.75, one CSC column
per term) with numpy and hands it to bm25s, whose retrieval is what is measured
(`python -m bench.peers` checks the two builds agree).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

TOP_K = 20
CHUNK = 20_000  # documents counted at a time


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bm25s_scores(docs: Sequence[np.ndarray], n_vocab: int, k1: float = 1.5, b: float = 0.75) -> dict:
    """bm25s's score matrix (method "lucene") for documents given as term-id arrays."""
    n = len(docs)
    lengths = np.array([len(d) for d in docs], dtype=np.float64)
    avg = float(lengths.mean()) if n else 1.0
    toks, rows, tfs = [], [], []
    for start in range(0, n, CHUNK):
        part = docs[start : start + CHUNK]
        ids = np.concatenate(part).astype(np.int64) if part else np.zeros(0, np.int64)
        row = np.repeat(np.arange(start, start + len(part), dtype=np.int64), [len(d) for d in part])
        keys, counts = np.unique(ids * n + row, return_counts=True)
        toks.append((keys // n).astype(np.int32))
        rows.append((keys % n).astype(np.int32))
        tfs.append(counts.astype(np.float32))
    tok, row, tf = np.concatenate(toks), np.concatenate(rows), np.concatenate(tfs)
    del toks, rows, tfs
    order = np.argsort(tok, kind="stable")  # by term; rows stay ascending within a term
    tok, row, tf = tok[order], row[order], tf[order]
    del order
    df = np.bincount(tok, minlength=n_vocab).astype(np.float64)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    tfc = tf / (np.float32(k1) * ((1 - b) + b * lengths[row] / avg).astype(np.float32) + tf)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(tok, minlength=n_vocab))]).astype(np.int64)
    return {"data": (idf[tok] * tfc).astype(np.float32), "indices": row, "indptr": indptr, "num_docs": n}


class BM25sPeer:
    def __init__(self, docs: Sequence[np.ndarray], vocab: dict[str, int]) -> None:
        import bm25s

        self.retriever = bm25s.BM25()
        self.retriever.scores = bm25s_scores(docs, len(vocab), self.retriever.k1, self.retriever.b)
        vocab_dict = dict(vocab)
        vocab_dict[""] = len(vocab)  # bm25s's empty token, as index() adds it (no column)
        self.retriever.vocab_dict = vocab_dict
        self.retriever.unique_token_ids_set = set(vocab_dict.values())
        self.retriever.nonoccurrence_array = None
        self.vocab = vocab_dict

    def search(self, tokens: Sequence[str]) -> None:
        known = [t for t in tokens if t in self.vocab]
        if known:
            self.retriever.retrieve([known], k=TOP_K, show_progress=False, n_threads=1)


class TantivyPeer:
    """tantivy with the same terms given pre-split (whitespace tokenizer)."""

    def __init__(self, docs: Sequence[np.ndarray], vocab: dict[str, int], path: str) -> None:
        import tantivy

        words = np.array(list(vocab), dtype=object)
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
        builder.add_integer_field("row", stored=True)
        schema = builder.build()
        self.index = tantivy.Index(schema, path=path)
        writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        for row, ids in enumerate(docs):
            writer.add_document(tantivy.Document(body=" ".join(words[ids]), row=row))
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


if __name__ == "__main__":  # the numpy build of bm25s's matrix equals bm25s's own
    import bm25s

    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 300, rng.integers(1, 80)).astype(np.int32) for _ in range(3000)]
    vocab = {f"t{i}": i for i in range(300)}
    ours = BM25sPeer(docs, vocab).retriever.scores
    ref = bm25s.BM25()
    ref.index(bm25s.tokenization.Tokenized([d.tolist() for d in docs], dict(vocab)), show_progress=False)
    assert np.array_equal(ours["indptr"], ref.scores["indptr"]), "indptr"
    assert np.array_equal(ours["indices"], ref.scores["indices"]), "indices"
    assert np.allclose(ours["data"], ref.scores["data"], rtol=1e-5), np.abs(ours["data"] - ref.scores["data"]).max()
    peer = BM25sPeer(docs, vocab).retriever
    for q in (["t1", "t7"], ["t42"], ["t3", "t250", "t299"]):
        a, b = peer.retrieve([q], k=TOP_K, show_progress=False), ref.retrieve([q], k=TOP_K, show_progress=False)
        assert np.array_equal(a.documents, b.documents) and np.allclose(a.scores, b.scores), q
    print("bm25s matrices and rankings agree:", len(ours["data"]), "postings")
