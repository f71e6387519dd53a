//! What a node probe reports about self-hosted agents: the runtime inventory it derives
//! from what processes actually do, and the lines of its spool.

use crate::inventory::Observation;
use crate::{AgentRef, Event, Timestamp};
use serde::{Deserialize, Serialize};

/// A package the agent's process actually loaded (a file opened under site-packages or
/// node_modules), when it is one that makes it an agent: a framework, a model SDK, an
/// MCP SDK.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuntimePackage {
    /// `pypi` or `npm`.
    pub ecosystem: String,
    /// The distribution name (`langgraph`, `@modelcontextprotocol/sdk`).
    pub name: String,
    /// From the dist-info / package.json beside the files loaded; `None` when it could
    /// not be read (the process was gone, or no metadata was there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `agent framework`, `model SDK`, `MCP SDK`.
    pub role: String,
    /// The directory it was loaded from.
    pub path: String,
}

/// An MCP server the agent started as a child process (stdio transport).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct McpServer {
    /// The package or module that is the server (`@modelcontextprotocol/server-filesystem`,
    /// `mcp_server_time`).
    pub name: String,
    /// How it was launched: `npx`, `uvx`, `python -m`, `node`, `exec`.
    pub launcher: String,
    /// The command line, as executed (truncated by the probe past 512 bytes).
    pub command: String,
}

/// A network destination the agent connected to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// `203.0.113.7:443`, `[2001:db8::1]:443`.
    pub address: String,
    /// `tcp` or `udp`.
    pub transport: String,
    /// The name the agent looked the address up by, when the probe saw the DNS answer
    /// (`api.openai.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl std::fmt::Display for Endpoint {
    /// `203.0.113.7:443 (tcp)`, or `api.openai.com at 203.0.113.7:443 (tcp)` when the
    /// name it was looked up by is known.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(name) = &self.name {
            write!(f, "{name} at ")?;
        }
        write!(f, "{} ({})", self.address, self.transport)
    }
}

/// One line of a probe spool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum SpoolRecord {
    /// Something a watched process did, with the inventory facts it proves.
    Event {
        event: Box<Event>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        observations: Vec<Observation>,
    },
    /// Inventory facts concluded from several events rather than proved by one (a
    /// child that stayed on its parent's pipes long enough to be its stdio server); each
    /// observation's record id names the event it rests on.
    Facts { observations: Vec<Observation> },
    /// Events the probe lost (its ring was full) between two readings of its counters:
    /// every agent it watched in that window may be missing events.
    Loss {
        host: String,
        from: Timestamp,
        to: Timestamp,
        lost: u64,
        agents: Vec<AgentRef>,
    },
}
