"""An MCP client from another ecosystem (the Python `mcp` SDK) driving
`cst mcp DIR` over stdio: lists the tools, calls each, and prints one JSON
object with what came back, for the Rust test to check.

Usage: client.py CST_BINARY WORKSPACE_DIR ARGS_JSON CALLS_JSON
ARGS_JSON: the arguments of the cst binary (e.g. ["--cache-dir", C, "mcp", DIR]),
  or {"url": "http://127.0.0.1:PORT/mcp"} to use a running `cst serve`'s
  streamable HTTP transport instead of stdio;
CALLS_JSON: a list of [tool, arguments] pairs.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


def field(obj, snake, camel):
    """An attribute by its name in the SDK's 2.x (snake) or 1.x (camel) API."""
    return getattr(obj, snake, getattr(obj, camel, None))


async def session_calls(read, write, calls, out) -> None:
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        out["server"] = field(init, "server_info", "serverInfo").name
        tools = await session.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        out["schemas"] = {
            t.name: field(t, "input_schema", "inputSchema") for t in tools.tools
        }
        for name, args in calls:
            r = await session.call_tool(name, args)
            text = "".join(
                getattr(c, "text", "") for c in (getattr(r, "content", None) or [])
            )
            out["calls"].append(
                {
                    "tool": name,
                    "args": args,
                    "is_error": bool(field(r, "is_error", "isError")),
                    "text": text,
                    "structured": field(r, "structured_content", "structuredContent"),
                }
            )


async def main() -> None:
    cst, root = sys.argv[1], sys.argv[2]
    args, calls = json.loads(sys.argv[3]), json.loads(sys.argv[4])
    out = {"tools": [], "calls": []}
    if isinstance(args, dict):
        async with streamable_http_client(args["url"]) as streams:
            await session_calls(streams[0], streams[1], calls, out)
    else:
        params = StdioServerParameters(command=cst, args=args, cwd=root)
        async with stdio_client(params) as (read, write):
            await session_calls(read, write, calls, out)
    print(json.dumps(out))


# A hung server fails the test instead of holding it.
asyncio.run(asyncio.wait_for(main(), timeout=120))
