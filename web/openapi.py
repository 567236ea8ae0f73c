"""The OpenAPI 3.1 description of /api; tests validate real responses against it."""
from __future__ import annotations

from typing import Any

from search.config import Settings


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "参数错误"),
    "404": _json(_ref("Error"), "没有这个条目"),
    "503": _json(_ref("Error"), "索引不可用"),
}


QUERY_SYNTAX = ("查询语法：空格分隔的几个词都要满足（每个词按关键词或语义匹配），越多越窄；"
                "词之间写 或、OR 或 | 表示任一即可；\"引号\" 内为精确短语；-词 排除含该词的条目。")


def openapi_document(settings: Settings, server_url: str | None = None) -> dict[str, Any]:
    """The API description; `server_url` (the address the document was fetched from) fills `servers`."""
    s = settings.search
    nullable_str = {"type": ["string", "null"]}
    result = {
        "type": "object",
        "required": ["id", "title", "text", "snippet", "units", "date", "issue", "series", "kind", "score"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
            "title": {"type": "string"},
            "text": {"type": "string"},
            "snippet": {"type": "string", "description": "HTML: 文本已转义，匹配词包在 <mark> 中"},
            "units": {"type": "array", "items": {"type": "string"}},
            "date": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            "issue": {"type": ["integer", "null"]},
            "series": nullable_str,
            "kind": {"enum": ["measure", "brief", "article"]},
            "score": {"type": "number"},
        },
        "additionalProperties": False,
    }
    spans = {"type": "array", "items": {"type": "array", "prefixItems": [{"type": "integer", "minimum": 0}] * 2,
                                         "minItems": 2, "maxItems": 2}}
    share = {"type": "number", "minimum": 0, "maximum": 1}
    similar_result = {
        **result,
        "required": result["required"] + ["label", "near_duplicate", "reuse", "overlap", "item_overlap", "passages"],
        "properties": {
            **result["properties"],
            "score": {"type": "number", "description": "去掉各类简报共有成分（背景均值）后两者向量的余弦，排序用；"
                                                       "多在 0 到 1 之间，"
                                                       f"{settings.similar.very_similar} 起为很相似"},
            "label": {"enum": ["很相似", "相似", "相关", None],
                      "description": f"按意思的相似程度：score ≥ {settings.similar.very_similar} 很相似，≥ {settings.similar.similar} 相似，"
                                     f"≥ {settings.similar.related} 相关，更低为 null（在开发集上，达到这三档的条目对分别有 95%、80%、50% 属同一主题）"},
            "near_duplicate": {"type": "boolean", "description": f"几乎相同：共同文字占两边各 {s.near_duplicate:.0%} 以上"},
            "reuse": {"enum": ["near", "partial", None],
                      "description": f"near = 几乎相同；partial = 部分重复（有连续 {s.reuse_passage_chars} 字以上完全相同）；null = 无"},
            "overlap": {**share, "description": "草稿（或源条目）的文字见于该条目的比例"},
            "item_overlap": {**share, "description": "该条目的文字见于草稿的比例"},
            "passages": {
                "type": "object", "required": ["draft", "item"], "additionalProperties": False,
                "description": "完全相同的文字：[起, 止) 字符位置（Unicode 码位），draft 指提交的文字，item 指该条目的 text",
                "properties": {"draft": spans, "item": spans},
            },
            "snippet": {"type": "string", "description": "HTML：已转义；有重复标记时为相同段落（包在 <mark> 中）及上下文，"
                                                         "否则为该条目与来源（条目或草稿）最接近的一段，两边共有的词语包在 <mark> 中"},
            "draft_snippet": {"type": "string", "description": "HTML：草稿中相同段落及上下文（仅在有标记时）"},
        },
    }
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    schemas = {
        "Result": result,
        "SimilarResult": similar_result,
        "SearchResponse": {
            "type": "object",
            "required": ["query", "mode", "total", "offset", "limit", "results", "facets"],
            "properties": {
                "query": {"type": "string"},
                "mode": {"enum": ["hybrid", "keyword", "semantic"]},
                "total": {"type": "integer", "minimum": 0},
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1, "maximum": s.max_limit},
                "results": {"type": "array", "items": _ref("Result")},
                "facets": {
                    "type": "object",
                    "required": ["units", "years", "kinds"],
                    "properties": {"units": counts, "years": counts, "kinds": counts,
                                   "months": {**counts, "description": "选定一年时各月条数，键为 YYYY-MM"}},
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        },
        "SimilarResponse": {
            "type": "object",
            "required": ["results"],
            "properties": {
                "id": {"type": "string"},
                "other_units": {"type": "boolean"},
                "text": {"type": "string"},
                "marked_text": {"type": "string", "description": "HTML：提交的全文，已转义，见于被标记条目的文字包在 <mark> 中"},
                "results": {"type": "array", "items": _ref("SimilarResult")},
            },
            "additionalProperties": False,
        },
        "Item": {
            "type": "object",
            "required": ["id", "kind", "title", "text", "units", "series", "issue", "date", "source"],
            "properties": {
                "id": {"type": "string"},
                "kind": {"enum": ["measure", "brief", "article"]},
                "title": {"type": "string"},
                "text": {"type": "string"},
                "units": {"type": "array", "items": {"type": "string"}},
                "series": nullable_str,
                "issue": {"type": ["integer", "null"]},
                "date": nullable_str,
                "issuer": nullable_str,
                "reporters": {"type": "array", "items": {"type": "string"}},
                "source": {
                    "type": ["object", "null"],
                    "properties": {"file": {"type": "string"}, "position": {"type": "integer"},
                                   "line": {"type": "integer"}, "url": nullable_str},
                },
            },
        },
        "Units": {"type": "object", "required": ["units"], "properties": {"units": counts}},
        "UnitItems": {
            "type": "object",
            "required": ["unit", "spellings", "total", "offset", "limit", "sort", "date_from", "date_to", "results"],
            "properties": {
                "unit": {"type": "string", "description": "单位的规范名称（config.toml [units.aliases] 中的别名已换成它）"},
                "spellings": {"type": "array", "items": {"type": "string"}, "description": "该单位的其他写法（别名）"},
                "total": {"type": "integer", "minimum": 1},
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1, "maximum": s.max_limit},
                "sort": {"enum": ["newest", "oldest"]},
                "date_from": nullable_str, "date_to": nullable_str,
                "results": {"type": "array", "items": _ref("Result"), "description": "按日期排序（无日期的在最后）；没有检索词，score 为 0"},
            },
            "additionalProperties": False,
        },
        "Stats": {
            "type": "object",
            "required": ["items", "kinds", "units", "date_from", "date_to", "model", "dim", "updated"],
            "properties": {
                "items": {"type": "integer"}, "kinds": counts, "units": counts, "date_from": nullable_str,
                "date_to": nullable_str, "model": {"type": "string"}, "dim": {"type": "integer"},
                "updated": {"type": "string"}, "generation": {"type": "string"}, "files": {"type": "integer"},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"enum": ["ok", "degraded", "error"]}, "items": {"type": "integer"},
                           "generation": {"type": "string"}, "error": _ref("ErrorBody")},
        },
        "ErrorBody": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
        "Error": {"type": "object", "required": ["error"], "properties": {"error": _ref("ErrorBody")},
                  "additionalProperties": False},
        "SuggestResponse": {
            "type": "object",
            "required": ["query", "suggestions"],
            "properties": {
                "query": {"type": "string"},
                "suggestions": {"type": "array", "items": {
                    "type": "object", "required": ["text", "kind"], "additionalProperties": False,
                    "properties": {"text": {"type": "string", "description": "补全后的整个查询（已输入的前几个词保留）"},
                                   "kind": {"enum": ["word", "title"], "description": "词典词语或条目标题"}}}},
            },
            "additionalProperties": False,
        },
        "IndexReport": {
            "type": "object",
            "required": ["added", "updated", "unchanged", "total"],
            "properties": {"file": {"type": "string"}, "added": {"type": "integer"}, "updated": {"type": "integer"},
                           "unchanged": {"type": "integer"}, "total": {"type": "integer"}},
        },
    }

    def param(name: str, schema: dict[str, Any], description: str, required: bool = False, where: str = "query") -> dict[str, Any]:
        return {"name": name, "in": where, "required": required, "schema": schema, "description": description}

    item_id = param("id", {"type": "string"}, "条目 ID（16 位十六进制）", True, "path")
    document = {
        "openapi": "3.1.0",
        "info": {"title": "bulletin-search API", "version": "1.0.0",
                 "description": "工作简报检索：关键词、语义、混合检索，相似条目。" + QUERY_SYNTAX
                                + "错误统一为 {\"error\": {\"code\", \"message\"}}。"},
        "paths": {
            "/api/search": {"get": {
                "operationId": "search",
                "summary": "检索条目",
                "description": QUERY_SYNTAX,
                "parameters": [
                    param("q", {"type": "string", "minLength": 1, "maxLength": s.max_query_chars},
                          "查询，如 融资 座谈会（两个词都要满足）、融资 或 贷款、\"政银企座谈会\"、融资 -座谈会", True),
                    param("mode", {"enum": ["hybrid", "keyword", "semantic"]}, "检索模式，默认 hybrid"),
                    param("units", {"type": "string"}, "单位，逗号分隔或重复参数（任一匹配）；也可写 unit；别名（config.toml [units.aliases]）与规范名称等同"),
                    param("from", {"type": "string", "format": "date"}, "起始日期 YYYY-MM-DD"),
                    param("to", {"type": "string", "format": "date"}, "截止日期 YYYY-MM-DD"),
                    param("year", {"type": "string", "pattern": r"^\d{4}$"}, "年份（代替 from/to）"),
                    param("month", {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"}, "月份 YYYY-MM（代替 year、from/to）"),
                    param("kind", {"enum": ["measure", "brief", "article"]}, "类型"),
                    param("series", {"type": "string"}, "刊物名"),
                    param("issue", {"type": "integer", "minimum": 0}, "期号"),
                    param("sort", {"enum": ["relevance", "newest", "oldest"]}, "排序：relevance 相关度（默认）、newest 最新在前、oldest 最早在前（无日期的在最后）"),
                    param("limit", {"type": "integer", "minimum": 1, "maximum": s.max_limit}, f"每页条数，默认 {s.default_limit}"),
                    param("offset", {"type": "integer", "minimum": 0}, "跳过的条数"),
                ],
                "responses": {"200": _json(_ref("SearchResponse"), "检索结果"), "400": ERRORS["400"], "503": ERRORS["503"]},
            }},
            "/api/suggest": {"get": {
                "operationId": "suggest",
                "summary": "输入提示：包含已输入文字的条目标题和词典词语",
                "description": "补全最后一个词（前面的词保留）；以该文字开头的在前，包含它的在后。",
                "parameters": [
                    param("q", {"type": "string", "maxLength": s.max_query_chars}, "已输入的文字；为空时没有提示", True),
                    param("limit", {"type": "integer", "minimum": 1, "maximum": s.max_limit}, f"条数，默认 {s.suggest_limit}"),
                ],
                "responses": {"200": _json(_ref("SuggestResponse"), "提示"), "400": ERRORS["400"], "503": ERRORS["503"]},
            }},
            "/api/items/{id}": {"get": {
                "operationId": "getItem",
                "summary": "一个条目的全文与元数据", "parameters": [item_id],
                "responses": {"200": _json(_ref("Item"), "条目"), "404": ERRORS["404"]},
            }},
            "/api/items/{id}/similar": {"get": {
                "operationId": "similarItems",
                "summary": "与该条目相似的条目",
                "parameters": [item_id, param("other_units", {"type": "boolean"}, "只看其他单位"),
                               param("limit", {"type": "integer", "minimum": 1, "maximum": s.max_limit}, "条数")],
                "responses": {"200": _json(_ref("SimilarResponse"), "相似条目"), "400": ERRORS["400"], "404": ERRORS["404"]},
            }},
            "/api/similar": {"post": {
                "operationId": "similarToText",
                "summary": "与一段文字（如草稿）相似的条目",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["text"],
                    "properties": {"text": {"type": "string", "minLength": 1},
                                   "limit": {"type": "integer", "minimum": 1, "maximum": s.max_limit}}}}}},
                "responses": {"200": _json(_ref("SimilarResponse"), "相似条目"), "400": ERRORS["400"],
                              "413": _json(_ref("Error"), "请求体过大")},
            }},
            "/api/units": {"get": {"operationId": "listUnits", "summary": "单位及条目数", "responses": {"200": _json(_ref("Units"), "单位")}}},
            "/api/units/{name}": {"get": {
                "operationId": "unitItems",
                "summary": "一个单位的全部条目，按日期排序（不需要检索词）",
                "parameters": [
                    param("name", {"type": "string"}, "单位名称（别名亦可）；“无单位”列出没有单位的条目", True, "path"),
                    param("sort", {"enum": ["newest", "oldest"]}, "newest 最新在前（默认）、oldest 最早在前"),
                    param("limit", {"type": "integer", "minimum": 1, "maximum": s.max_limit}, f"每页条数，默认 {s.default_limit}"),
                    param("offset", {"type": "integer", "minimum": 0}, "跳过的条数"),
                ],
                "responses": {"200": _json(_ref("UnitItems"), "该单位的条目"), "400": ERRORS["400"],
                              "404": _json(_ref("Error"), "没有这个单位的条目")},
            }},
            "/api/stats": {"get": {"operationId": "getStats", "summary": "索引概况", "responses": {"200": _json(_ref("Stats"), "概况")}}},
            "/api/health": {"get": {"operationId": "getHealth", "summary": "服务与索引状态", "responses": {
                "200": _json(_ref("Health"), "正常"), "503": _json(_ref("Health"), "索引不可用")}}},
            "/api/index": {"post": {
                "operationId": "indexFile",
                "summary": "上传并索引一个简报文件（默认关闭，需管理令牌）",
                "security": [{"bearer": []}],
                "requestBody": {"content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                "responses": {"200": _json(_ref("IndexReport"), "已索引"), "400": ERRORS["400"],
                              "401": _json(_ref("Error"), "令牌缺失或错误"), "403": _json(_ref("Error"), "上传已关闭"),
                              "413": _json(_ref("Error"), "文件过大"), "415": _json(_ref("Error"), "不支持的文件类型")},
            }},
        },
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
    if server_url:
        document["servers"] = [{"url": server_url, "description": "本服务"}]
    return document
