//! Least-privilege generation from observed behavior: IAM scope tightenings with the trace
//! each was derived from, blast-radius replay, monitor-then-enforce rollout, apply and
//! rollback for AWS IAM, GCP IAM, Azure RBAC and Kubernetes.
//!
//! Nothing is implemented here yet: the crate exists so the workspace has its final shape.
//! agentward generates no enforcement artifacts until it lands.
