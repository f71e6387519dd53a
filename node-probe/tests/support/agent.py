"""An agent as a self-hosted one looks from the kernel: it imports a model SDK, starts a
real MCP server (mcp-server-time, from PyPI) over stdio and lists its tools, then calls its
"model endpoint" (a listener the test opened on 127.0.0.1). Usage: agent.py MODEL_PORT"""
import asyncio
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
    with socket.create_connection(("127.0.0.1", model_port), timeout=5):
        pass


asyncio.run(main(int(sys.argv[1])))
