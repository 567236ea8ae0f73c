"""Where an item's original file is, among the files the index was built from."""
from __future__ import annotations

from pathlib import Path

from search.engine import SearchEngine
from search.item import Item


def source_path(engine: SearchEngine, item: Item) -> Path | None:
    """The indexed file that gave this item, if it is still on disk. Only paths listed in the
    index's files.json are candidates, so no request can name a file of its own choosing."""
    if item.source is None:
        return None
    name = Path(item.source.file).name
    listed = [Path(path) for path, ids in engine.snapshot.files.items() if item.id in ids]
    for path in sorted(listed, key=lambda p: p.name != name):  # the file named in the item first
        if path.is_file():
            return path
    return None
