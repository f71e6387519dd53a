//! agentward's sources: each connector reads one provider's records (audit logs today;
//! provider APIs and probe spools as they land) and turns them into the normalized model
//! from `normalizer`. Connectors decide what a record means; they do not decide where
//! results are stored, and they never drop a record silently: whatever cannot be mapped
//! comes back as a quarantined item with its reason.

pub mod attribution;
pub mod aws;
pub mod azure;
pub mod cloudtrail;
pub mod gcp;
pub mod invocation;
pub mod location;
pub mod openapi;
pub mod probe;
pub mod recording;
pub mod records;
pub mod rest;
pub mod source;

/// A record's stable id from the fields that make it unique: the same record read again,
/// from a sink's export or the API that wrote it, gets the same id.
pub(crate) fn record_uid(parts: &[&str]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(parts.join("\n").as_bytes())[..16])
}

/// A fact read from a provider's API: the source and the call that answered it.
pub(crate) fn api_provenance(source: &str, call: String) -> normalizer::inventory::Provenance {
    normalizer::inventory::Provenance {
        kind: normalizer::inventory::ProvenanceKind::ProviderApi,
        record: normalizer::inventory::RecordRef {
            source: source.to_string(),
            object: call,
            index: 0,
            record_id: None,
        },
    }
}

/// Errors a connector reports; record-level problems are not errors but quarantined items.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    #[error("invalid location {url:?}: {reason}")]
    BadLocation { url: String, reason: String },
    #[error("cannot list {url}: {source}")]
    List {
        url: String,
        #[source]
        source: object_store::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: object_store::Error,
    },
    #[error("the parser for {path} stopped unexpectedly: {reason}")]
    Worker { path: String, reason: String },
    #[error("cannot ship {path}: {reason}")]
    Ship { path: String, reason: String },
    /// An answer or a stored document that does not parse as what it should be.
    #[error("{what} is malformed: {reason}")]
    Malformed { what: String, reason: String },
    /// The store a scan writes to failed (the pipeline's error, carried through a source).
    #[error(transparent)]
    Store(Box<dyn std::error::Error + Send + Sync>),
}
