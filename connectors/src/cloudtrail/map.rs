//! CloudTrail record → normalized [`Event`], plus the inventory facts a record proves.
//!
//! Attribution (which agent did this?) is learned from the control plane as the logs go
//! by: `CreateAgent` names the agent's role, `CreateAgentActionGroup` names the Lambda
//! that runs a tool, and a Lambda's execution-role session is named after the function.
//! What was learned is kept in [`Attribution`] and persisted with the cursor, so a resumed
//! scan attributes exactly as an uninterrupted one.

use super::record::{Record, UserIdentity};
use crate::attribution::function_name;
pub use crate::attribution::{AgentHome, Attribution};
use crate::records::Mapped;
use normalizer::event::{CloudContext, Target};
use normalizer::identity::{Document, IdentityFact, IdentityObservation, role_key};
use normalizer::inventory::{Fact, Observation, Provenance, ProvenanceKind, RecordRef, Tool};
use normalizer::{
    AgentRef, Correlation, Event, Layer, Outcome, Principal, Provider, RawPointer, Timestamp,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Why a record could not become an event.
#[derive(Debug, thiserror::Error)]
pub enum RecordProblem {
    #[error("not a CloudTrail record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("eventTime {0:?} is not an RFC 3339 timestamp")]
    BadTime(String),
}

const BEDROCK: &str = "bedrock.amazonaws.com";
const MODEL_CALLS: [&str; 4] = [
    "InvokeModel",
    "InvokeModelWithResponseStream",
    "Converse",
    "ConverseStream",
];
const AGENT_CONTROL_VERBS: [&str; 7] = [
    "Create",
    "Update",
    "Delete",
    "Prepare",
    "Associate",
    "Disassociate",
    "Tag",
];

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_string)
}

/// `arn:aws:bedrock:REGION:ACCOUNT:agent/ID` or `…:agent-alias/ID/ALIAS` → (id, alias).
fn agent_from_arn(arn: &str) -> Option<(String, Option<String>)> {
    let resource = arn
        .strip_prefix("arn:aws:bedrock:")?
        .splitn(3, ':')
        .nth(2)?;
    if let Some(rest) = resource.strip_prefix("agent-alias/") {
        let mut it = rest.split('/');
        let id = it.next()?.to_string();
        return Some((id, it.next().map(str::to_string)));
    }
    resource
        .strip_prefix("agent/")
        .map(|id| (id.to_string(), None))
}

/// Role ARN from an assumed-role identity's session issuer, or from the session ARN itself.
fn role_of(identity: &UserIdentity<'_>) -> Option<String> {
    if let Some(arn) = identity
        .session_context
        .as_ref()
        .and_then(|c| c.session_issuer.as_ref())
        .and_then(|i| i.arn.as_deref())
    {
        return Some(arn.to_string());
    }
    let arn = identity.arn.as_deref()?;
    let (prefix, rest) = arn.split_once(":assumed-role/")?;
    let role = rest.split('/').next()?;
    Some(format!("{}:role/{role}", prefix.replace(":sts:", ":iam:")))
}

fn session_name(identity: &UserIdentity<'_>) -> Option<String> {
    let arn = identity.arn.as_deref()?;
    let (_, rest) = arn.split_once(":assumed-role/")?;
    rest.split('/').nth(1).map(str::to_string)
}

fn parse_raw(raw: Option<&serde_json::value::RawValue>) -> Value {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or(Value::Null)
}

/// Declared identity an IAM call proves: (subject, fact) with the subject a role key or a
/// policy ARN. Policy documents that cannot be read are kept as unreadable, with why.
fn identity_facts(
    operation: &str,
    account: &str,
    params: &Value,
    response: &Value,
) -> Vec<(String, IdentityFact)> {
    let role = || {
        text(response, &["role", "arn"])
            .map(|a| role_key(&a))
            .or_else(|| {
                text(params, &["roleName"]).map(|n| format!("arn:aws:iam::{account}:role/{n}"))
            })
    };
    let document = |field: &str| Document::from_value(params.get(field).unwrap_or(&Value::Null));
    let policy = || text(params, &["policyArn"]);
    let fact = match operation {
        "CreateRole" => role().map(|r| {
            (
                r,
                IdentityFact::Trust {
                    document: document("assumeRolePolicyDocument"),
                },
            )
        }),
        "UpdateAssumeRolePolicy" => role().map(|r| {
            (
                r,
                IdentityFact::Trust {
                    document: document("policyDocument"),
                },
            )
        }),
        "PutRolePolicy" => role().zip(text(params, &["policyName"])).map(|(r, name)| {
            (
                r,
                IdentityFact::InlinePolicy {
                    name,
                    document: document("policyDocument"),
                },
            )
        }),
        "DeleteRolePolicy" => role()
            .zip(text(params, &["policyName"]))
            .map(|(r, name)| (r, IdentityFact::InlinePolicyRemoved { name })),
        "AttachRolePolicy" => role()
            .zip(policy())
            .map(|(r, policy)| (r, IdentityFact::ManagedPolicyAttached { policy })),
        "DetachRolePolicy" => role()
            .zip(policy())
            .map(|(r, policy)| (r, IdentityFact::ManagedPolicyDetached { policy })),
        "PutRolePermissionsBoundary" => role()
            .zip(text(params, &["permissionsBoundary"]))
            .map(|(r, policy)| (r, IdentityFact::Boundary { policy })),
        "DeleteRolePermissionsBoundary" => role().map(|r| (r, IdentityFact::BoundaryRemoved)),
        "CreatePolicy" => text(response, &["policy", "arn"]).map(|arn| {
            (
                arn,
                IdentityFact::PolicyVersion {
                    version: text(response, &["policy", "defaultVersionId"])
                        .unwrap_or_else(|| "v1".into()),
                    document: document("policyDocument"),
                    default: true,
                },
            )
        }),
        "CreatePolicyVersion" => policy()
            .zip(text(response, &["policyVersion", "versionId"]))
            .map(|(arn, version)| {
                (
                    arn,
                    IdentityFact::PolicyVersion {
                        version,
                        document: document("policyDocument"),
                        default: params["setAsDefault"].as_bool().unwrap_or(false),
                    },
                )
            }),
        "SetDefaultPolicyVersion" => policy()
            .zip(text(params, &["versionId"]))
            .map(|(arn, version)| (arn, IdentityFact::PolicyDefaultVersion { version })),
        _ => None,
    };
    fact.into_iter().collect()
}

/// What a record is, as the mapping steps read it.
struct Call<'r> {
    time: Timestamp,
    account: &'r str,
    region: &'r str,
    service: &'r str,
    operation: &'r str,
    succeeded: bool,
    raw: &'r RawPointer,
    event_id: Option<&'r str>,
}

impl Call<'_> {
    /// Built only for the few records that prove an inventory fact.
    fn provenance(&self, kind: ProvenanceKind) -> Provenance {
        Provenance {
            kind,
            record: RecordRef::new(self.raw, self.event_id),
        }
    }

    /// What this record proves (`ProviderApi`) or suggests (`Inferred`) of an agent.
    fn observation(&self, agent: AgentRef, fact: Fact, kind: ProvenanceKind) -> Observation {
        Observation {
            time: self.time,
            agent,
            fact,
            provenance: self.provenance(kind),
        }
    }
}

/// What the steps say of a record so far.
struct Said {
    targets: Vec<Target>,
    observations: Vec<Observation>,
    layer: Layer,
    agent: Option<AgentRef>,
    model: Option<String>,
    session_id: Option<String>,
}

impl Default for Said {
    fn default() -> Self {
        Said {
            targets: Vec::new(),
            observations: Vec::new(),
            layer: Layer::IdentityApi,
            agent: None,
            model: None,
            session_id: None,
        }
    }
}

fn principal_of(identity: Option<&UserIdentity<'_>>) -> Principal {
    let Some(u) = identity else {
        return Principal {
            kind: "Unknown".into(),
            ..Principal::default()
        };
    };
    Principal {
        kind: u.kind.as_deref().unwrap_or("Unknown").to_string(),
        id: u.principal_id.as_deref().map(str::to_string),
        arn: u.arn.as_deref().map(str::to_string),
        account: u.account_id.as_deref().map(str::to_string),
        issuer: u
            .session_context
            .as_ref()
            .and_then(|c| c.session_issuer.as_ref())
            .and_then(|i| i.arn.as_deref())
            .map(str::to_string),
        session_name: session_name(u),
        invoked_by: u.invoked_by.as_deref().map(str::to_string),
        credential_id: u.access_key_id.as_deref().map(str::to_string),
    }
}

/// The resources CloudTrail names with an ARN.
fn resource_targets(rec: &Record<'_>) -> Vec<Target> {
    rec.resources
        .iter()
        .flatten()
        .filter_map(|r| {
            r.arn.as_deref().map(|arn| Target {
                uid: arn.to_string(),
                kind: r.kind.as_deref().map(str::to_string),
                name: None,
            })
        })
        .collect()
}

/// The agent (or its alias) a call about it targets.
fn agent_target(home: &AgentHome, id: &str, alias: Option<&str>) -> Target {
    let (resource, kind) = match alias {
        Some(a) => (format!("agent-alias/{id}/{a}"), "AWS::Bedrock::AgentAlias"),
        None => (format!("agent/{id}"), "AWS::Bedrock::Agent"),
    };
    Target {
        uid: format!(
            "arn:aws:bedrock:{}:{}:{resource}",
            home.region, home.account
        ),
        kind: Some(kind.into()),
        name: None,
    }
}

/// The bucket or object an S3 data event names.
fn s3_target(params: &Value) -> Option<Target> {
    let bucket = text(params, &["bucketName"])?;
    let uid = match text(params, &["key"]) {
        Some(key) => format!("arn:aws:s3:::{bucket}/{key}"),
        None => format!("arn:aws:s3:::{bucket}"),
    };
    Some(Target {
        uid,
        kind: None,
        name: None,
    })
}

/// The event: the record's own fields and what the steps said of it.
fn event_of(
    rec: &Record<'_>,
    uid: String,
    time: Timestamp,
    said: Said,
    raw: RawPointer,
    account: String,
    region: String,
) -> Event {
    let outcome = match &rec.error_code {
        None => Outcome::Success,
        Some(code) => Outcome::Failure {
            code: code.to_string(),
            message: rec.error_message.as_deref().map(str::to_string),
        },
    };
    Event {
        uid,
        time,
        agent: said.agent,
        layer: said.layer,
        service: rec.event_source.to_string(),
        operation: rec.event_name.to_string(),
        targets: said.targets,
        outcome,
        principal: principal_of(rec.user_identity.as_ref()),
        correlation: Correlation {
            request_id: rec.request_id.as_deref().map(str::to_string),
            session_id: said.session_id,
            shared_event_id: rec.shared_event_id.as_deref().map(str::to_string),
            ..Correlation::default()
        },
        source: raw,
        cloud: Some(CloudContext {
            provider: Provider::Aws,
            account,
            region,
        }),
        src_ip: rec.source_ip_address.as_deref().map(str::to_string),
        user_agent: rec.user_agent.as_deref().map(str::to_string),
        model: said.model,
        category: rec.event_category.as_deref().map(str::to_string),
        read_only: rec.read_only,
        original_time: Some(rec.event_time.to_string()),
        prompt: None,
        count: None,
        permissions: Vec::new(),
    }
}

/// Maps records of one source; holds what attribution has learned so far.
pub struct Mapper {
    pub source: String,
    pub attribution: Attribution,
    /// Sightings (a model called, an alias invoked) already reported by this mapper: only
    /// the first matters to the inventory, and one per event would grow with the logs.
    sighted: std::collections::HashMap<AgentRef, std::collections::HashSet<Fact>>,
}

impl Mapper {
    pub fn new(source: String, attribution: Attribution) -> Self {
        Mapper {
            source,
            attribution,
            sighted: Default::default(),
        }
    }

    /// Forgets which sightings were reported: for when the observations of a file that
    /// failed half-way are discarded and must be reported again.
    pub fn forget_sightings(&mut self) {
        self.sighted.clear();
    }

    /// One record → its event, the inventory and identity facts it proves; attribution
    /// learns from it on the way. The steps: the call's place and principal, what Bedrock
    /// says of it (model, knowledge base, agent), what Lambda says (a tool's function),
    /// who else it can be attributed to (the session or role), S3's target, IAM's facts.
    pub fn map(&mut self, object: &str, index: u64, bytes: &[u8]) -> Result<Mapped, RecordProblem> {
        let rec: Record<'_> = serde_json::from_slice(bytes)?;
        let time = Timestamp::parse_rfc3339(&rec.event_time)
            .map_err(|_| RecordProblem::BadTime(rec.event_time.to_string()))?;
        let raw = RawPointer {
            source: self.source.clone(),
            object: object.to_string(),
            index,
        };
        let uid = match rec.event_id.as_deref() {
            Some(id) => id.to_string(),
            // Stable without an eventID: the same bytes at the same place hash the same.
            None => hex::encode(
                &Sha256::digest([object.as_bytes(), &index.to_le_bytes(), bytes].concat())[..16],
            ),
        };
        let account = rec
            .recipient_account_id
            .as_deref()
            .or(rec
                .user_identity
                .as_ref()
                .and_then(|u| u.account_id.as_deref()))
            .unwrap_or("unknown")
            .to_string();
        let region = rec.aws_region.as_deref().unwrap_or("unknown").to_string();
        let call = Call {
            time,
            account: &account,
            region: &region,
            service: &rec.event_source,
            operation: &rec.event_name,
            succeeded: rec.error_code.is_none(),
            raw: &raw,
            event_id: rec.event_id.as_deref(),
        };
        let mut said = Said {
            targets: resource_targets(&rec),
            ..Said::default()
        };
        if call.service == BEDROCK {
            let params = parse_raw(rec.request_parameters);
            let response = parse_raw(rec.response_elements);
            self.bedrock_call(&call, &params, &response, &mut said);
        }
        if call.service == "lambda.amazonaws.com" && call.operation.starts_with("Invoke") {
            self.lambda_call(&parse_raw(rec.request_parameters), &mut said);
        }
        if said.agent.is_none()
            && let Some(identity) = &rec.user_identity
        {
            self.attribute_by_identity(&call, identity, &mut said);
        }
        if said.targets.is_empty() && call.service == "s3.amazonaws.com" {
            said.targets
                .extend(s3_target(&parse_raw(rec.request_parameters)));
        }
        let identity = if call.service == "iam.amazonaws.com" && call.succeeded {
            let params = parse_raw(rec.request_parameters);
            let response = parse_raw(rec.response_elements);
            identity_facts(call.operation, &account, &params, &response)
                .into_iter()
                .map(|(subject, fact)| IdentityObservation {
                    time,
                    subject,
                    fact,
                    provenance: call.provenance(ProvenanceKind::ProviderApi),
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut observations = std::mem::take(&mut said.observations);
        self.keep_first_sightings(&mut observations);
        let event = event_of(&rec, uid, time, said, raw, account, region);
        Ok(Mapped {
            event,
            observations,
            identity,
        })
    }

    /// A Bedrock call: the model or knowledge base it targets, and the agent it is about.
    fn bedrock_call(&mut self, call: &Call<'_>, params: &Value, response: &Value, said: &mut Said) {
        if MODEL_CALLS.contains(&call.operation) {
            said.model = text(params, &["modelId"]);
            if let Some(m) = &said.model
                && said.targets.is_empty()
            {
                // A bare model id names a foundation model; an ARN is already a target.
                let uid = if m.starts_with("arn:") {
                    m.clone()
                } else {
                    format!("arn:aws:bedrock:{}::foundation-model/{m}", call.region)
                };
                said.targets.push(Target {
                    uid,
                    kind: Some("AWS::Bedrock::FoundationModel".into()),
                    name: None,
                });
            }
        }
        let knowledge_base = text(params, &["knowledgeBaseId"]).or_else(|| {
            text(
                params,
                &[
                    "retrieveAndGenerateConfiguration",
                    "knowledgeBaseConfiguration",
                    "knowledgeBaseId",
                ],
            )
        });
        let retrieval = call.operation.starts_with("Retrieve");
        if retrieval
            && let Some(kb) = &knowledge_base
            && said.targets.is_empty()
        {
            said.targets.push(Target {
                uid: format!(
                    "arn:aws:bedrock:{}:{}:knowledge-base/{kb}",
                    call.region, call.account
                ),
                kind: Some("AWS::Bedrock::KnowledgeBase".into()),
                name: None,
            });
        }
        let kb = knowledge_base.as_deref().filter(|_| retrieval);
        if let Some((id, alias)) = self.subject(params, response, &said.targets, kb) {
            self.agent_call(call, params, response, (id, alias), said);
        }
    }

    /// Which agent a Bedrock call is about: named in the request or the answer, in a
    /// target's ARN, or the only agent using the knowledge base a retrieval read.
    fn subject(
        &self,
        params: &Value,
        response: &Value,
        targets: &[Target],
        knowledge_base: Option<&str>,
    ) -> Option<(String, Option<String>)> {
        text(params, &["agentId"])
            .map(|id| (id, text(params, &["agentAliasId"])))
            .or_else(|| text(response, &["agent", "agentId"]).map(|id| (id, None)))
            .or_else(|| targets.iter().find_map(|t| agent_from_arn(&t.uid)))
            .or_else(|| {
                let kb = knowledge_base?;
                Attribution::only(self.attribution.knowledge_bases.get(kb))
                    .map(|id| (id.to_string(), None))
            })
    }

    /// A call about agent `id` (through `alias`): its home, its target, the layer, the
    /// alias a session invoked and what a control-plane call proves.
    fn agent_call(
        &mut self,
        call: &Call<'_>,
        params: &Value,
        response: &Value,
        (id, alias): (String, Option<String>),
        said: &mut Said,
    ) {
        let home = self.home_of(call, &id);
        if said.targets.is_empty() {
            said.targets
                .push(agent_target(&home, &id, alias.as_deref()));
        }
        let unqualified = AgentRef {
            provider: Provider::Aws,
            scope: home.account,
            location: home.region,
            id: id.clone(),
            qualifier: None,
        };
        let is_control = AGENT_CONTROL_VERBS
            .iter()
            .any(|v| call.operation.starts_with(v));
        if is_control {
            said.layer = Layer::Control;
        }
        if call.operation == "InvokeAgent" || call.operation == "InvokeInlineAgent" {
            said.session_id = text(params, &["sessionId"]);
            if let Some(a) = &alias
                && call.succeeded
            {
                let fact = Fact::AliasInvoked(a.clone());
                let seen = call.observation(unqualified.clone(), fact, ProvenanceKind::Inferred);
                said.observations.push(seen);
            }
        }
        if call.succeeded && is_control {
            for fact in self.control_facts(call.operation, &id, params, response) {
                let proven =
                    call.observation(unqualified.clone(), fact, ProvenanceKind::ProviderApi);
                said.observations.push(proven);
            }
        }
        said.agent = Some(AgentRef {
            qualifier: alias,
            ..unqualified
        });
    }

    /// Where agent `id` lives: as learned, else where this call was made (and learned so,
    /// when the call succeeded).
    fn home_of(&mut self, call: &Call<'_>, id: &str) -> AgentHome {
        let here = || AgentHome {
            account: call.account.to_string(),
            region: call.region.to_string(),
        };
        if call.succeeded && !self.attribution.agents.contains_key(id) {
            self.attribution.agents.insert(id.to_string(), here());
        }
        self.attribution
            .agents
            .get(id)
            .cloned()
            .unwrap_or_else(here)
    }

    /// A Lambda invocation of a function only one agent's tool runs is that agent's tool.
    fn lambda_call(&self, params: &Value, said: &mut Said) {
        let function = text(params, &["functionName"]).or_else(|| {
            said.targets
                .iter()
                .find(|t| t.uid.contains(":function:"))
                .map(|t| t.uid.clone())
        });
        if let Some(f) = function
            && let Some(id) = Attribution::only(self.attribution.functions.get(&function_name(&f)))
        {
            said.layer = Layer::ToolInvocation;
            said.agent = self.attribution.agent_ref(id, None);
            if said.targets.is_empty() {
                said.targets.push(Target {
                    uid: f,
                    kind: Some("AWS::Lambda::Function".into()),
                    name: None,
                });
            }
        }
    }

    /// A call made in a session named after one agent's function, or by one agent's role,
    /// is that agent's; a model it invoked is a sighting.
    fn attribute_by_identity(&self, call: &Call<'_>, identity: &UserIdentity<'_>, said: &mut Said) {
        let by_function = session_name(identity).and_then(|s| {
            Attribution::only(self.attribution.functions.get(&s)).map(str::to_string)
        });
        let by_role = role_of(identity)
            .and_then(|r| Attribution::only(self.attribution.roles.get(&r)).map(str::to_string));
        let Some(id) = by_function.or(by_role) else {
            return;
        };
        said.agent = self.attribution.agent_ref(&id, None);
        if let (Some(m), Some(a)) = (&said.model, &said.agent)
            && call.succeeded
        {
            let fact = Fact::ModelInvoked(m.clone());
            let seen = call.observation(a.unqualified(), fact, ProvenanceKind::Inferred);
            said.observations.push(seen);
        }
    }

    /// Only the first sighting of a fact matters to the inventory; one per event would
    /// grow with the logs.
    fn keep_first_sightings(&mut self, observations: &mut Vec<Observation>) {
        observations.retain(|o| {
            if !o.fact.is_sighting() {
                return true;
            }
            match self.sighted.get_mut(&o.agent) {
                Some(seen) if seen.contains(&o.fact) => false,
                Some(seen) => seen.insert(o.fact.clone()),
                None => {
                    self.sighted
                        .insert(o.agent.clone(), [o.fact.clone()].into());
                    true
                }
            }
        });
    }

    /// Inventory facts proven by a successful Bedrock agent control-plane call, and what
    /// they teach attribution.
    fn control_facts(
        &mut self,
        operation: &str,
        agent_id: &str,
        params: &Value,
        response: &Value,
    ) -> Vec<Fact> {
        let mut facts = Vec::new();
        match operation {
            "CreateAgent" | "UpdateAgent" => {
                let body = if operation == "CreateAgent" && response.get("agent").is_some() {
                    &response["agent"]
                } else {
                    params
                };
                if let Some(n) = text(body, &["agentName"]).or_else(|| text(params, &["agentName"]))
                {
                    facts.push(Fact::Name(n));
                }
                if let Some(m) =
                    text(body, &["foundationModel"]).or_else(|| text(params, &["foundationModel"]))
                {
                    facts.push(Fact::DeclaredModel(m));
                }
                if let Some(role) = text(body, &["agentResourceRoleArn"])
                    .or_else(|| text(params, &["agentResourceRoleArn"]))
                {
                    self.attribution
                        .roles
                        .entry(role.clone())
                        .or_default()
                        .insert(agent_id.to_string());
                    facts.push(Fact::Role(role));
                }
                if let Some(g) = text(body, &["guardrailConfiguration", "guardrailIdentifier"]) {
                    facts.push(Fact::Guardrail {
                        id: g,
                        version: text(body, &["guardrailConfiguration", "guardrailVersion"]),
                    });
                }
            }
            "CreateAgentActionGroup" | "UpdateAgentActionGroup" => {
                if let Some(name) = text(params, &["actionGroupName"]) {
                    let lambda = text(params, &["actionGroupExecutor", "lambda"]);
                    let executor = lambda
                        .clone()
                        .or_else(|| text(params, &["actionGroupExecutor", "customControl"]));
                    if let Some(l) = &lambda {
                        self.attribution
                            .functions
                            .entry(function_name(l))
                            .or_default()
                            .insert(agent_id.to_string());
                    }
                    facts.push(Fact::Tool(Tool {
                        name,
                        kind: "action_group".into(),
                        executor,
                        signature: text(params, &["parentActionGroupSignature"]),
                        operations: Vec::new(),
                        state: text(params, &["actionGroupState"]),
                        schema_sha256: None,
                    }));
                }
            }
            "AssociateAgentKnowledgeBase" => {
                if let Some(kb) = text(params, &["knowledgeBaseId"]) {
                    self.attribution
                        .knowledge_bases
                        .entry(kb.clone())
                        .or_default()
                        .insert(agent_id.to_string());
                    facts.push(Fact::KnowledgeBase(kb));
                }
            }
            "DeleteAgent" => facts.push(Fact::AgentDeleted("DeleteAgent".into())),
            "DisassociateAgentKnowledgeBase" => {
                if let Some(kb) = text(params, &["knowledgeBaseId"]) {
                    facts.push(Fact::KnowledgeBaseRemoved(kb));
                }
            }
            "CreateAgentVersion" => {
                if let Some(v) = text(response, &["agentVersion", "version"]) {
                    facts.push(Fact::Version(v));
                }
            }
            "CreateAgentAlias" | "UpdateAgentAlias" => {
                let id = text(params, &["agentAliasId"])
                    .or_else(|| text(response, &["agentAlias", "agentAliasId"]));
                let routing = params.get("routingConfiguration").or_else(|| {
                    response
                        .get("agentAlias")
                        .and_then(|a| a.get("routingConfiguration"))
                });
                let routed_version = routing
                    .and_then(|r| r.get(0))
                    .and_then(|r| r.get("agentVersion"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(id) = id {
                    facts.push(Fact::Alias {
                        id,
                        routed_version,
                        name: text(params, &["agentAliasName"]),
                    });
                }
            }
            _ => {}
        }
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_sessions_name_agents_functions_and_roles() {
        assert_eq!(
            agent_from_arn("arn:aws:bedrock:us-east-1:111122223333:agent-alias/AG1/TSTALIAS"),
            Some(("AG1".into(), Some("TSTALIAS".into())))
        );
        assert_eq!(
            agent_from_arn("arn:aws:bedrock:us-east-1:111122223333:agent/AG1"),
            Some(("AG1".into(), None))
        );
        assert_eq!(agent_from_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:111122223333:function:export-tool:3"),
            "export-tool"
        );
    }
}
