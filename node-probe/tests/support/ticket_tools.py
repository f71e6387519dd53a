"""A stdio MCP server whose command line does not say so: `python ticket_tools.py`. The
probe can only tell it is one by how its client runs it (on pipes, for as long as the
session lasts)."""
from mcp.server.fastmcp import FastMCP

app = FastMCP("ticket-tools")


@app.tool()
def lookup_ticket(ticket_id: str) -> str:
    """The state of a support ticket."""
    return f"ticket {ticket_id}: open"


app.run()
