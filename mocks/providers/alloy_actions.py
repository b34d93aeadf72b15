"""Alloy's connectors and their actions: what ``execute_action_alloy`` runs, and the result limits.

A list action answers a page of items; a result set larger than ``needs_refinement_threshold``
answers guidance instead (``needsRefinement``), and a page larger than ``max_array_items`` or a
string longer than ``max_string_bytes`` is cut and marked (seed 000, "Data & Response Issues").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..surface import fail, now, rule

ID = {"type": "string", "minLength": 1, "maxLength": 200}
TEXT = {"type": "string", "minLength": 1, "maxLength": 100_000}
LIST_PARAMS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "cursor": {"type": "string", "pattern": "^cur_[0-9]{1,9}$"},
        "query": {"type": "string", "maxLength": 1000},
        "status": {"type": "string", "maxLength": 100},
    },
}


def iso(epoch: float) -> str:
    """RFC 3339 UTC time of epoch seconds."""
    return (
        datetime.fromtimestamp(epoch, timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def _params(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def _list(collection: str, fields: tuple[str, ...], search: str) -> Callable[..., Any]:
    def run(data: dict[str, Any], args: dict[str, Any]) -> Any:
        rows = data[collection]
        if "status" in args:
            rows = [r for r in rows if r.get("status") == args["status"]]
        if "query" in args:
            rows = [r for r in rows if args["query"].lower() in str(r[search]).lower()]
        return [{f: r[f] for f in fields} for r in rows]

    return run


def _post_message(data: dict[str, Any], args: dict[str, Any]) -> Any:
    message = {"ts": f"{now():.6f}", "channel": args["channel"], "text": args["text"]}
    data["messages"].append(message)
    return {
        "ok": True,
        "channel": args["channel"],
        "ts": message["ts"],
        "message": {"text": args["text"]},
    }


def _delete_message(data: dict[str, Any], args: dict[str, Any]) -> Any:
    data["messages"] = [
        m for m in data["messages"] if (m["channel"], m["ts"]) != (args["channel"], args["ts"])
    ]
    return {"ok": True, "channel": args["channel"], "ts": args["ts"]}


class Missing(LookupError):
    """An id in an action's parameters names nothing; the caller answers NOT_FOUND."""


def _retrieve_page(data: dict[str, Any], args: dict[str, Any]) -> Any:
    page = data["pages"].get(args["pageId"])
    if page is None:
        raise Missing(f"Page {args['pageId']} not found")
    return dict(page)


def _create_page(data: dict[str, Any], args: dict[str, Any]) -> Any:
    data["next_id"] += 1
    page = {
        "id": f"pg_{data['next_id']:04d}",
        "title": args["title"],
        "content": args.get("content", ""),
    }
    data["pages"][page["id"]] = page
    return dict(page)


CONNECTORS: dict[str, dict[str, Any]] = {
    "slack": {
        "name": "Slack",
        "noun": "Message",
        "authenticationTypes": ["oauth2"],
        "actions": {
            "chat_postMessage": (
                "Post a message to a channel.",
                _params(["channel", "text"], channel=ID, text=TEXT),
                _post_message,
            ),
            "conversations_list": (
                "List channels; filter with query and status, page with limit and cursor.",
                LIST_PARAMS,
                _list("channels", ("id", "name"), "name"),
            ),
            "chat_delete": (
                "Delete a message.",
                _params(["channel", "ts"], channel=ID, ts=ID),
                _delete_message,
            ),
        },
    },
    "notion": {
        "name": "Notion",
        "noun": "Page",
        "authenticationTypes": ["oauth2"],
        "actions": {
            "retrieve_page": ("Read one page.", _params(["pageId"], pageId=ID), _retrieve_page),
            "pages_create": (
                "Create a page.",
                _params(["title"], title=ID, content=TEXT),
                _create_page,
            ),
        },
    },
    "hubspot": {
        "name": "HubSpot",
        "noun": "Contact",
        "authenticationTypes": ["oauth2"],
        "actions": {
            "contacts_list": (
                "List contacts.",
                LIST_PARAMS,
                _list("contacts", ("id", "name", "email"), "name"),
            ),
        },
    },
    "shipStation-oas": {
        "name": "ShipStation",
        "noun": "Order",
        "authenticationTypes": ["apiKey"],
        "actions": {
            "orders_list": (
                "List orders.",
                LIST_PARAMS,
                _list("orders", ("id", "status", "total"), "id"),
            ),
        },
    },
}


def bound(value: Any, max_items: int, max_bytes: int, path: str = "") -> tuple[Any, list[str]]:
    """``value`` with arrays cut to ``max_items`` and strings to ``max_bytes`` (UTF-8), and the
    paths of what was cut."""
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) <= max_bytes:
            return value, []
        return raw[:max_bytes].decode("utf-8", "ignore"), [path or "(value)"]
    if isinstance(value, list):
        out, cut = [], [path or "(value)"] if len(value) > max_items else []
        for index, item in enumerate(value[:max_items]):
            bounded, inner = bound(item, max_items, max_bytes, f"{path}[{index}]")
            out.append(bounded)
            cut += inner
        return out, cut
    if isinstance(value, dict):
        result, cut = {}, []
        for key, item in value.items():
            result[key], inner = bound(item, max_items, max_bytes, f"{path}.{key}" if path else key)
            cut += inner
        return result, cut
    return value, []


def limits() -> tuple[int, int, int]:
    """(needs_refinement_threshold, max_array_items, max_string_bytes), overrides applied."""
    return (
        int(rule("needs_refinement_threshold")),
        int(rule("max_array_items")),
        int(rule("max_string_bytes")),
    )


def list_result(rid: Any, rows: list[Any], args: dict[str, Any]) -> dict[str, Any]:
    """A page of ``rows`` as structuredContent; guidance or a cut page raise their scenario."""
    threshold, max_items, max_bytes = limits()
    offset = int(args.get("cursor", "cur_0")[4:])
    window = rows[offset : offset + args["limit"]] if "limit" in args else rows[offset:]
    total = len(rows)
    if len(window) > threshold:
        text = (
            f"The result set is too large ({total} items). Add filtering parameters such as limit, "
            "query or status and call again."
        )
        raise fail(
            "needs_refinement",
            id=rid,
            result__content=[{"type": "text", "text": text}],
            result__structuredContent__totalItems=total,
        )
    page, cut = bound(window[:max_items], max_items, max_bytes, "items")
    content: dict[str, Any] = {"items": page, "totalItems": total}
    if offset + len(page) < total:
        content["nextCursor"] = f"cur_{offset + len(page)}"
    if len(window) > max_items:
        text = (
            f"Showing {len(page)} of {total} items; the response was truncated. "
            "Use pagination for more data."
        )
        raise fail(
            "truncated_array",
            id=rid,
            result__content=[{"type": "text", "text": text}],
            result__structuredContent={"truncated": True, **content},
        )
    if cut:
        text = (
            f"Showing {len(page)} of {total} items; "
            f"{len(cut)} field(s) were truncated to {max_bytes} bytes."
        )
        raise fail(
            "truncated_string",
            id=rid,
            result__content=[{"type": "text", "text": text}],
            result__structuredContent={"truncated": True, "truncatedFields": cut, **content},
        )
    return content


def item_result(rid: Any, item: dict[str, Any], noun: str) -> dict[str, Any]:
    """One object as structuredContent; a string field past 5KB raises ``truncated_string``."""
    _, max_items, max_bytes = limits()
    bounded, cut = bound(item, max_items, max_bytes)
    if cut:
        fields = ", ".join(cut)
        kb = f"{max_bytes // 1024}KB" if max_bytes % 1024 == 0 else f"{max_bytes} bytes"
        ident = item.get("id") or item.get("ts") or ""
        plural = "s were" if len(cut) > 1 else " was"
        text = f"{noun} {ident}; the {fields} field{plural} truncated to {kb}."
        raise fail(
            "truncated_string",
            id=rid,
            result__content=[{"type": "text", "text": text}],
            result__structuredContent={"truncated": True, "truncatedFields": cut, "item": bounded},
        )
    return {"item": bounded}
