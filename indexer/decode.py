"""Bytes to text: UTF-8 (with or without BOM) or the Chinese legacy encodings, by content."""
from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# Encodings we accept from detection; a guess outside these on a Chinese bulletin is a wrong guess.
CHINESE_ENCODINGS = {"gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "utf_16", "utf_16_le", "utf_16_be"}
# Legacy GB text is decoded as GB18030, the superset, whatever subset was detected.
GB_FAMILY = {"gbk", "gb2312", "gb18030"}
MAX_CONTROL_SHARE = 0.01
# Text decoded from a guessed encoding must be mostly Chinese, ASCII or common punctuation;
# random bytes decode "successfully" as UTF-16 or GB18030 into rare symbols.
MIN_PLAUSIBLE_SHARE = 0.9
_PLAUSIBLE = re.compile(r"[\u0020-\u007e\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u2010-\u2027]")


class DecodeError(ValueError):
    """Raised with a reason a user can act on."""


def looks_binary(data: bytes) -> bool:
    """NUL bytes never occur in UTF-8/GB text; UTF-16 is recognised by its BOM first."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in data[:65536]


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name) or raise DecodeError."""
    if not data.strip():
        raise DecodeError("文件为空")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return _checked(data[3:].decode("utf-8")), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise DecodeError(f"带 UTF-8 BOM 但第 {exc.start} 字节起不是 UTF-8") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _plausible(_checked(data.decode("utf-16"))), "utf-16"
        except UnicodeDecodeError as exc:
            raise DecodeError("带 UTF-16 BOM 但内容无法解码") from exc
    if looks_binary(data):
        raise DecodeError("二进制文件，不是文本")
    try:
        return _checked(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding not in CHINESE_ENCODINGS:
        raise DecodeError("无法识别编码：既不是 UTF-8，也不是 GB18030/GBK 文本")
    encoding = "gb18030" if best.encoding in GB_FAMILY else best.encoding
    try:
        return _plausible(_checked(data.decode(encoding))), encoding
    except UnicodeDecodeError as exc:
        raise DecodeError(f"按 {encoding} 解码失败（第 {exc.start} 字节）") from exc


def _checked(text: str) -> str:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f\v")
    if text and controls / len(text) > MAX_CONTROL_SHARE:
        raise DecodeError("含大量控制字符，不像文本文件")
    return text


def _plausible(text: str) -> str:
    sample = text[:20000]
    if sample and len(_PLAUSIBLE.findall(sample)) / len(sample) < MIN_PLAUSIBLE_SHARE:
        raise DecodeError("无法识别编码：解码后的内容不像中文文本")
    return text
