#!/usr/bin/env python3
"""Drives `cliffwatch mcp` with the official MCP Python SDK (`mcp` on PyPI), a client nobody
here wrote: spawn the server over stdio, initialize, list the tools, call each, and print one
JSON document of what came back. Exits non-zero on any failure: a missing tool, a tool without
an input schema, a protocol error, or a call whose error flag is not what the plan expected.

    mcp_client.py BINARY --data-dir DIR [--calls PLAN.json] [--pass-env VAR ...]

PLAN.json is a list of {"tool": name, "arguments": {...}, "expect_error": false}. Without one,
every tool is called once with arguments taken from list_accounts. The server is started with
only the SDK's default environment plus CLIFFWATCH_DATA_DIR, every CLIFFWATCH_* variable of
this process and the variables named with --pass-env.
"""

import argparse
import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOOLS = {"list_accounts", "get_runway", "recent_402s", "can_afford"}


class Failure(Exception):
    pass


def result_json(result):
    """A tools/call result as plain JSON: the error flag, structured content and text."""
    texts = [c.text for c in result.content if getattr(c, "type", None) == "text"]
    structured = result.structured_content
    if structured is None and texts:
        try:
            structured = json.loads(texts[0])
        except ValueError:
            structured = None
    return {"is_error": bool(result.is_error), "structured": structured, "text": texts}


def default_plan(accounts):
    """One call of each tool, on the first account list_accounts gives."""
    label = accounts[0]["account"]["label"] if accounts else "none"
    return [
        {"tool": "get_runway", "arguments": {"account": label}},
        {"tool": "recent_402s", "arguments": {"limit": 20}},
        {"tool": "can_afford", "arguments": {"account": label, "hours": 1}},
    ]


async def run(args):
    env = {k: v for k, v in os.environ.items() if k.startswith("CLIFFWATCH_")}
    for name in args.pass_env:
        if name in os.environ:
            env[name] = os.environ[name]
    env["CLIFFWATCH_DATA_DIR"] = args.data_dir
    server = StdioServerParameters(command=args.binary, args=["mcp"], env=env)
    out = {"server": None, "tools": [], "calls": []}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await asyncio.wait_for(session.initialize(), args.timeout)
            out["server"] = {
                "name": init.server_info.name,
                "version": init.server_info.version,
                "protocol_version": init.protocol_version,
                "tools_capability": init.capabilities.tools is not None,
                "instructions": init.instructions,
            }
            listed = await asyncio.wait_for(session.list_tools(), args.timeout)
            names = set()
            for t in listed.tools:
                schema = t.input_schema
                if not isinstance(schema, dict) or schema.get("type") != "object":
                    raise Failure(f"tool {t.name} has no object input schema: {schema!r}")
                if not t.description:
                    raise Failure(f"tool {t.name} has no description")
                names.add(t.name)
                out["tools"].append(
                    {"name": t.name, "description": t.description, "input_schema": schema}
                )
            if names != TOOLS:
                raise Failure(f"tools/list gave {sorted(names)}, expected {sorted(TOOLS)}")

            async def call(tool, arguments, expect_error=False):
                result = await asyncio.wait_for(session.call_tool(tool, arguments), args.timeout)
                got = result_json(result)
                out["calls"].append({"tool": tool, "arguments": arguments, **got})
                if got["is_error"] != expect_error:
                    raise Failure(
                        f"{tool}({json.dumps(arguments)}): is_error {got['is_error']}, "
                        f"expected {expect_error}: {got['text']}"
                    )
                return got

            accounts = await call("list_accounts", {})
            if args.calls:
                with open(args.calls, encoding="utf-8") as f:
                    plan = json.load(f)
            else:
                plan = default_plan((accounts["structured"] or {}).get("accounts", []))
            for step in plan:
                await call(step["tool"], step.get("arguments", {}), step.get("expect_error", False))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("binary", help="the cliffwatch binary")
    p.add_argument("--data-dir", required=True, help="the data directory the server opens")
    p.add_argument("--calls", help="a JSON plan of tool calls")
    p.add_argument("--pass-env", action="append", default=[], metavar="VAR")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    args = p.parse_args()
    try:
        out = asyncio.run(run(args))
    except Failure as e:
        print(f"mcp_client: {e}", file=sys.stderr)
        return 1
    except BaseException as e:  # a protocol error, a crash of the server, a timeout
        print(f"mcp_client: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
