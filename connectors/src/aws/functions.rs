//! The Lambda functions behind agents' action groups, read through the Lambda API: the
//! role each runs as (part of the agent's identity), who may invoke it (its resource
//! policy) and whether it is attached to a VPC (the only place its egress can be seen).

use super::{ApiSettings, provenance};
use crate::ConnectorError;
use crate::failure::sdk_failure;
use normalizer::Timestamp;
use normalizer::identity::{DeclaredIdentity, Document, IdentityFact, IdentityObservation};
use std::collections::BTreeSet;

/// Network attachment of one function, as GetFunctionConfiguration answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FunctionNetwork {
    pub arn: String,
    /// The VPC the function's interfaces are in; `None` when it runs outside any VPC.
    pub vpc: Option<String>,
}

#[derive(Debug, Default)]
pub struct FunctionsRead {
    pub observations: Vec<IdentityObservation>,
    pub networks: Vec<FunctionNetwork>,
    /// Execution roles (ARNs), to be read with the agents' other roles.
    pub roles: BTreeSet<String>,
    pub calls: u64,
    pub failures: Vec<ConnectorError>,
}

impl FunctionsRead {
    pub fn absorb(&mut self, other: FunctionsRead) {
        self.observations.extend(other.observations);
        self.networks.extend(other.networks);
        self.roles.extend(other.roles);
        self.calls += other.calls;
        self.failures.extend(other.failures);
    }
}

/// The region of a function ARN (`arn:aws:lambda:REGION:…`).
pub fn function_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Reads each function (unqualified ARNs). A function without a resource policy is
/// recorded as such when the history thought it had one.
pub async fn read_functions(
    config: &aws_config::SdkConfig,
    settings: &ApiSettings,
    functions: &BTreeSet<String>,
    known: &DeclaredIdentity,
    now: Timestamp,
) -> FunctionsRead {
    let lambda = aws_sdk_lambda::Client::new(config);
    let mut out = FunctionsRead::default();
    for function in functions {
        let name = function.rsplit(':').next().unwrap_or(function);
        let observe = |out: &mut FunctionsRead, call: String, fact: IdentityFact| {
            out.observations.push(IdentityObservation {
                time: now,
                subject: function.clone(),
                fact,
                provenance: provenance(&settings.source, call),
            })
        };
        out.calls += 1;
        match lambda
            .get_function_configuration()
            .function_name(function)
            .send()
            .await
        {
            Ok(c) => {
                if let Some(role) = c.role() {
                    out.roles.insert(role.to_string());
                    observe(
                        &mut out,
                        format!("lambda:GetFunctionConfiguration {name}"),
                        IdentityFact::FunctionRole {
                            role: role.to_string(),
                        },
                    );
                }
                let vpc = c
                    .vpc_config()
                    .and_then(|v| v.vpc_id())
                    .filter(|v| !v.is_empty())
                    .map(str::to_string);
                out.networks.push(FunctionNetwork {
                    arn: function.clone(),
                    vpc,
                });
            }
            Err(e) => {
                out.failures.push(sdk_failure(
                    format!("lambda:GetFunctionConfiguration {name}"),
                    &e,
                ));
                continue;
            }
        }
        out.calls += 1;
        match lambda.get_policy().function_name(function).send().await {
            Ok(p) => {
                if let Some(policy) = p.policy() {
                    observe(
                        &mut out,
                        format!("lambda:GetPolicy {name}"),
                        IdentityFact::FunctionPolicy {
                            document: Document::from_value(&serde_json::Value::String(
                                policy.to_string(),
                            )),
                        },
                    );
                }
            }
            // No resource policy at all: only the account's own principals may invoke it.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                if known
                    .functions
                    .get(function)
                    .is_some_and(|f| f.policy.is_some())
                {
                    observe(
                        &mut out,
                        format!("lambda:GetPolicy {name}"),
                        IdentityFact::FunctionPolicyRemoved,
                    );
                }
            }
            Err(e) => out
                .failures
                .push(sdk_failure(format!("lambda:GetPolicy {name}"), &e)),
        }
    }
    out
}

/// The network layer of an agent whose action-group functions were read: which of them can
/// have their egress seen at all (in a VPC, through its flow logs) and which cannot.
pub fn network_coverage(
    agent: &normalizer::AgentRef,
    source: &str,
    functions: &[String],
    networks: &[FunctionNetwork],
) -> Option<normalizer::Coverage> {
    let mut outside = Vec::new();
    let mut inside = Vec::new();
    for f in functions {
        let short = f.rsplit(':').next().unwrap_or(f);
        match networks.iter().find(|n| &n.arn == f) {
            Some(FunctionNetwork { vpc: Some(vpc), .. }) => {
                inside.push(format!("{short} in {vpc}"))
            }
            Some(FunctionNetwork { vpc: None, .. }) => outside.push(short.to_string()),
            None => {}
        }
    }
    if outside.is_empty() && inside.is_empty() {
        return None;
    }
    let mut reason = format!(
        "{source}: the agent's orchestration egress happens inside AWS and is never exposed"
    );
    if !outside.is_empty() {
        reason.push_str(&format!(
            "; action-group functions outside any VPC, whose egress no log records: {}",
            outside.join(", ")
        ));
    }
    if !inside.is_empty() {
        reason.push_str(&format!(
            "; VPC-attached functions, whose egress only that VPC's flow logs show (agentward does not read flow logs): {}",
            inside.join(", ")
        ));
    }
    Some(normalizer::Coverage {
        agent: agent.clone(),
        layer: normalizer::Layer::Network,
        status: normalizer::CoverageStatus::Unavailable { reason },
    })
}
