"""An agent as a self-hosted one looks from the kernel: it imports a model SDK, starts a
real MCP server (mcp-server-time, from PyPI) over stdio and lists its tools, then one of
its own whose command line names no MCP (ticket_tools.py beside this file) and calls a tool
over a session of a second or so, then calls its "model endpoint" (a listener the test
opened on 127.0.0.1). Usage: agent.py MODEL_PORT"""
import asyncio
import os
import socket
import sys

import openai  # noqa: F401  (loaded, as an agent's model SDK is)
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(model_port: int) -> None:
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server_time", "--local-timezone", "UTC"]
    )
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            print("tools:", ",".join(sorted(t.name for t in tools.tools)))
    own = StdioServerParameters(
        command=sys.executable, args=[os.path.join(os.path.dirname(__file__), "ticket_tools.py")]
    )
    async with stdio_client(own) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("lookup_ticket", {"ticket_id": "T-1"})
            print("ticket:", result.content[0].text)
            await asyncio.sleep(1.2)
    with socket.create_connection(("127.0.0.1", model_port), timeout=5):
        pass


asyncio.run(main(int(sys.argv[1])))
