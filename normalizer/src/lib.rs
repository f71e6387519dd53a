//! The agentward model: what an agent is, what it did, what we could see of it and what
//! we concluded. Every source (cloud audit logs, provider APIs, the node probe) is
//! translated into these types, and every output (OCSF events, CycloneDX inventory,
//! findings, the audit chain) is derived from them.
//!
//! This crate is pure: no I/O, no async, no clock. Time always arrives as a value, so
//! the same inputs give the same outputs, byte for byte.
//!
//! It is not the place for wire formats of a provider (those live in `connectors`) nor
//! for storage (the binary owns the store).

pub mod agent;
pub mod audit;
pub mod baseline;
pub mod canonical;
pub mod classes;
pub mod coverage;
pub mod cyclonedx;
pub mod drift;
pub mod event;
pub mod finding;
pub mod identity;
pub mod inventory;
pub mod node;
pub mod ocsf;
pub mod policy;
pub mod reconcile;
pub mod syscalls;
pub mod timestamp;

pub use agent::{AgentRef, Provider};
pub use coverage::{Coverage, CoverageStatus};
pub use event::{Correlation, Event, Layer, Outcome, Principal, RawPointer};
pub use finding::{Finding, FindingKind};
pub use inventory::{InventoryHistory, InventorySnapshot, Provenance, ProvenanceKind};
pub use timestamp::Timestamp;

/// `4653` → `4,653`: counts as people read them in reports and findings.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Everything that can go wrong inside the model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("timestamp {text:?} is not RFC 3339: {reason}")]
    BadTimestamp { text: String, reason: String },
    #[error("timestamp {millis} ms is outside the representable range")]
    TimestampOutOfRange { millis: i64 },
    #[error("audit row {seq} cannot be serialized canonically: {reason}")]
    AuditSerialization { seq: u64, reason: String },
}
