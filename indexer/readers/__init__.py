"""Readers for what an office keeps beyond text, Word and PDF: .doc/.wps (LibreOffice), .ofd,
saved web pages, scans (OCR). Heavy tools are imported or launched only when such a file is read.

Reader settings ([readers] in config.toml) are set once per process by the command line
(`configure`); code that never calls it (tests, the benchmark) gets the defaults.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess

from search.config import ReaderSettings

from ..document import SourceError

_settings = ReaderSettings()


def configure(settings: ReaderSettings) -> None:
    global _settings
    _settings = settings


def settings() -> ReaderSettings:
    return _settings


def require_tool(name: str, package: str) -> str:
    """The tool's path, or one clear error naming the Debian package to install."""
    path = shutil.which(name)
    if path is None:
        raise SourceError(f"需要 {name} 才能读取此类文件：请安装 Debian 软件包 {package}（以 root 运行 make system-deps）")
    return path


def run_tool(args: list[str], timeout: float, what: str, stdin: bytes | None = None,
             env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    """Run a reader's tool: (exit status, stdout, stderr). A timeout kills the tool and whatever
    it started (LibreOffice's soffice starts soffice.bin) and is a SourceError, as is a tool
    that cannot start."""
    try:
        process = subprocess.Popen(args, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                   env={**os.environ, **(env or {})})
    except OSError as exc:
        raise SourceError(f"{what}失败：{exc.strerror or exc}") from exc
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise SourceError(f"{what}超时（{timeout:.0f} 秒），已放弃") from None
    except BaseException:
        _kill_group(process)
        raise
    return process.returncode, out, err


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.communicate()
