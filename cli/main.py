"""The `bulletin` command. Heavy modules (torch, whoosh) are imported inside commands,
so `bulletin --help` and `bulletin parse` answer quickly."""
from __future__ import annotations

import json
import sys
from collections import Counter

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
        from indexer.readers import configure

        configure(self.settings.readers)


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

    from search.units import UnitAliases

    report = ingest(paths, obj.settings.max_file_bytes, obj.settings.parser.brief_title_max_chars,
                    UnitAliases(obj.settings.units.aliases))
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


class _Bar:
    def __init__(self, label: str, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label, unit="条" if label == "向量" else "个", disable=total == 0, file=sys.stderr)

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


def _engine(obj: Context):
    from search.engine import SearchEngine
    from search.store import IndexUnavailable

    try:
        return SearchEngine(obj.settings)
    except IndexUnavailable as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--rebuild", is_flag=True, help="丢弃旧索引，全部重建")
@click.pass_obj
def index(obj: Context, paths: tuple[str, ...], rebuild: bool) -> None:
    """把简报文件或文件夹加入索引（增量：只处理新增或变化的条目）。"""
    from indexer.build import build, describe
    from indexer.lock import IndexBusy
    from search.store import IndexUnavailable

    try:
        report = build(paths, obj.settings, rebuild=rebuild, progress=_Bar)
    except (IndexUnavailable, IndexBusy) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"写入索引失败，原索引未受影响：{_os_reason(exc)}（{exc.filename or obj.settings.index.path}）") from exc
    for result in report.failed:
        click.echo(f"错误：{result.path}：{result.error}", err=True)
    click.echo(describe(report))
    if report.failed:
        sys.exit(1)


@main.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.pass_obj
def watch(obj: Context, folders: tuple[str, ...]) -> None:
    """监视文件夹：新增、修改、删除的文件在几秒内更新到索引（Ctrl+C 停止）。"""
    watcher = _watcher(obj.settings, folders, None)
    click.echo(f"正在监视：{'、'.join(str(f) for f in watcher.folders)}（按 Ctrl+C 停止）", err=True)
    try:
        watcher.run()
    except KeyboardInterrupt:
        watcher.stop()


def _watcher(settings: Settings, folders, embedder):
    """A FolderWatcher that reports each run as `bulletin index` does."""
    from indexer.build import describe
    from indexer.watch import FolderWatcher

    def report(result) -> None:
        for failed in result.failed:
            click.echo(f"错误：{failed.path}：{failed.error}", err=True)
        if result.changed or result.failed:
            click.echo(describe(result), err=True)

    def error(exc: Exception) -> None:
        reason = _os_reason(exc) if isinstance(exc, OSError) else str(exc)
        click.echo(f"索引更新失败，原索引未受影响，稍后重试：{reason}", err=True)

    try:
        return FolderWatcher(folders, settings, embedder=embedder, on_report=report, on_error=error)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.argument("query")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default=None, help="检索模式（默认 hybrid）")
@click.option("--unit", "units", multiple=True, help="只看这些单位（可重复；“无单位”选没有单位的条目）")
@click.option("--from", "date_from", help="起始日期 YYYY-MM-DD")
@click.option("--to", "date_to", help="截止日期 YYYY-MM-DD")
@click.option("--year", help="年份，如 2024；“无日期”选没有日期的条目")
@click.option("--kind", type=click.Choice(["measure", "brief", "article"]), help="类型")
@click.option("--series", help="刊物名，如 上街信息")
@click.option("--issue", help="期号")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True,
              help="排序：相关度、最新在前、最早在前")
@click.option("--limit", help="每页条数")
@click.option("--offset", default="0", help="从第几条开始")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（与 API 相同）")
@click.pass_obj
def search(obj: Context, query: str, mode: str | None, units: tuple[str, ...], date_from: str | None,
           date_to: str | None, year: str | None, kind: str | None, series: str | None, issue: str | None,
           sort: str, limit: str | None, offset: str, as_json: bool) -> None:
    """检索条目：关键词、语义或混合。"""
    from search.params import parse_search_request
    from search.query import QueryError

    from .output import results_table

    args = {"q": query, "mode": mode, "unit": list(units), "from": date_from, "to": date_to, "year": year,
            "kind": kind, "series": series, "issue": issue, "sort": sort, "limit": limit, "offset": offset}
    engine = _engine(obj)
    try:  # the API's own parameter rules, so the CLI accepts exactly what the API accepts
        req = parse_search_request(_Args(args), obj.settings.search.max_limit)
        result = engine.search(req.q, mode=req.mode, filters=req.filters, limit=req.limit, offset=req.offset, sort=req.sort)
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(results_table(result))


class _Args:
    """CLI options seen as query-string arguments."""

    def __init__(self, values: dict) -> None:
        self.values = values

    def get(self, key: str, default: object = None) -> object:
        value = self.values.get(key)
        return default if value is None or isinstance(value, list) else value

    def getlist(self, key: str) -> list[str]:
        value = self.values.get(key)
        return list(value) if isinstance(value, list) else ([] if value is None else [value])


def _os_reason(exc: OSError) -> str:
    import errno

    reasons = {errno.ENOSPC: "磁盘空间不足", errno.EROFS: "索引目录是只读的", errno.EACCES: "没有写入权限",
               errno.EPERM: "没有写入权限", errno.EDQUOT: "超出磁盘配额"}
    if exc.errno is None and " requested and " in str(exc):  # numpy's short write ("16128 requested and 2016 written")
        return "磁盘空间不足（文件未能写完）"
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


@main.command()
@click.argument("item_id", required=False)
@click.option("--text", help="用一段文字（如草稿）查找相似条目")
@click.option("--other-units", is_flag=True, help="只看其他单位的条目")
@click.option("--limit", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def similar(obj: Context, item_id: str | None, text: str | None, other_units: bool, limit: int | None, as_json: bool) -> None:
    """相似条目：按条目 ID，或按 --text 给出的一段文字。"""
    from search.query import QueryError

    from .output import results_table

    if bool(item_id) == bool(text):
        raise click.UsageError("请给出条目 ID 或 --text，二者选一")
    engine = _engine(obj)
    try:
        result = engine.similar(item_id, other_units, limit) if item_id else engine.similar_text(text or "", limit)
    except KeyError:
        raise click.ClickException(f"没有 ID 为 {item_id} 的条目") from None
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else results_table(result))


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def stats(obj: Context, as_json: bool) -> None:
    """索引概况：条目数、单位、日期范围、向量模型。"""
    data = _engine(obj).stats()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"条目 {data['items']}（{data['kinds']}），单位 {len(data['units'])} 个，文件 {data['files']} 个")
    click.echo(f"日期 {data['date_from']} 至 {data['date_to']}；模型 {data['model']}（{data['dim']} 维）；更新于 {data['updated']}")


@main.command()
@click.option("--host", default=None, help="监听地址（默认 127.0.0.1，仅本机可访问）")
@click.option("--port", type=int, default=None, help="端口（默认 8000）")
@click.option("--threads", type=int, default=8, show_default=True, help="处理请求的线程数")
@click.pass_obj
def serve(obj: Context, host: str | None, port: int | None, threads: int) -> None:
    """启动网页与 JSON API（waitress，可在 Windows 上运行）。"""
    from search.malloc import limit_arenas

    settings = obj.settings
    limit_arenas(settings.web.malloc_arenas)  # before the server's threads first allocate
    from waitress import serve as waitress_serve

    from search.service import SearchService
    from web import create_app

    service = SearchService(settings)
    if service.error:
        raise click.ClickException(f"无法打开索引：{service.error}")
    click.echo("正在加载向量模型……", err=True)
    service.warm_up()
    app = create_app(settings, service)
    if settings.watch.folders:  # index what lands in the watched folders while serving
        import threading

        watcher = _watcher(settings, settings.watch.folders, service.embedder)
        threading.Thread(target=watcher.run, name="watch", daemon=True).start()
        click.echo(f"正在监视：{'、'.join(str(f) for f in watcher.folders)}", err=True)
    host = host or settings.web.host
    port = port or settings.web.port
    click.echo(f"已启动：http://{host}:{port}/ （按 Ctrl+C 停止）", err=True)
    waitress_serve(app, host=host, port=port, threads=threads, ident="bulletin-search",
                   max_request_body_size=max(settings.web.max_upload_mb * 1024 * 1024, settings.web.max_body_kb * 1024))


if __name__ == "__main__":
    main()
