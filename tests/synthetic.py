"""Synthetic items for tests: the benchmark's generator (bench/corpus.py)."""
from bench.corpus import write_jsonl

__all__ = ["write_jsonl"]
