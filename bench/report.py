"""The benchmark report as a Markdown table and PNG plots."""
from __future__ import annotations

from pathlib import Path
from typing import Any

LATENCY_MODES = ("keyword", "semantic", "hybrid", "similar", "api_keyword", "api_hybrid", "api_semantic")
RANK_MODES = ("keyword_rank", "semantic_rank", "hybrid_rank", "keyword_rank_one_thread", "semantic_rank_one_thread")
PEERS = ("bm25s", "tantivy", "numpy_knn")


def value_at(size: dict, key: str) -> Any:
    """A dotted key ("latency_ms.api_keyword.p95") of one size's results, or None."""
    value: Any = size
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def checks(report: dict) -> list[tuple[str, str, Any, str, bool]]:
    """(measure, items, value, target, met) for every target at every size it applies to."""
    out = []
    for target in report["targets"]:
        for n, size in report["sizes"].items():
            if target.get("sizes") and size["items"] not in target["sizes"]:
                continue
            value = value_at(size, target["key"])
            if value is None:
                continue
            if "max" in target:
                wanted, met = f"≤ {target['max']:g}{target.get('unit', '')}", value <= target["max"]
            elif "min" in target:
                wanted, met = f"≥ {target['min']:g}{target.get('unit', '')}", value >= target["min"]
            else:
                wanted, met = f"= {target['equals']}", value == target["equals"]
            out.append((target["measure"], label(n, size), value, wanted, met))
    return out


def label(key: str, size: dict) -> str:
    """A row's name: its item count, and its tag when it has one (a run with another vector type)."""
    tag = key.partition("-")[2]
    return f"{size['items']:,}" + (f" ({tag})" if tag else "")


def _num(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.{digits}f}"


def markdown(report: dict) -> str:
    sizes = report["sizes"]
    m = report["machine"]
    lines = [f"# Benchmark {report['date']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, torch {m['torch']}, "
             f"numpy {m['numpy']}.", "",
             "Load average (1 min) while each size ran, mean / max — the machine was shared: "
             + "; ".join(f"{label(n, s)}: {s['load_average']['mean']} / {s['load_average']['max']}"
                         for n, s in sizes.items() if "load_average" in s) + ".", "",
             "## Latency (ms, after warm-up; 50 queries × repeats; p50 / p95 / p99)", "",
             "| items | vectors / passages | " + " | ".join(LATENCY_MODES) + " |",
             "|---|---" + "|---" * len(LATENCY_MODES) + "|"]
    for n, s in sizes.items():
        cells = [f"{s['latency_ms'][mode]['p50']:.1f} / {s['latency_ms'][mode]['p95']:.1f} / {s['latency_ms'][mode]['p99']:.1f}"
                 for mode in LATENCY_MODES]
        vectors = s.get("vector_dtype", "float32")
        types = f"{vectors} / {s.get('passage_dtype', vectors)}"  # runs before passage_dtype stored passages as vectors
        lines.append(f"| {label(n, s)} | {types} | " + " | ".join(cells) + " |")
    lines += ["", "In-process times are `SearchEngine.search` (ranking, facets and the 20 results' stored fields and "
              "snippets); API times are HTTP round trips to `bulletin serve`. Ranking only (the first page's rows in "
              "order, what the peers return): keyword / semantic / hybrid as served, then keyword and semantic "
              "on one thread (search.query_threads = 1, as the peers run; the ratios below use these), "
              "ms p50 / p95 / p99:", "",
              "| items | " + " | ".join(RANK_MODES) + " |", "|---" * (len(RANK_MODES) + 1) + "|"]
    for n, s in sizes.items():
        if all(m in s["latency_ms"] for m in RANK_MODES[:3]):
            lines.append(f"| {label(n, s)} | " + " | ".join(
                f"{s['latency_ms'][m]['p50']:.1f} / {s['latency_ms'][m]['p95']:.1f} / {s['latency_ms'][m]['p99']:.1f}"
                if m in s["latency_ms"] else "–" for m in RANK_MODES) + " |")
    lines += ["",
              "## Peers on the same terms and vectors (ms p50 / p95) and ratios ours (one thread) / peer (p50)", "",
              "| items | bm25s | tantivy | numpy kNN | keyword / bm25s | keyword / tantivy | semantic / numpy kNN "
              "| ranking only: keyword / bm25s | keyword / tantivy | semantic / numpy kNN |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for n, s in sizes.items():
        p, r = s["peers"], s["ratios"]
        lines.append(f"| {label(n, s)} | " + " | ".join(f"{p[x]['p50']:.2f} / {p[x]['p95']:.2f}" for x in PEERS)
                     + f" | {r['keyword_vs_bm25s_p50']} | {r['keyword_vs_tantivy_p50']} | {r['semantic_vs_numpy_knn_p50']} | "
                     + " | ".join(str(r.get(k, "–")) for k in ("keyword_rank_vs_bm25s_p50", "keyword_rank_vs_tantivy_p50",
                                                               "semantic_rank_vs_numpy_knn_p50")) + " |")
    lines += ["", "## Indexing, start-up and memory", "",
              "| items | segments | parse items/s | keyword index items/s | vectors (composed) items/s | real model items/s "
              "| index MB | bench peak RSS MB | server RSS MB after warm-up (anon + file) | server peak RSS MB "
              "| start-up s: first answer / first hybrid answer |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, s in sizes.items():
        t = s["throughput_items_per_s"]
        warm = s["server_memory"]["server_memory_after_warm_up"]
        lines.append(f"| {label(n, s)} | {s['segments']} | {t['parse']:,.0f} | {t['keyword_index']:,.0f} | "
                     f"{t['composed_vectors']:,.0f} | {t['embedding']:.1f} | {s['index_size_mb']:,.1f} | "
                     f"{s['peak_rss_mb']:,.0f} | {warm['rss_mb']:,.0f} ({warm['anon_mb']:,.0f} + {warm['file_mb']:,.0f}) | "
                     f"{s['server_peak_rss_mb']:,.0f} | {s['startup_s']:.1f} / {_num(s.get('startup_hybrid_s', '–'))} |")
    lines += ["", "## Adding 100 items (a new .jsonl) to the built index", "",
              "| items | seconds | of which embedding (real model) | segments before → after | merged "
              "| existing segment files kept (same inode and mtime) | rewritten |",
              "|---|---|---|---|---|---|---|"]
    for n, s in sizes.items():
        inc = s["increment"]
        lines.append(f"| {label(n, s)} | {inc['seconds']:.1f} | {inc['timings'].get('embedding', 0):.1f} | "
                     f"{inc['segments_before']} → {inc['segments_after']} | {inc['segments_merged']} | "
                     f"{inc['kept_unchanged']} of {inc['existing_segment_files']} | {len(inc['rewritten'])} |")
    if report.get("quality"):
        lines += ["", "## Quality (run_eval.py, sample corpus, judged queries)", "",
                  "| mode | nDCG@10 | R@10 | R@20 | AboutR@20 | MRR |", "|---|---|---|---|---|---|"]
        for mode, q in report["quality"].items():
            lines.append(f"| {mode} | {q['nDCG@10']:.3f} | {q['R@10']:.3f} | {q['R@20']:.3f} | {q['AboutR@20']:.3f} | {q['MRR']:.3f} |")
    lines += ["", "## Targets (issue 10)", "", "| measure | items | value | target | met |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {n} | {_num(value, 2)} | {wanted} | {'yes' if ok else '**no**'} |"
              for name, n, value, wanted, ok in checks(report)]
    lines += ["", report.get("notes", ""), ""]
    return "\n".join(lines)


def plots(report: dict, folder: Path, stem: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = {n: s for n, s in report["sizes"].items() if "-" not in n}  # untagged runs: one line per measure
    xs = sorted(int(n) for n in sizes)
    fig, ax = plt.subplots(figsize=(8, 5))
    for mode in LATENCY_MODES:
        ax.plot(xs, [sizes[str(x)]["latency_ms"][mode]["p95"] for x in xs], marker="o", label=mode)
    for peer in PEERS:
        ax.plot(xs, [sizes[str(x)]["peers"][peer]["p95"] for x in xs], marker="x", linestyle="--", label=f"peer {peer}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("items")
    ax.set_ylabel("p95 latency (ms)")
    ax.set_title("Query latency vs corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / f"{stem}-latency.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    stages = ("parse", "keyword_index", "composed_vectors", "embedding")
    width = 0.2
    for k, stage in enumerate(stages):
        ax.bar([i + k * width for i in range(len(xs))], [sizes[str(x)]["throughput_items_per_s"][stage] for x in xs],
               width, label=stage if stage != "embedding" else "embedding (real model)")
    ax.set_xticks([i + 1.5 * width for i in range(len(xs))], [f"{x:,}" for x in xs])
    ax.set_yscale("log")
    ax.set_ylabel("items/s")
    ax.set_title("Indexing throughput per stage")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / f"{stem}-throughput.png", dpi=110)
    plt.close(fig)
