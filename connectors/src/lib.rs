//! agentward's sources: each connector reads one provider's records (audit logs today;
//! provider APIs and probe spools as they land) and turns them into the normalized model
//! from `normalizer`. Connectors decide what a record means; they do not decide where
//! results are stored, and they never drop a record silently: whatever cannot be mapped
//! comes back as a quarantined item with its reason.

pub mod attribution;
pub mod aws;
pub mod azure;
pub mod cloudtrail;
pub mod failure;
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
/// A failed read is one of the classes below, so a caller can tell throttling from bad
/// credentials from a malformed answer; each renders as `what: detail`, `what` naming the
/// call or the object and `detail` the provider's own words.
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
    /// The task parsing a file went down (a panic, a cancelled runtime).
    #[error("parser for {path} failed: {reason}")]
    Worker { path: String, reason: String },
    #[error("cannot ship {path}: {reason}")]
    Ship { path: String, reason: String },
    /// The credentials are missing, expired or refused (HTTP 401, an unknown key, no token).
    #[error("{}", joined(.what, .detail))]
    Auth { what: String, detail: String },
    /// The credentials lack a permission the call needs (HTTP 403, AccessDenied).
    #[error("{}", joined(.what, .detail))]
    Denied { what: String, detail: String },
    /// Still throttled after the retries (HTTP 429, ThrottlingException).
    #[error("{}", joined(.what, .detail))]
    Throttled { what: String, detail: String },
    /// What the call names does not exist (HTTP 404, NoSuchEntity, ResourceNotFound).
    #[error("{}", joined(.what, .detail))]
    NotFound { what: String, detail: String },
    /// An answer or a stored document that does not parse as what it should be, or lacks
    /// what the API documents it always carries.
    #[error("{}", joined(.what, .detail))]
    Malformed { what: String, detail: String },
    /// The call did not reach the provider or its answer did not arrive (connection,
    /// timeout, a local file).
    #[error("{}", joined(.what, .detail))]
    Io { what: String, detail: String },
    /// Replaying a recording that holds no answer for the call.
    #[error("{}", joined(.what, .detail))]
    NotRecorded { what: String, detail: String },
    /// The provider refused the call otherwise (a bad request, a server error after the
    /// retries, an API not enabled).
    #[error("{}", joined(.what, .detail))]
    Refused { what: String, detail: String },
    /// The read stopped at a limit the user set (pages, items): what lies past it is unread.
    #[error("{}", joined(.what, .detail))]
    Limit { what: String, detail: String },
    /// The store a scan writes to failed (the pipeline's error, carried through a source).
    #[error(transparent)]
    Store(Box<dyn std::error::Error + Send + Sync>),
}

/// `what: detail`, or `what` alone when there is no detail.
fn joined(what: &str, detail: &str) -> String {
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {detail}")
    }
}

/// The class of a failed read: which `ConnectorError` variant it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    Auth,
    Denied,
    Throttled,
    NotFound,
    Malformed,
    Io,
    NotRecorded,
    Refused,
    Limit,
}

impl ConnectorError {
    /// A failed read of `class`: `what` names the call, `detail` says what happened.
    pub fn failed(class: FailureClass, what: impl Into<String>, detail: impl Into<String>) -> Self {
        let (what, detail) = (what.into(), detail.into());
        match class {
            FailureClass::Auth => ConnectorError::Auth { what, detail },
            FailureClass::Denied => ConnectorError::Denied { what, detail },
            FailureClass::Throttled => ConnectorError::Throttled { what, detail },
            FailureClass::NotFound => ConnectorError::NotFound { what, detail },
            FailureClass::Malformed => ConnectorError::Malformed { what, detail },
            FailureClass::Io => ConnectorError::Io { what, detail },
            FailureClass::NotRecorded => ConnectorError::NotRecorded { what, detail },
            FailureClass::Refused => ConnectorError::Refused { what, detail },
            FailureClass::Limit => ConnectorError::Limit { what, detail },
        }
    }

    /// The class of a failed read; reading objects and lists from a store is I/O.
    pub fn class(&self) -> FailureClass {
        match self {
            ConnectorError::Auth { .. } => FailureClass::Auth,
            ConnectorError::Denied { .. } => FailureClass::Denied,
            ConnectorError::Throttled { .. } => FailureClass::Throttled,
            ConnectorError::NotFound { .. } => FailureClass::NotFound,
            ConnectorError::Malformed { .. } | ConnectorError::BadLocation { .. } => {
                FailureClass::Malformed
            }
            ConnectorError::NotRecorded { .. } => FailureClass::NotRecorded,
            ConnectorError::Refused { .. } => FailureClass::Refused,
            ConnectorError::Limit { .. } => FailureClass::Limit,
            ConnectorError::Io { .. }
            | ConnectorError::List { .. }
            | ConnectorError::Read { .. }
            | ConnectorError::Worker { .. }
            | ConnectorError::Ship { .. }
            | ConnectorError::Store(_) => FailureClass::Io,
        }
    }

    /// The same failure, its `what` placed within `scope` (a region, a project): the text
    /// becomes `scope: what: detail`.
    pub fn within(self, scope: impl std::fmt::Display) -> Self {
        self.reworded(|what, detail| (format!("{scope}: {what}"), detail))
    }

    /// The same failure with a note after its detail: `what: detail (note)`.
    pub fn noting(self, note: impl std::fmt::Display) -> Self {
        self.reworded(|what, detail| (what, format!("{detail} ({note})")))
    }

    /// The same class with `what` and `detail` rewritten; a failure of another variant is
    /// first split from its text as [`ConnectorError::from_text`] does, its class kept.
    fn reworded(self, words: impl FnOnce(String, String) -> (String, String)) -> Self {
        let class = self.class();
        let (what, detail) = match self {
            ConnectorError::Auth { what, detail }
            | ConnectorError::Denied { what, detail }
            | ConnectorError::Throttled { what, detail }
            | ConnectorError::NotFound { what, detail }
            | ConnectorError::Malformed { what, detail }
            | ConnectorError::Io { what, detail }
            | ConnectorError::NotRecorded { what, detail }
            | ConnectorError::Refused { what, detail }
            | ConnectorError::Limit { what, detail } => words(what, detail),
            other => {
                let text = other.to_string();
                let (what, detail) = text.split_once(": ").unwrap_or((&text, ""));
                words(what.to_string(), detail.to_string())
            }
        };
        ConnectorError::failed(class, what, detail)
    }

    /// A failure of `class` from another error's whole text (`what: detail` split at the
    /// first `: `, else all `what`), so it renders as that error did.
    pub fn from_text(class: FailureClass, text: &str) -> Self {
        let (what, detail) = text.split_once(": ").unwrap_or((text, ""));
        ConnectorError::failed(class, what, detail)
    }
}

/// Failures serialized as the text a user reads (the audit trail's evidence keeps them so).
pub(crate) fn failures_as_text<S: serde::Serializer>(
    failures: &[ConnectorError],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(failures.iter().map(|f| f.to_string()))
}
