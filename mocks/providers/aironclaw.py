"""AIronClaw: the management API (``/api/...``) and the gateway proxy (``/proxy/mcp/<id>``).

Seed 002 documents one error envelope, ``{"error": "..."}``, and the rules below; each lives in
the helper module named beside it:

- ``aironclaw_core``: credentials (PAT Bearer, dashboard session cookie, client keys), MFA
  pending, session-only endpoints, ``Invalid JSON body``, ``Endpoint not found``, no-store, seed.
- ``aironclaw_mcp``: MCP servers, tool refresh (502 from clearly fake urls), rules.
- ``aironclaw_resources``: MCP resources.
- ``aironclaw_account``: keys, audit log, health, 2FA, PAT rotation.
- ``aironclaw_gateway``: the rule schema and the proxy's ip_acl, bans and rate limits.
"""

from __future__ import annotations

# Importing a module registers its routes on the surface.
from . import aironclaw_account, aironclaw_gateway, aironclaw_mcp, aironclaw_resources  # noqa: F401
from .aironclaw_core import surface

__all__ = ["surface"]
