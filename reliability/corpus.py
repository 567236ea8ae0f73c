"""The changing folder of bulletin files that the chaos and soak runs index, and a config copy."""
from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

from .results import ROOT


class Corpus:
    """A folder of .jsonl files that each trial changes, and the item ids indexing it must give."""

    def __init__(self, folder: Path, settings, sample_items, seed: int, files: int = 30) -> None:
        from bench.corpus import records

        self.folder, self.settings = folder, settings
        self.rng = random.Random(seed)
        self.pool = records(sample_items, 10_000_000, seed=seed)  # endless, deterministic
        self.files: dict[str, list[dict]] = {}
        self._ids: dict[str, tuple[str, list[str]]] = {}  # file -> (digest, ids)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self.serial = 0
        for _ in range(files):
            self._add(5)

    def _write(self, name: str) -> None:
        rows = self.files[name]
        (self.folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    def _add(self, n: int) -> None:
        name = f"part-{self.serial:05d}.jsonl"
        self.serial += 1
        self.files[name] = [next(self.pool) for _ in range(n)]
        self._write(name)

    def mutate(self, grow: int = 0, target: int = 300) -> None:
        """New items (in a new file, or appended to one), and items deleted from or replaced in
        existing files; about `target` items stay in the folder. Files are never removed:
        `bulletin index FOLDER` keeps the items of a vanished file by design."""
        rng = self.rng
        for _ in range(rng.choice((0, 1, 1, 2))):
            n = rng.randint(1, 8)
            if rng.random() < 0.3 or not self.files:
                self._add(n)
            else:
                name = rng.choice(sorted(self.files))
                self.files[name] += [next(self.pool) for _ in range(n)]
                self._write(name)
        if grow:
            self._add(grow)
        total = sum(len(v) for v in self.files.values())
        self.churn(0, rng.choice((0, 1, 1, 2)) + max(0, total - target), rng.choice((0, 0, 1)))

    def churn(self, new_items: int, deleted: int, replaced: int) -> tuple[int, int, int]:
        """New items in a new file, and items deleted from or replaced in existing files."""
        if new_items:
            self._add(new_items)
        done = [0, 0]
        for k, count in enumerate((deleted, replaced)):
            for _ in range(count):
                candidates = [n for n, rows in self.files.items() if len(rows) > 1] if k == 0 else sorted(self.files)
                if not candidates:
                    break
                name = self.rng.choice(sorted(candidates))
                rows = self.files[name]
                if k == 0:
                    del rows[self.rng.randrange(len(rows))]
                else:
                    rows[self.rng.randrange(len(rows))] = next(self.pool)
                self._write(name)
                done[k] += 1
        return new_items, done[0], done[1]

    def expected_ids(self) -> set[str]:
        from indexer.ingest import parse_file

        ids: set[str] = set()
        for name in self.files:
            path = (self.folder / name).resolve()
            data = path.read_bytes()
            digest = hashlib.sha1(data).hexdigest()
            cached = self._ids.get(name)
            if cached is None or cached[0] != digest:
                result = parse_file(path, self.settings.max_file_bytes, self.settings.parser.brief_title_max_chars)
                assert not result.error, result.error
                cached = (digest, [i.id for i in result.items])
                self._ids[name] = cached
            ids.update(cached[1])
        return ids


def config_copy(settings, folder: Path, changes: dict[str, str] | None = None) -> Path:
    """config.toml in `folder` with `changes` (old line -> new line), the shared model cache and
    the project's own dictionaries."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for old, new in [*(changes or {}).items(), ('cache_dir = "var/models"', f'cache_dir = "{settings.embedding.cache_dir}"')]:
        assert old in text, old
        text = text.replace(old, new)
    for key in ("user_dict", "stop_words", "background"):
        text = text.replace(f'{key} = "search/data/', f'{key} = "{ROOT}/search/data/')
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
