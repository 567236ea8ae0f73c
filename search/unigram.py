"""Query tokens without the tokenizers library's Unigram model.

The library keeps a Unigram model's pieces (250,002 for multilingual-e5) in a byte trie of hash
maps: about 290 MB of a server's memory, for the few dozen tokens of a query. This reads the
same tokenizer.json and segments the same way — SentencePiece's Viterbi over the pieces' scores,
as tokenizers/src/models/unigram/model.rs `encode_optimized` does it, unknown characters fused
into one <unk> — over a marisa trie of the pieces (about 10 MB with their ids and scores; a dict
of them held 70 MB of a server's memory, half of it the fragments the JSON parse left between
them). Normalisation, pre-tokenisation and the special tokens around a text stay the library's
own, built from the same file with a one-piece model. Written for queries and drafts: a Python
loop, about 50 µs for a query and 0.4 ms for a 200-character passage, too slow for indexing.
Checked against the library on every sample and development text (tests/test_embedding.py).
"""
from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marisa_trie

UNK_PENALTY = 10.0  # an unknown character scores the lowest piece's score less this (the library's K_UNK_PENALTY)


@dataclass
class QueryTokenizer:
    pieces: marisa_trie.Trie  # every piece: the prefixes of a word that are pieces, in order of length
    piece_ids: array  # the trie's key id -> the piece's id (a piece listed twice keeps its last id, as the library does)
    scores: array  # float64 by id (the library's scores are f64)
    longest: int  # characters of the longest piece
    unk_id: int
    unk_score: float
    added: dict[str, int]  # special tokens matched in the raw text before anything else
    added_pattern: re.Pattern[str] | None
    head: list[int]  # ids before a text's tokens (<s>)
    tail: list[int]  # ids after them (</s>)
    pad_id: int
    backend: Any  # tokenizers.Tokenizer with a one-piece model: its normalizer and pre-tokenizer

    @classmethod
    def load(cls, path: Path) -> "QueryTokenizer | None":
        """From a tokenizer.json, or None when its model is not one this reproduces exactly
        (not Unigram, byte fallback, another template around texts, normalised added tokens)."""
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        model = spec.get("model") or {}
        post = spec.get("post_processor") or {}
        added = spec.get("added_tokens") or []
        if (model.get("type") != "Unigram" or model.get("byte_fallback") or model.get("unk_id") is None
                or post.get("type") != "TemplateProcessing"
                or any(a.get("normalized") or a.get("lstrip") or a.get("rstrip") or a.get("single_word") for a in added)):
            return None
        head, tail = _template(post)
        if head is None or tail is None:
            return None
        vocab = model["vocab"]
        try:
            pieces = marisa_trie.Trie(piece for piece, _score in vocab)
        except UnicodeError:  # a piece no UTF-8 can hold (a lone surrogate)
            return None
        piece_ids = array("q", bytes(8 * len(pieces)))
        for i, (piece, _score) in enumerate(vocab):
            piece_ids[pieces.key_id(piece)] = i
        scores = array("d", (float(score) for _piece, score in vocab))
        pad = (spec.get("padding") or {}).get("pad_id")
        pad_id = int(pad) if pad is not None else piece_ids[pieces.key_id("<pad>")] if "<pad>" in pieces else 0
        import tokenizers

        light = dict(spec, model={"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]], "byte_fallback": False},
                     added_tokens=[], post_processor=None, truncation=None, padding=None)
        backend = tokenizers.Tokenizer.from_str(json.dumps(light))
        contents = sorted((a["content"] for a in added), key=len, reverse=True)  # leftmost, then longest
        return cls(pieces=pieces, piece_ids=piece_ids, scores=scores, longest=max((len(p) for p, _ in vocab), default=1),
                   unk_id=int(model["unk_id"]),
                   unk_score=min(scores, default=0.0) - UNK_PENALTY, added={a["content"]: int(a["id"]) for a in added},
                   added_pattern=re.compile("|".join(map(re.escape, contents))) if contents else None,
                   head=head, tail=tail, pad_id=pad_id, backend=backend)

    def encode(self, text: str) -> list[int]:
        """The ids of a text's tokens, no special tokens around them."""
        out: list[int] = []
        at = 0
        for match in self.added_pattern.finditer(text) if self.added_pattern else ():
            out += self._plain(text[at : match.start()])
            out.append(self.added[match.group()])
            at = match.end()
        return out + self._plain(text[at:])

    def _plain(self, text: str) -> list[int]:
        if not text:
            return []
        normalizer, pre = self.backend.normalizer, self.backend.pre_tokenizer
        normalized = normalizer.normalize_str(text) if normalizer is not None else text
        words = [w for w, _span in pre.pre_tokenize_str(normalized)] if pre is not None else [normalized]
        return [i for word in words for i in self._viterbi(word)]

    def _viterbi(self, word: str) -> list[int]:
        """Best segmentation by total score; among equal scores the one found first (a token
        starting earlier), unknown characters fused, as the library does."""
        n = len(word)
        score = [0.0] * (n + 1)
        start = [-1] * (n + 1)
        token = [0] * (n + 1)
        pieces, piece_ids, scores, longest = self.pieces, self.piece_ids, self.scores, self.longest
        for begin in range(n):
            base = score[begin]
            single = False
            for piece, key in pieces.iter_prefixes_with_ids(word[begin : begin + longest]):
                end = begin + len(piece)
                if end == begin:
                    continue  # an empty piece
                found = piece_ids[key]
                single = single or end == begin + 1
                candidate = scores[found] + base
                if start[end] < 0 or candidate > score[end]:
                    score[end], start[end], token[end] = candidate, begin, found
            if not single:
                end = begin + 1
                candidate = self.unk_score + base
                if start[end] < 0 or candidate > score[end]:
                    score[end], start[end], token[end] = candidate, begin, self.unk_id
        out: list[int] = []
        end = n
        while end > 0:
            if not (token[end] == self.unk_id and out and out[-1] == self.unk_id):  # runs of <unk> fuse
                out.append(token[end])
            end = start[end]
        out.reverse()
        return out


def _template(post: dict) -> tuple[list[int] | None, list[int] | None]:
    """The special ids before and after the text in a TemplateProcessing's single template."""
    single, specials = post.get("single") or [], post.get("special_tokens") or {}
    head: list[int] = []
    tail: list[int] = []
    seen_text = False
    for piece in single:
        if "Sequence" in piece:
            if seen_text:
                return None, None
            seen_text = True
        elif "SpecialToken" in piece:
            name = piece["SpecialToken"]["id"]
            if name not in specials:
                return None, None
            (tail if seen_text else head).extend(int(i) for i in specials[name]["ids"])
    return (head, tail) if seen_text else (None, None)
