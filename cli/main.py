"""The `bulletin` command. Heavy modules (torch, whoosh) are imported inside commands,
so `bulletin --help` and `bulletin parse` answer quickly."""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from search.config import ConfigError, Settings, load_settings


class Context:
    """Settings shared by all subcommands, loaded once from --config / --index."""

    def __init__(self, config: str | None, index: str | None) -> None:
        try:
            settings = load_settings(config)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        self.settings: Settings = settings.with_index(index) if index else settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", type=click.Path(dir_okay=False), help="配置文件（默认 ./config.toml）")
@click.option("--index", "index", type=click.Path(file_okay=False), help="索引目录，覆盖配置文件中的 index.path")
@click.pass_context
def main(ctx: click.Context, config: str | None, index: str | None) -> None:
    """上街信息等工作简报的全文与语义检索。"""
    ctx.obj = Context(config, index)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="输出 JSON Lines（每行一个完整条目）")
@click.pass_obj
def parse(obj: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """解析简报文件或文件夹，列出条目（不写索引）。"""
    from indexer.ingest import ingest

    from .output import item_table, summary_line

    report = ingest(paths, obj.settings.max_file_bytes, obj.settings.parser.brief_title_max_chars)
    items = report.items
    if as_json:
        for item in items:
            click.echo(json.dumps(item.to_dict(), ensure_ascii=False))
    else:
        click.echo(item_table(items))
    for result in report.files:
        if result.error:
            click.echo(f"错误：{result.path}：{result.error}", err=True)
        for warning in result.warnings:
            click.echo(f"警告：{result.path}：{warning}", err=True)
    click.echo(summary_line(len(report.files), Counter(i.kind for i in items), len(report.failed), report.duplicates), err=as_json)
    if report.failed or not report.files:
        sys.exit(1)


if __name__ == "__main__":
    main()
