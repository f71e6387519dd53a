//! Provider APIs of AWS, read with the real SDK: IAM, for the declared side of the
//! agents' identities (what a role may do *now*, including the documents of AWS-managed
//! policies, which no log records); Bedrock Agents (`agents`), for the inventory as
//! deployed; CloudTrail and Bedrock logging configuration, for coverage.

pub mod agentcore;
pub mod agents;
pub mod attachments;
pub mod functions;
pub mod schemas;
pub mod source;
pub mod wire;

use crate::api_provenance as provenance;
use crate::failure::{class_of_sdk, sdk_failure};
use crate::{ConnectorError, FailureClass};
use normalizer::Timestamp;
use normalizer::identity::{
    DeclaredIdentity, Document, IdentityFact, IdentityObservation, role_key,
};
use std::collections::BTreeSet;

/// Where and how to reach the APIs.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The configured source name (provenance of every fact read).
    pub source: String,
    pub region: String,
    /// An endpoint to use instead of AWS's (a local test server, a VPC endpoint).
    pub endpoint: Option<String>,
    /// Attempts per call, with adaptive backoff on throttling.
    pub max_attempts: u32,
    pub wire: Wire,
    /// Agents read at once (each reads its own versions and tools one call after another).
    pub concurrency: usize,
}

/// Where the answers come from.
#[derive(Debug, Clone, Default)]
pub enum Wire {
    #[default]
    Live,
    /// Live, every answer also written down.
    Record(wire::Recorder),
    /// From a recording, parsed by the same SDK.
    Replay(wire::Replay),
}

/// The SDK configuration: the standard credential chain, one rustls (ring) HTTP client,
/// adaptive retries.
pub async fn sdk_config(settings: &ApiSettings) -> aws_config::SdkConfig {
    use aws_smithy_http_client::{
        Builder,
        tls::{self, rustls_provider::CryptoMode},
    };
    let live = Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let http = match &settings.wire {
        Wire::Live => live,
        Wire::Record(recorder) => recorder.around(live),
        Wire::Replay(replay) => replay.client(),
    };
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .region(aws_config::Region::new(settings.region.clone()))
        .retry_config(
            aws_config::retry::RetryConfig::adaptive()
                .with_max_attempts(settings.max_attempts.max(1)),
        );
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Wire::Replay(_) = settings.wire {
        // Answers come from the recording; requests are still signed, with a key that
        // opens nothing.
        loader = loader.credentials_provider(aws_sdk_iam::config::Credentials::new(
            "AKIDREPLAY",
            "replay",
            None,
            None,
            "agentward-replay",
        ));
    }
    loader.load().await
}

/// What reading the roles produced.
#[derive(Debug, Default)]
pub struct IdentityRead {
    pub observations: Vec<IdentityObservation>,
    pub roles_read: usize,
    pub policies_read: usize,
    pub calls: u64,
    /// Each call that failed, with the operation and the role: the rest is still read.
    pub failures: Vec<ConnectorError>,
}

/// Reads every role in `roles` (role keys) as IAM has it now: trust policy, inline
/// policies, attached managed policies with their default documents, boundary. What the
/// history (`known`) holds but IAM no longer has is recorded as removed.
pub async fn read_roles(
    config: &aws_config::SdkConfig,
    settings: &ApiSettings,
    roles: &BTreeSet<String>,
    known: &DeclaredIdentity,
    now: Timestamp,
) -> IdentityRead {
    let reader = RoleReader {
        iam: aws_sdk_iam::Client::new(config),
        source: settings.source.as_str(),
        known,
        now,
    };
    let mut out = IdentityRead::default();
    let mut policies: BTreeSet<String> = BTreeSet::new();
    for role in roles {
        let Some(name) = role.rsplit('/').next().filter(|_| role.contains(":role/")) else {
            continue;
        };
        if reader.read_role(role, name, &mut out).await {
            reader.read_inline(role, name, &mut out).await;
            policies.extend(reader.read_attached(role, name, &mut out).await);
        }
    }
    // The default version of every attached managed policy, AWS-managed ones included.
    for arn in policies {
        reader.read_policy(&arn, &mut out).await;
    }
    out
}

struct RoleReader<'a> {
    iam: aws_sdk_iam::Client,
    source: &'a str,
    known: &'a DeclaredIdentity,
    now: Timestamp,
}

impl RoleReader<'_> {
    fn fact(&self, out: &mut IdentityRead, role: &str, call: String, fact: IdentityFact) {
        out.observations.push(IdentityObservation {
            time: self.now,
            subject: role.to_string(),
            fact,
            provenance: provenance(self.source, call),
        })
    }

    /// The role itself: its trust policy and boundary; whether it was read (its policies are
    /// read only then).
    async fn read_role(&self, role: &str, name: &str, out: &mut IdentityRead) -> bool {
        out.calls += 1;
        let got = match self.iam.get_role().role_name(name).send().await {
            Ok(r) => r,
            Err(e) => {
                out.failures
                    .push(sdk_failure(format!("iam:GetRole {name}"), &e));
                return false;
            }
        };
        out.roles_read += 1;
        let Some(r) = got.role() else {
            out.failures.push(ConnectorError::failed(
                FailureClass::Malformed,
                format!("iam:GetRole {name}"),
                "no role in the answer; its policies are not read",
            ));
            return false;
        };
        if role_key(r.arn()) != *role {
            out.failures.push(ConnectorError::failed(
                FailureClass::Malformed,
                format!("iam:GetRole {name}"),
                format!("answered for {} (another account?); not used", r.arn()),
            ));
            return false;
        }
        let call = format!("iam:GetRole {name}");
        if let Some(doc) = r.assume_role_policy_document() {
            let document = Document::from_value(&serde_json::Value::String(doc.to_string()));
            self.fact(out, role, call.clone(), IdentityFact::Trust { document });
        }
        let before = self.known.roles.get(role);
        match r
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
        {
            Some(arn) => self.fact(
                out,
                role,
                call,
                IdentityFact::Boundary {
                    policy: arn.to_string(),
                },
            ),
            None if before.is_some_and(|b| b.boundary.is_some()) => {
                self.fact(out, role, call, IdentityFact::BoundaryRemoved)
            }
            None => {}
        }
        true
    }

    /// Inline policies, every page; those the history has but IAM no longer lists are
    /// removed (only when the list was read whole).
    async fn read_inline(&self, role: &str, name: &str, out: &mut IdentityRead) {
        let mut inline: Vec<String> = Vec::new();
        let mut pages = self
            .iam
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .send();
        let mut listed = true;
        while let Some(page) = pages.next().await {
            out.calls += 1;
            match page {
                Ok(p) => inline.extend(p.policy_names().iter().cloned()),
                Err(e) => {
                    out.failures
                        .push(sdk_failure(format!("iam:ListRolePolicies {name}"), &e));
                    listed = false;
                    break;
                }
            }
        }
        for policy in &inline {
            out.calls += 1;
            let got = self
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await;
            match got {
                Ok(p) => self.fact(
                    out,
                    role,
                    format!("iam:GetRolePolicy {name} {policy}"),
                    IdentityFact::InlinePolicy {
                        name: policy.clone(),
                        document: Document::from_value(&serde_json::Value::String(
                            p.policy_document().to_string(),
                        )),
                    },
                ),
                Err(e) => out.failures.push(sdk_failure(
                    format!("iam:GetRolePolicy {name} {policy}"),
                    &e,
                )),
            }
        }
        if listed && let Some(b) = self.known.roles.get(role) {
            for gone in b.inline.keys().filter(|k| !inline.contains(k)) {
                self.fact(
                    out,
                    role,
                    format!("iam:ListRolePolicies {name}"),
                    IdentityFact::InlinePolicyRemoved { name: gone.clone() },
                );
            }
        }
    }

    /// Attached managed policies, every page; returns them. Those the history has but IAM
    /// no longer lists are detached (only when the list was read whole).
    async fn read_attached(&self, role: &str, name: &str, out: &mut IdentityRead) -> Vec<String> {
        let mut attached: Vec<String> = Vec::new();
        let mut pages = self
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .send();
        let mut listed = true;
        while let Some(page) = pages.next().await {
            out.calls += 1;
            match page {
                Ok(p) => attached.extend(
                    p.attached_policies()
                        .iter()
                        .filter_map(|a| a.policy_arn().map(str::to_string)),
                ),
                Err(e) => {
                    out.failures.push(sdk_failure(
                        format!("iam:ListAttachedRolePolicies {name}"),
                        &e,
                    ));
                    listed = false;
                    break;
                }
            }
        }
        let call = format!("iam:ListAttachedRolePolicies {name}");
        for policy in &attached {
            let fact = IdentityFact::ManagedPolicyAttached {
                policy: policy.clone(),
            };
            self.fact(out, role, call.clone(), fact);
        }
        if listed && let Some(b) = self.known.roles.get(role) {
            for gone in b.managed.keys().filter(|k| !attached.contains(k)) {
                let fact = IdentityFact::ManagedPolicyDetached {
                    policy: gone.clone(),
                };
                self.fact(out, role, call.clone(), fact);
            }
        }
        attached
    }

    /// A managed policy's default version and its document.
    async fn read_policy(&self, arn: &str, out: &mut IdentityRead) {
        out.calls += 1;
        let version = match self.iam.get_policy().policy_arn(arn).send().await {
            Ok(p) => p
                .policy()
                .and_then(|p| p.default_version_id())
                .map(str::to_string),
            Err(e) => {
                out.failures
                    .push(sdk_failure(format!("iam:GetPolicy {arn}"), &e));
                return;
            }
        };
        let Some(version) = version else {
            out.failures.push(ConnectorError::failed(
                FailureClass::Malformed,
                format!("iam:GetPolicy {arn}"),
                "no default version in the answer",
            ));
            return;
        };
        out.calls += 1;
        let got = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version)
            .send()
            .await;
        let answer = match got {
            Ok(v) => v,
            Err(e) => {
                return out.failures.push(sdk_failure(
                    format!("iam:GetPolicyVersion {arn} {version}"),
                    &e,
                ));
            }
        };
        let Some(doc) = answer.policy_version().and_then(|v| v.document()) else {
            out.failures.push(ConnectorError::failed(
                FailureClass::Malformed,
                format!("iam:GetPolicyVersion {arn} {version}"),
                "no document in the answer",
            ));
            return;
        };
        out.policies_read += 1;
        out.observations.push(IdentityObservation {
            time: self.now,
            subject: arn.to_string(),
            fact: IdentityFact::PolicyVersion {
                version: version.clone(),
                document: Document::from_value(&serde_json::Value::String(doc.to_string())),
                default: true,
            },
            provenance: provenance(self.source, format!("iam:GetPolicyVersion {arn} {version}")),
        });
    }
}

/// The roles worth reading: those the logs declared, those agents are attributed to, and
/// those agents were seen acting as.
pub fn roles_of_interest<'a>(
    declared: &DeclaredIdentity,
    attributed: impl IntoIterator<Item = &'a String>,
    acted_as: impl IntoIterator<Item = &'a String>,
) -> BTreeSet<String> {
    declared
        .roles
        .keys()
        .cloned()
        .chain(attributed.into_iter().map(|r| role_key(r)))
        .chain(acted_as.into_iter().map(|r| role_key(r)))
        .collect()
}

/// One trail as the CloudTrail API describes it now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrailState {
    pub name: String,
    pub home_region: Option<String>,
    pub multi_region: bool,
    /// `None` when the status could not be read.
    pub logging: Option<bool>,
    pub management_events: bool,
    /// Resource types whose data events the trail selects (classic or advanced selectors).
    pub data_event_types: BTreeSet<String>,
    /// The data selectors themselves, classic ones translated to advanced form, so that a
    /// selector scoped to some ARNs is not taken to cover all of them.
    #[serde(default)]
    pub data_selectors: Vec<DataSelector>,
}

/// One advanced event selector for data events: every condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub fields: Vec<FieldCondition>,
}

/// A field selector: `equals` / `starts_with` / `ends_with` admit (any one suffices when
/// given), the `not_*` lists exclude.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldCondition {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ends_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ends_with: Vec<String>,
}

impl FieldCondition {
    fn admits(&self, value: &str) -> bool {
        let positive = self.equals.len() + self.starts_with.len() + self.ends_with.len();
        let admitted = positive == 0
            || self.equals.iter().any(|v| v == value)
            || self
                .starts_with
                .iter()
                .any(|v| value.starts_with(v.as_str()))
            || self.ends_with.iter().any(|v| value.ends_with(v.as_str()));
        admitted
            && !self.not_equals.iter().any(|v| v == value)
            && !self
                .not_starts_with
                .iter()
                .any(|v| value.starts_with(v.as_str()))
            && !self
                .not_ends_with
                .iter()
                .any(|v| value.ends_with(v.as_str()))
    }
}

/// A data event a selector may or may not take.
pub struct DataEvent<'a> {
    pub resource_type: &'a str,
    pub arn: &'a str,
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub read_only: bool,
}

impl DataSelector {
    /// Whether the selector takes the event. A condition on a field this check cannot
    /// evaluate (who called, from where) may drop the event, so it does not count.
    pub fn selects(&self, event: &DataEvent<'_>) -> bool {
        self.fields.iter().all(|f| {
            let value = match f.field.as_str() {
                "eventCategory" => "Data",
                "resources.type" => event.resource_type,
                "resources.ARN" => event.arn,
                "eventSource" => event.event_source,
                "eventName" => event.event_name,
                "readOnly" => {
                    if event.read_only {
                        "true"
                    } else {
                        "false"
                    }
                }
                _ => return false,
            };
            f.admits(value)
        })
    }

    /// A classic data resource (`Type`, `Values`, the selector's read/write type) in
    /// advanced form: `arn:aws:lambda` and `arn:aws:s3` (or a bare `arn:aws:s3:::`) select
    /// every resource of the type; Lambda values are function ARNs, S3 values prefixes.
    pub fn from_classic(kind: &str, values: &[String], read_write: Option<&str>) -> DataSelector {
        let mut fields = vec![
            FieldCondition {
                field: "eventCategory".into(),
                equals: vec!["Data".into()],
                ..FieldCondition::default()
            },
            FieldCondition {
                field: "resources.type".into(),
                equals: vec![kind.into()],
                ..FieldCondition::default()
            },
        ];
        let everything = values.iter().any(|v| {
            matches!(
                v.as_str(),
                "arn:aws:lambda" | "arn:aws:s3" | "arn:aws:s3:::"
            )
        });
        if !everything {
            let lambda = kind == "AWS::Lambda::Function";
            fields.push(FieldCondition {
                field: "resources.ARN".into(),
                equals: if lambda { values.to_vec() } else { Vec::new() },
                starts_with: if lambda { Vec::new() } else { values.to_vec() },
                ..FieldCondition::default()
            });
        }
        match read_write {
            Some("ReadOnly") => fields.push(FieldCondition {
                field: "readOnly".into(),
                equals: vec!["true".into()],
                ..FieldCondition::default()
            }),
            Some("WriteOnly") => fields.push(FieldCondition {
                field: "readOnly".into(),
                equals: vec!["false".into()],
                ..FieldCondition::default()
            }),
            _ => {}
        }
        DataSelector { name: None, fields }
    }
}

impl TrailState {
    /// Whether InvokeAgent calls through the alias `alias_arn` are recorded: who invoked the
    /// agent, with which session, is only in these data events.
    pub fn logs_invocations_through(&self, alias_arn: &str) -> bool {
        if self.data_selectors.is_empty() {
            return self.data_event_types.contains("AWS::Bedrock::AgentAlias");
        }
        self.data_selectors.iter().any(|s| {
            s.selects(&DataEvent {
                resource_type: "AWS::Bedrock::AgentAlias",
                arn: alias_arn,
                event_source: "bedrock.amazonaws.com",
                event_name: "InvokeAgent",
                read_only: false,
            })
        })
    }

    /// Whether retrievals from the knowledge base `kb_arn` are recorded.
    pub fn logs_retrievals_from(&self, kb_arn: &str) -> bool {
        if self.data_selectors.is_empty() {
            return self
                .data_event_types
                .contains("AWS::Bedrock::KnowledgeBase");
        }
        self.data_selectors.iter().any(|s| {
            s.selects(&DataEvent {
                resource_type: "AWS::Bedrock::KnowledgeBase",
                arn: kb_arn,
                event_source: "bedrock.amazonaws.com",
                event_name: "Retrieve",
                read_only: true,
            })
        })
    }

    /// Whether the trail logs a Lambda `Invoke` of `function` (a write data event).
    pub fn logs_invocations_of(&self, function: &str) -> bool {
        if self.data_selectors.is_empty() {
            // Read before selectors were kept: only the resource types are known.
            return self.data_event_types.contains("AWS::Lambda::Function");
        }
        let function = normalizer::inventory::unqualified_function(function);
        self.data_selectors.iter().any(|s| {
            s.selects(&DataEvent {
                resource_type: "AWS::Lambda::Function",
                arn: function,
                event_source: "lambda.amazonaws.com",
                event_name: "Invoke",
                read_only: false,
            })
        })
    }
}

#[derive(Debug, Default)]
pub struct TrailRead {
    pub trails: Vec<TrailState>,
    pub calls: u64,
    pub failures: Vec<ConnectorError>,
}

/// Every trail visible from the region, with whether it is logging and which events its
/// selectors take.
pub async fn read_trails(config: &aws_config::SdkConfig) -> TrailRead {
    let ct = aws_sdk_cloudtrail::Client::new(config);
    let mut out = TrailRead::default();
    let text =
        |e: &dyn std::error::Error| aws_sdk_cloudtrail::error::DisplayErrorContext(e).to_string();
    out.calls += 1;
    let trails = match ct
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
    {
        Ok(t) => t.trail_list,
        Err(e) => {
            out.failures.push(ConnectorError::failed(
                class_of_sdk(&e),
                "cloudtrail:DescribeTrails",
                text(&e),
            ));
            return out;
        }
    };
    for t in trails.unwrap_or_default() {
        let Some(name) = t.name.clone() else { continue };
        let id = t.trail_arn.clone().unwrap_or_else(|| name.clone());
        out.calls += 1;
        let logging = match ct.get_trail_status().name(&id).send().await {
            Ok(s) => s.is_logging,
            Err(e) => {
                out.failures.push(ConnectorError::failed(
                    class_of_sdk(&e),
                    format!("cloudtrail:GetTrailStatus {name}"),
                    text(&e),
                ));
                None
            }
        };
        out.calls += 1;
        let (mut management, mut types, mut selectors) = (false, BTreeSet::new(), Vec::new());
        match ct.get_event_selectors().trail_name(&id).send().await {
            Ok(sel) => {
                for s in sel.event_selectors() {
                    management |= s.include_management_events.unwrap_or(true);
                    for d in s.data_resources() {
                        if let Some(kind) = d.r#type() {
                            types.insert(kind.to_string());
                            selectors.push(DataSelector::from_classic(
                                kind,
                                d.values(),
                                s.read_write_type().map(|r| r.as_str()),
                            ));
                        }
                    }
                }
                for a in sel.advanced_event_selectors() {
                    let equals = |field: &str| -> Vec<String> {
                        a.field_selectors()
                            .iter()
                            .filter(|f| f.field() == field)
                            .flat_map(|f| f.equals().iter().cloned())
                            .collect()
                    };
                    let categories = equals("eventCategory");
                    if categories.iter().any(|c| c == "Management") {
                        management = true;
                    }
                    if categories.iter().any(|c| c == "Data") {
                        types.extend(equals("resources.type"));
                        selectors.push(DataSelector {
                            name: a.name().map(str::to_string),
                            fields: a
                                .field_selectors()
                                .iter()
                                .map(|f| FieldCondition {
                                    field: f.field().to_string(),
                                    equals: f.equals().to_vec(),
                                    starts_with: f.starts_with().to_vec(),
                                    ends_with: f.ends_with().to_vec(),
                                    not_equals: f.not_equals().to_vec(),
                                    not_starts_with: f.not_starts_with().to_vec(),
                                    not_ends_with: f.not_ends_with().to_vec(),
                                })
                                .collect(),
                        });
                    }
                }
            }
            Err(e) => out.failures.push(ConnectorError::failed(
                class_of_sdk(&e),
                format!("cloudtrail:GetEventSelectors {name}"),
                text(&e),
            )),
        }
        out.trails.push(TrailState {
            name,
            home_region: t.home_region.clone(),
            multi_region: t.is_multi_region_trail.unwrap_or(false),
            logging,
            management_events: management,
            data_event_types: types,
            data_selectors: selectors,
        });
    }
    out
}

/// Model invocation logging in the source's region, as GetModelInvocationLoggingConfiguration
/// answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InvocationLogging {
    /// Not read (the call failed, or an older store).
    #[default]
    Unknown,
    Off,
    On {
        /// `s3://bucket/prefix` when delivered to S3.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log_group: Option<String>,
        text_delivery: bool,
    },
}

/// The account the credentials belong to: only that account's agents can be missing
/// from its listings.
pub async fn caller_account(config: &aws_config::SdkConfig) -> Result<String, ConnectorError> {
    let answer = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_failure("sts:GetCallerIdentity", &e))?;
    answer.account().map(str::to_string).ok_or_else(|| {
        ConnectorError::failed(
            FailureClass::Malformed,
            "sts:GetCallerIdentity",
            "the answer names no account",
        )
    })
}

pub async fn read_invocation_logging(
    config: &aws_config::SdkConfig,
) -> Result<InvocationLogging, ConnectorError> {
    let bedrock = aws_sdk_bedrock::Client::new(config);
    let answer = bedrock
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .map_err(|e| {
            let text = aws_sdk_bedrock::error::DisplayErrorContext(&e).to_string();
            ConnectorError::failed(
                class_of_sdk(&e),
                "bedrock:GetModelInvocationLoggingConfiguration",
                text,
            )
        })?;
    let Some(c) = answer.logging_config() else {
        return Ok(InvocationLogging::Off);
    };
    let s3 = c.s3_config().map(|s| {
        format!(
            "s3://{}/{}",
            s.bucket_name(),
            s.key_prefix().unwrap_or_default()
        )
    });
    let log_group = c
        .cloud_watch_config()
        .map(|w| w.log_group_name().to_string());
    if s3.is_none() && log_group.is_none() {
        return Ok(InvocationLogging::Off);
    }
    Ok(InvocationLogging::On {
        s3,
        log_group,
        text_delivery: c.text_data_delivery_enabled().unwrap_or(false),
    })
}

/// The prompt-layer gap that the region's invocation-logging setting explains, if any.
/// `read_by` names the invocation-log sources agentward is configured with.
pub fn logging_gap(
    agent: &normalizer::AgentRef,
    source: &str,
    region: &str,
    logging: &InvocationLogging,
    read_by: &[String],
) -> Option<normalizer::Coverage> {
    use normalizer::{Coverage, CoverageStatus, Layer};
    let enable = format!(
        "aws bedrock put-model-invocation-logging-configuration --region {region} --logging-config          '{{\"s3Config\":{{\"bucketName\":\"BUCKET\"}},\"textDataDeliveryEnabled\":true}}'"
    );
    let (setting, how) = match logging {
        InvocationLogging::Unknown => return None,
        InvocationLogging::Off => (
            format!("{source}: model invocation logging is off in {region}: no prompt is recorded"),
            enable,
        ),
        InvocationLogging::On {
            text_delivery: false,
            ..
        } => (
            format!(
                "{source}: model invocation logging is on in {region} but text delivery is off: records carry no prompt or completion"
            ),
            enable,
        ),
        InvocationLogging::On { s3: Some(s3), .. } if read_by.is_empty() => (
            format!(
                "{source}: prompts are delivered to {s3}, but no bedrock-invocation-logs source reads them"
            ),
            format!(
                "add to the config: [[source]] name = \"invocations\" kind = \"bedrock-invocation-logs\" url = \"{s3}\""
            ),
        ),
        InvocationLogging::On { .. } => return None,
    };
    Some(Coverage {
        agent: agent.clone(),
        layer: Layer::Prompt,
        status: CoverageStatus::AvailableIfEnabled {
            setting,
            how_to_enable: how,
        },
    })
}

/// What the trails' configuration says about an agent's layers, where it says there is a
/// gap; a layer whose events the trails do take is left to the log sources to call
/// observed (a configuration is a promise, not an observation). `functions` are the
/// agent's action-group Lambda functions: each must be taken by some logging trail's
/// selectors, not merely some Lambda function; likewise each alias (InvokeAgent) and each
/// knowledge base (Retrieve), as (ARN, label).
pub fn trail_gaps(
    agent: &normalizer::AgentRef,
    source: &str,
    trails: &[TrailState],
    functions: &[String],
    aliases: &[(String, String)],
    knowledge_bases: &[(String, String)],
) -> Vec<normalizer::Coverage> {
    use normalizer::{Coverage, CoverageStatus, Layer};
    let logging: Vec<&TrailState> = trails.iter().filter(|t| t.logging == Some(true)).collect();
    let mut gaps = Vec::new();
    let gap = |layer: Layer, setting: String, how: String| Coverage {
        agent: agent.clone(),
        layer,
        status: CoverageStatus::AvailableIfEnabled {
            setting,
            how_to_enable: how,
        },
    };
    if !logging.iter().any(|t| t.management_events) {
        let stopped: Vec<&str> = trails.iter().map(|t| t.name.as_str()).collect();
        let setting = if trails.is_empty() {
            format!("{source}: the account has no CloudTrail trail")
        } else {
            format!(
                "{source}: no trail logs management events now (trails: {})",
                stopped.join(", ")
            )
        };
        let how = match trails.first() {
            Some(t) => format!("aws cloudtrail start-logging --name {}", t.name),
            None => "aws cloudtrail create-trail --name agents --s3-bucket-name BUCKET --is-multi-region-trail && aws cloudtrail start-logging --name agents".into(),
        };
        for layer in [Layer::IdentityApi, Layer::Control] {
            gaps.push(gap(layer, setting.clone(), how.clone()));
        }
    }
    let trail = logging
        .first()
        .map(|t| t.name.clone())
        .unwrap_or_else(|| "TRAIL".into());
    // One advanced selector per (name, resource type, ARN prefixes), all in one command.
    let enable_all = |selectors: &[(&str, &str, Vec<&str>)]| {
        let json: Vec<String> = selectors
            .iter()
            .map(|(name, kind, arns)| {
                let scope = if arns.is_empty() {
                    String::new()
                } else {
                    format!(
                        ",{{\"Field\":\"resources.ARN\",\"StartsWith\":[{}]}}",
                        arns.iter()
                            .map(|a| format!("\"{a}\""))
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                };
                format!(
                    "{{\"Name\":\"{name}\",\"FieldSelectors\":[{{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]}},\
                     {{\"Field\":\"resources.type\",\"Equals\":[\"{kind}\"]}}{scope}]}}"
                )
            })
            .collect();
        format!(
            "aws cloudtrail put-event-selectors --trail-name {trail} --advanced-event-selectors \
             '[{}]' (this replaces the trail's selectors: list its current ones with get-event-selectors and keep them)",
            json.join(",")
        )
    };
    let enable = |name: &str, kind: &str, arns: &[&str]| enable_all(&[(name, kind, arns.to_vec())]);
    if functions.is_empty() {
        if !logging
            .iter()
            .any(|t| t.data_event_types.contains("AWS::Lambda::Function"))
        {
            gaps.push(gap(
                Layer::ToolInvocation,
                format!(
                    "{source}: no logging trail selects Lambda data events, so no action-group tool run is recorded"
                ),
                enable("agent tools", "AWS::Lambda::Function", &[]),
            ));
        }
    } else {
        let unlogged: Vec<&str> = functions
            .iter()
            .map(String::as_str)
            .filter(|f| !logging.iter().any(|t| t.logs_invocations_of(f)))
            .collect();
        if !unlogged.is_empty() {
            let scoped = logging
                .iter()
                .any(|t| t.data_event_types.contains("AWS::Lambda::Function"));
            let why = if scoped {
                "the trails' Lambda data selectors do not take"
            } else {
                "no logging trail selects Lambda data events, so nothing records runs of"
            };
            gaps.push(gap(
                Layer::ToolInvocation,
                format!(
                    "{source}: {why} this agent's action-group functions {}",
                    unlogged.join(", ")
                ),
                enable("agent tools", "AWS::Lambda::Function", &unlogged),
            ));
        }
    }
    // Who invoked the agent (InvokeAgent, per alias) and what it retrieved (Retrieve, per
    // knowledge base) are data events; with no trail logging at all, the gap above (start
    // logging) comes first.
    let unlogged_aliases: Vec<&(String, String)> = aliases
        .iter()
        .filter(|(arn, _)| !logging.iter().any(|t| t.logs_invocations_through(arn)))
        .collect();
    let unlogged_kbs: Vec<&(String, String)> = knowledge_bases
        .iter()
        .filter(|(arn, _)| !logging.iter().any(|t| t.logs_retrievals_from(arn)))
        .collect();
    let any_unlogged = !unlogged_aliases.is_empty() || !unlogged_kbs.is_empty();
    if !logging.is_empty() && any_unlogged {
        let mut missing = Vec::new();
        let mut selectors = Vec::new();
        for (what, kind, selector, unlogged) in [
            (
                "who invoked the agent (InvokeAgent) through its aliases",
                "AWS::Bedrock::AgentAlias",
                "agent invocations",
                &unlogged_aliases,
            ),
            (
                "what it retrieved (Retrieve) from its knowledge bases",
                "AWS::Bedrock::KnowledgeBase",
                "knowledge-base retrievals",
                &unlogged_kbs,
            ),
        ] {
            if unlogged.is_empty() {
                continue;
            }
            let labels: Vec<&str> = unlogged.iter().map(|(_, l)| l.as_str()).collect();
            missing.push(format!("{what} {}", labels.join(", ")));
            selectors.push((
                selector,
                kind,
                unlogged.iter().map(|(arn, _)| arn.as_str()).collect(),
            ));
        }
        gaps.push(gap(
            Layer::IdentityApi,
            format!(
                "{source}: {} — data events no logging trail selects",
                missing.join("; ")
            ),
            enable_all(&selectors),
        ));
    }
    gaps
}

/// Each knowledge base a version of a Bedrock agent reads, as (ARN, how to name it):
/// Retrieve's data events are keyed by the knowledge base ARN.
pub fn knowledge_base_arns(agent: &normalizer::inventory::AgentInventory) -> Vec<(String, String)> {
    let ids: std::collections::BTreeSet<&String> = agent
        .configs
        .iter()
        .flat_map(|c| c.value.knowledge_bases.iter())
        .chain(agent.knowledge_bases.iter().map(|k| &k.value))
        .collect();
    ids.into_iter()
        .map(|id| {
            (
                format!(
                    "arn:aws:bedrock:{}:{}:knowledge-base/{id}",
                    agent.agent.location, agent.agent.scope
                ),
                id.clone(),
            )
        })
        .collect()
}

/// Each alias of a Bedrock agent as (ARN, how to name it): InvokeAgent's data events are
/// keyed by the alias ARN.
pub fn alias_arns(agent: &normalizer::inventory::AgentInventory) -> Vec<(String, String)> {
    if agent.platform.is_some() {
        return Vec::new();
    }
    agent
        .aliases
        .iter()
        .map(|a| {
            let arn = format!(
                "arn:aws:bedrock:{}:{}:agent-alias/{}/{}",
                agent.agent.location, agent.agent.scope, agent.agent.id, a.value.id
            );
            let label = match &a.value.name {
                Some(name) => format!("{name} ({})", a.value.id),
                None => a.value.id.clone(),
            };
            (arn, label)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOLS: &str = "arn:aws:lambda:us-east-1:111122223333:function:support-tools";
    const EXPORT: &str = "arn:aws:lambda:us-east-1:111122223333:function:export-tool";

    fn trail(selectors: Vec<DataSelector>) -> TrailState {
        TrailState {
            name: "acme-trail".into(),
            home_region: Some("us-east-1".into()),
            multi_region: true,
            logging: Some(true),
            management_events: true,
            data_event_types: ["AWS::Lambda::Function".to_string()].into(),
            data_selectors: selectors,
        }
    }

    fn condition(field: &str, build: impl FnOnce(&mut FieldCondition)) -> FieldCondition {
        let mut c = FieldCondition {
            field: field.into(),
            ..FieldCondition::default()
        };
        build(&mut c);
        c
    }

    fn lambda_data(extra: Vec<FieldCondition>) -> DataSelector {
        let mut fields = vec![
            condition("eventCategory", |c| c.equals = vec!["Data".into()]),
            condition("resources.type", |c| {
                c.equals = vec!["AWS::Lambda::Function".into()]
            }),
        ];
        fields.extend(extra);
        DataSelector { name: None, fields }
    }

    #[test]
    fn a_selector_scoped_to_other_functions_does_not_cover_the_agents_tools() {
        let scoped = trail(vec![lambda_data(vec![condition("resources.ARN", |c| {
            c.starts_with = vec![EXPORT.into()]
        })])]);
        assert!(scoped.logs_invocations_of(EXPORT));
        assert!(
            scoped.logs_invocations_of(&format!("{EXPORT}:3")),
            "a version is its function"
        );
        assert!(!scoped.logs_invocations_of(TOOLS));
        let everything = trail(vec![lambda_data(vec![])]);
        assert!(everything.logs_invocations_of(TOOLS));
        let excluded = trail(vec![lambda_data(vec![condition("resources.ARN", |c| {
            c.not_equals = vec![TOOLS.into()]
        })])]);
        assert!(!excluded.logs_invocations_of(TOOLS) && excluded.logs_invocations_of(EXPORT));
        let reads_only = trail(vec![lambda_data(vec![condition("readOnly", |c| {
            c.equals = vec!["true".into()]
        })])]);
        assert!(!reads_only.logs_invocations_of(TOOLS), "Invoke is a write");
        let unknowable = trail(vec![lambda_data(vec![condition(
            "userIdentity.arn",
            |c| c.starts_with = vec!["arn:aws:sts::111122223333:assumed-role/ops".into()],
        )])]);
        assert!(!unknowable.logs_invocations_of(TOOLS));
    }

    #[test]
    fn classic_selectors_translate_to_the_same_checks() {
        let all = DataSelector::from_classic(
            "AWS::Lambda::Function",
            &["arn:aws:lambda".into()],
            Some("All"),
        );
        let one =
            DataSelector::from_classic("AWS::Lambda::Function", &[EXPORT.into()], Some("All"));
        let reads = DataSelector::from_classic(
            "AWS::Lambda::Function",
            &["arn:aws:lambda".into()],
            Some("ReadOnly"),
        );
        assert!(trail(vec![all]).logs_invocations_of(TOOLS));
        assert!(!trail(vec![one.clone()]).logs_invocations_of(TOOLS));
        assert!(trail(vec![one]).logs_invocations_of(EXPORT));
        assert!(!trail(vec![reads]).logs_invocations_of(TOOLS));
    }

    fn support_agent() -> normalizer::AgentRef {
        normalizer::AgentRef {
            provider: normalizer::Provider::Aws,
            scope: "111122223333".into(),
            location: "us-east-1".into(),
            id: "K7QX2M4TZP".into(),
            qualifier: None,
        }
    }

    #[test]
    fn the_gap_names_the_unlogged_functions_and_the_scoped_command() {
        let agent = support_agent();
        let scoped = trail(vec![lambda_data(vec![condition("resources.ARN", |c| {
            c.starts_with = vec![EXPORT.into()]
        })])]);
        let gaps = trail_gaps(
            &agent,
            "aws",
            std::slice::from_ref(&scoped),
            &[TOOLS.into(), EXPORT.into()],
            &[],
            &[],
        );
        assert_eq!(gaps.len(), 1);
        let normalizer::CoverageStatus::AvailableIfEnabled {
            setting,
            how_to_enable,
        } = &gaps[0].status
        else {
            panic!("{gaps:?}")
        };
        assert!(
            setting.contains("do not take") && setting.ends_with(TOOLS),
            "{setting}"
        );
        assert!(
            how_to_enable.contains(&format!("\"StartsWith\":[\"{TOOLS}\"]")),
            "{how_to_enable}"
        );
        assert!(trail_gaps(&agent, "aws", &[scoped], &[EXPORT.into()], &[], &[]).is_empty());
    }

    #[test]
    fn invoke_agent_is_judged_per_alias_arn() {
        let agent = support_agent();
        let prod = "arn:aws:bedrock:us-east-1:111122223333:agent-alias/K7QX2M4TZP/PRDALIAS01";
        let test = "arn:aws:bedrock:us-east-1:111122223333:agent-alias/K7QX2M4TZP/TSTALIASID";
        let aliases = [
            (prod.to_string(), "prod (PRDALIAS01)".to_string()),
            (test.to_string(), "AgentTestAlias (TSTALIASID)".to_string()),
        ];
        let kbs = [(
            "arn:aws:bedrock:us-east-1:111122223333:knowledge-base/QWERTY1234".to_string(),
            "QWERTY1234".to_string(),
        )];
        let mut only_prod = trail(vec![DataSelector {
            name: None,
            fields: vec![
                condition("eventCategory", |c| c.equals = vec!["Data".into()]),
                condition("resources.type", |c| {
                    c.equals = vec!["AWS::Bedrock::AgentAlias".into()]
                }),
                condition("resources.ARN", |c| c.equals = vec![prod.into()]),
            ],
        }]);
        only_prod.data_event_types = ["AWS::Bedrock::AgentAlias".to_string()].into();
        let gaps = trail_gaps(&agent, "aws", &[only_prod.clone()], &[], &aliases, &kbs);
        let identity: Vec<_> = gaps
            .iter()
            .filter(|g| g.layer == normalizer::Layer::IdentityApi)
            .collect();
        assert_eq!(identity.len(), 1, "{gaps:?}");
        let normalizer::CoverageStatus::AvailableIfEnabled {
            setting,
            how_to_enable,
        } = &identity[0].status
        else {
            panic!("{gaps:?}")
        };
        assert!(
            setting.contains("through its aliases AgentTestAlias (TSTALIASID); what it retrieved (Retrieve) from its knowledge bases QWERTY1234"),
            "{setting}"
        );
        assert!(
            how_to_enable.contains("AWS::Bedrock::KnowledgeBase")
                && how_to_enable.contains("knowledge-base/QWERTY1234"),
            "{how_to_enable}"
        );
        assert!(
            how_to_enable.contains("AWS::Bedrock::AgentAlias")
                && how_to_enable.contains(&format!("\"StartsWith\":[\"{test}\"]")),
            "{how_to_enable}"
        );
        // A trail that stopped logging records nothing: starting it is the one gap.
        only_prod.logging = Some(false);
        let stopped = trail_gaps(&agent, "aws", &[only_prod], &[], &aliases[..1], &kbs);
        let identity: Vec<String> = stopped
            .iter()
            .filter(|g| g.layer == normalizer::Layer::IdentityApi)
            .map(|g| g.status.explanation())
            .collect();
        assert_eq!(identity.len(), 1, "{stopped:?}");
        assert!(identity[0].contains("start-logging"), "{identity:?}");
    }
}
