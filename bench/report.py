"""The benchmark report as a Markdown table and PNG plots."""
from __future__ import annotations

from pathlib import Path

LATENCY_MODES = ("keyword", "semantic", "hybrid", "similar", "api_keyword", "api_hybrid", "api_semantic")
PEERS = ("bm25s", "tantivy", "numpy_knn")


def markdown(report: dict) -> str:
    sizes = report["sizes"]
    m = report["machine"]
    lines = [f"# Benchmark {report['date']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, torch {m['torch']}.", "",
             "## Latency (ms, after warm-up; 50 queries)", "",
             "| items | " + " | ".join(f"{mode} p50 / p95" for mode in LATENCY_MODES) + " |",
             "|---" * (len(LATENCY_MODES) + 1) + "|"]
    for n, s in sizes.items():
        cells = [f"{s['latency_ms'][mode]['p50']:.1f} / {s['latency_ms'][mode]['p95']:.1f}" for mode in LATENCY_MODES]
        lines.append(f"| {int(n):,} | " + " | ".join(cells) + " |")
    lines += ["", "## Peers on the same tokens and vectors (ms p50 / p95) and ratios ours / peer (p50)", "",
              "| items | bm25s | tantivy | numpy kNN | keyword / bm25s | keyword / tantivy | semantic / numpy kNN |",
              "|---|---|---|---|---|---|---|"]
    for n, s in sizes.items():
        p, r = s["peers"], s["ratios"]
        lines.append(f"| {int(n):,} | " + " | ".join(f"{p[x]['p50']:.2f} / {p[x]['p95']:.2f}" for x in PEERS)
                     + f" | {r['keyword_vs_bm25s_p50']} | {r['keyword_vs_tantivy_p50']} | {r['semantic_vs_numpy_knn_p50']} |")
    lines += ["", "## Indexing and memory", "",
              "| items | parse items/s | keyword index items/s | embedding items/s (real model) | index MB | peak RSS MB (bench process) | server peak RSS MB |",
              "|---|---|---|---|---|---|---|"]
    for n, s in sizes.items():
        t = s["throughput_items_per_s"]
        lines.append(f"| {int(n):,} | {t['parse']:,.0f} | {t['keyword_index']:,.0f} | {t['embedding']:.1f} | "
                     f"{s['index_size_mb']} | {s['peak_rss_mb']:,.0f} | {s['server_peak_rss_mb']:,.0f} |")
    if report.get("quality"):
        lines += ["", "## Quality (run_eval.py, sample corpus, 26 judged queries)", "",
                  "| mode | nDCG@10 | R@10 | R@20 | AboutR@20 | MRR |", "|---|---|---|---|---|---|"]
        for mode, q in report["quality"].items():
            lines.append(f"| {mode} | {q['nDCG@10']:.3f} | {q['R@10']:.3f} | {q['R@20']:.3f} | {q['AboutR@20']:.3f} | {q['MRR']:.3f} |")
    lines += ["", "## Targets (largest size ≤ 50k)", ""]
    target_size = max((int(n) for n in sizes if int(n) <= 50_000), default=None)
    if target_size is not None:
        s = sizes[str(target_size)]
        tg = report["targets"]
        checks = [
            ("API keyword p95", s["latency_ms"]["api_keyword"]["p95"], f"≤ {tg['api_keyword_p95_ms']} ms", s["latency_ms"]["api_keyword"]["p95"] <= tg["api_keyword_p95_ms"]),
            ("API hybrid p95", s["latency_ms"]["api_hybrid"]["p95"], f"≤ {tg['api_hybrid_p95_ms']} ms", s["latency_ms"]["api_hybrid"]["p95"] <= tg["api_hybrid_p95_ms"]),
            ("keyword indexing", s["throughput_items_per_s"]["keyword_index"], f"≥ {tg['keyword_index_items_per_s']} items/s", s["throughput_items_per_s"]["keyword_index"] >= tg["keyword_index_items_per_s"]),
            ("embedding", s["throughput_items_per_s"]["embedding"], f"≥ {tg['embedding_items_per_s']} items/s", s["throughput_items_per_s"]["embedding"] >= tg["embedding_items_per_s"]),
            ("server peak RSS", s["server_peak_rss_mb"], f"≤ {tg['peak_rss_mb']} MB", s["server_peak_rss_mb"] <= tg["peak_rss_mb"]),
        ]
        lines += [f"At {target_size:,} items:", "", "| measure | value | target | met |", "|---|---|---|---|"]
        lines += [f"| {name} | {value} | {target} | {'yes' if ok else '**no**'} |" for name, value, target, ok in checks]
    lines += ["", report.get("notes", ""), ""]
    return "\n".join(lines)


def plots(report: dict, folder: Path, stem: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = report["sizes"]
    xs = [int(n) for n in sizes]
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
    stages = ("parse", "keyword_index", "embedding")
    width = 0.25
    for k, stage in enumerate(stages):
        ax.bar([i + k * width for i in range(len(xs))], [sizes[str(x)]["throughput_items_per_s"][stage] for x in xs],
               width, label=stage)
    ax.set_xticks([i + width for i in range(len(xs))], [f"{x:,}" for x in xs])
    ax.set_yscale("log")
    ax.set_ylabel("items/s")
    ax.set_title("Indexing throughput per stage")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / f"{stem}-throughput.png", dpi=110)
    plt.close(fig)
