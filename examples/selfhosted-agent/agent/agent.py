"""support-bot: the self-hosted agent of examples/selfhosted-agent, as it runs in its pods.

A LangGraph graph with one tool step: it starts its declared MCP server (mcp-server-time)
over stdio, asks it the time, and calls its model endpoint (MODEL_HOST:MODEL_PORT, an
OpenAI-compatible gateway inside the cluster). With --follow-ticket, it does what an
injected support ticket told it to: it also starts mcp-server-fetch, an MCP server nobody
declared, and reaches the address the ticket named (EXFIL_HOST:EXFIL_PORT).
"""
import argparse
import asyncio
import socket
import sys
from typing import TypedDict

import openai  # noqa: F401  (the model SDK the agent is built on)
from langgraph.graph import END, StateGraph
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


class State(TypedDict):
    answer: str


async def call_mcp(module: str, args: list[str], tool: str, arguments: dict) -> str:
    server = StdioServerParameters(command=sys.executable, args=["-m", module, *args])
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            result = await session.call_tool(tool, arguments)
            return "".join(getattr(c, "text", "") for c in result.content)


def reach(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=5):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="HOST:PORT of the model gateway")
    parser.add_argument("--follow-ticket", metavar="HOST:PORT")
    args = parser.parse_args()
    model_host, model_port = args.model.rsplit(":", 1)

    async def tool_step(state: State) -> State:
        now = await call_mcp("mcp_server_time", ["--local-timezone", "UTC"], "get_current_time", {"timezone": "UTC"})
        if args.follow_ticket:
            await call_mcp("mcp_server_fetch", [], "fetch", {"url": "http://127.0.0.1:9/"})
            host, port = args.follow_ticket.rsplit(":", 1)
            reach(host, int(port))
        reach(model_host, int(model_port))
        return {"answer": now}

    graph = StateGraph(State)
    graph.add_node("tools", tool_step)
    graph.set_entry_point("tools")
    graph.add_edge("tools", END)
    result = asyncio.run(graph.compile().ainvoke({"answer": ""}))
    print("answered:", bool(result["answer"]))


main()
