//! The declared side of an agent's identity: IAM roles with their trust policy, inline and
//! attached managed policies and permission boundary, and the documents of customer-managed
//! policies, as they were at any moment. Reconciliation compares this with what the
//! agent's roles were observed doing.

use crate::Timestamp;
use crate::inventory::Provenance;
use crate::policy::PolicyDocument;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A policy document as recorded, or why it could not be read (never dropped silently).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Document {
    Parsed { document: PolicyDocument },
    Unreadable { reason: String },
}

impl Document {
    pub fn from_value(value: &serde_json::Value) -> Document {
        match PolicyDocument::parse(value) {
            Ok(document) => Document::Parsed { document },
            Err(e) => Document::Unreadable {
                reason: e.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum IdentityFact {
    /// Who may assume the role.
    Trust {
        document: Document,
    },
    InlinePolicy {
        name: String,
        document: Document,
    },
    InlinePolicyRemoved {
        name: String,
    },
    ManagedPolicyAttached {
        policy: String,
    },
    ManagedPolicyDetached {
        policy: String,
    },
    Boundary {
        policy: String,
    },
    BoundaryRemoved,
    /// A version of a customer-managed policy (subject: the policy ARN).
    PolicyVersion {
        version: String,
        document: Document,
        default: bool,
    },
    PolicyDefaultVersion {
        version: String,
    },
    /// The execution role of a Lambda function (subject: the function ARN).
    FunctionRole {
        role: String,
    },
    /// Who may invoke a Lambda function (subject: the function ARN).
    FunctionPolicy {
        document: Document,
    },
    FunctionPolicyRemoved,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdentityObservation {
    pub time: Timestamp,
    /// A role ARN (normalized by [`role_key`]) or a managed policy ARN.
    pub subject: String,
    #[serde(flatten)]
    pub fact: IdentityFact,
    pub provenance: Provenance,
}

/// `arn:aws:iam::ACCOUNT:role/any/path/NAME` → `arn:aws:iam::ACCOUNT:role/NAME`: role names
/// are unique per account whatever their path, and the path is not always recorded.
pub fn role_key(arn: &str) -> String {
    role_key_ref(arn).into_owned()
}

/// [`role_key`] without allocating when the ARN has no path.
pub fn role_key_ref(arn: &str) -> std::borrow::Cow<'_, str> {
    match arn.split_once(":role/") {
        Some((head, rest)) if rest.contains('/') => std::borrow::Cow::Owned(format!(
            "{head}:role/{}",
            rest.rsplit('/').next().unwrap_or(rest)
        )),
        _ => std::borrow::Cow::Borrowed(arn),
    }
}

/// Whether a managed policy is maintained by AWS (its document is the same in every
/// account and is not in the account's logs).
pub fn is_aws_managed(policy: &str) -> bool {
    policy.starts_with("arn:aws:iam::aws:policy/")
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityHistory {
    pub observations: Vec<IdentityObservation>,
}

impl IdentityHistory {
    /// Order-independent union, so concurrent scanners converge.
    pub fn merge(&mut self, incoming: impl IntoIterator<Item = IdentityObservation>) {
        let mut all: BTreeSet<IdentityObservation> =
            std::mem::take(&mut self.observations).into_iter().collect();
        all.extend(incoming);
        self.observations = all.into_iter().collect();
    }

    pub fn declared_at(&self, at: Timestamp) -> DeclaredIdentity {
        let mut out = DeclaredIdentity::default();
        for o in self.observations.iter().filter(|o| o.time <= at) {
            match &o.fact {
                IdentityFact::PolicyVersion {
                    version,
                    document,
                    default,
                } => {
                    let p = out.policies.entry(o.subject.clone()).or_default();
                    p.versions
                        .insert(version.clone(), recorded(o, document.clone()));
                    if *default {
                        p.default_version = Some(version.clone());
                    }
                }
                IdentityFact::PolicyDefaultVersion { version } => {
                    out.policies
                        .entry(o.subject.clone())
                        .or_default()
                        .default_version = Some(version.clone());
                }
                IdentityFact::FunctionRole { role } => {
                    out.functions.entry(o.subject.clone()).or_default().role =
                        Some(recorded(o, role.clone()))
                }
                IdentityFact::FunctionPolicy { document } => {
                    out.functions.entry(o.subject.clone()).or_default().policy =
                        Some(recorded(o, document.clone()))
                }
                IdentityFact::FunctionPolicyRemoved => {
                    out.functions.entry(o.subject.clone()).or_default().policy = None
                }
                fact => {
                    let role = out
                        .roles
                        .entry(o.subject.clone())
                        .or_insert_with(|| DeclaredRole {
                            arn: o.subject.clone(),
                            ..DeclaredRole::default()
                        });
                    match fact {
                        IdentityFact::Trust { document } => {
                            role.trust = Some(recorded(o, document.clone()))
                        }
                        IdentityFact::InlinePolicy { name, document } => {
                            role.inline
                                .insert(name.clone(), recorded(o, document.clone()));
                        }
                        IdentityFact::InlinePolicyRemoved { name } => {
                            role.inline.remove(name);
                        }
                        IdentityFact::ManagedPolicyAttached { policy } => {
                            role.managed.insert(policy.clone(), recorded(o, ()));
                        }
                        IdentityFact::ManagedPolicyDetached { policy } => {
                            role.managed.remove(policy);
                        }
                        IdentityFact::Boundary { policy } => {
                            role.boundary = Some(recorded(o, policy.clone()))
                        }
                        IdentityFact::BoundaryRemoved => role.boundary = None,
                        IdentityFact::PolicyVersion { .. }
                        | IdentityFact::PolicyDefaultVersion { .. }
                        | IdentityFact::FunctionRole { .. }
                        | IdentityFact::FunctionPolicy { .. }
                        | IdentityFact::FunctionPolicyRemoved => {}
                    }
                }
            }
        }
        out
    }
}

fn recorded<T>(o: &IdentityObservation, value: T) -> Recorded<T> {
    Recorded {
        value,
        since: o.time,
        provenance: o.provenance.clone(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded<T> {
    pub value: T,
    pub since: Timestamp,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeclaredRole {
    pub arn: String,
    pub trust: Option<Recorded<Document>>,
    pub inline: BTreeMap<String, Recorded<Document>>,
    pub managed: BTreeMap<String, Recorded<()>>,
    pub boundary: Option<Recorded<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub versions: BTreeMap<String, Recorded<Document>>,
    pub default_version: Option<String>,
}

impl ManagedPolicy {
    pub fn default_document(&self) -> Option<&Recorded<Document>> {
        self.versions.get(self.default_version.as_ref()?)
    }
}

/// Roles and customer-managed policies as declared at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeclaredIdentity {
    /// Role key ([`role_key`]) → role.
    pub roles: BTreeMap<String, DeclaredRole>,
    /// Policy ARN → versions.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Lambda function ARN (unqualified) → its execution role and resource policy.
    #[serde(default)]
    pub functions: BTreeMap<String, DeclaredFunction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeclaredFunction {
    pub role: Option<Recorded<String>>,
    /// `None`: no resource policy (only the account's own principals may invoke it).
    pub policy: Option<Recorded<Document>>,
}

impl DeclaredIdentity {
    /// Whether recording `o` would change what is declared: a periodic API read that
    /// finds everything as it was adds nothing to the history.
    pub fn would_change(&self, o: &IdentityObservation) -> bool {
        let role = self.roles.get(&o.subject);
        match &o.fact {
            IdentityFact::Trust { document } => {
                role.and_then(|r| r.trust.as_ref()).map(|t| &t.value) != Some(document)
            }
            IdentityFact::InlinePolicy { name, document } => {
                role.and_then(|r| r.inline.get(name)).map(|d| &d.value) != Some(document)
            }
            IdentityFact::InlinePolicyRemoved { name } => {
                role.is_some_and(|r| r.inline.contains_key(name))
            }
            IdentityFact::ManagedPolicyAttached { policy } => {
                !role.is_some_and(|r| r.managed.contains_key(policy))
            }
            IdentityFact::ManagedPolicyDetached { policy } => {
                role.is_some_and(|r| r.managed.contains_key(policy))
            }
            IdentityFact::Boundary { policy } => {
                role.and_then(|r| r.boundary.as_ref()).map(|b| &b.value) != Some(policy)
            }
            IdentityFact::BoundaryRemoved => role.is_some_and(|r| r.boundary.is_some()),
            IdentityFact::PolicyVersion {
                version,
                document,
                default,
            } => {
                let p = self.policies.get(&o.subject);
                p.and_then(|p| p.versions.get(version)).map(|d| &d.value) != Some(document)
                    || (*default && p.and_then(|p| p.default_version.as_ref()) != Some(version))
            }
            IdentityFact::PolicyDefaultVersion { version } => {
                self.policies
                    .get(&o.subject)
                    .and_then(|p| p.default_version.as_ref())
                    != Some(version)
            }
            IdentityFact::FunctionRole { role } => {
                let function = self.functions.get(&o.subject);
                function.and_then(|f| f.role.as_ref()).map(|r| &r.value) != Some(role)
            }
            IdentityFact::FunctionPolicy { document } => {
                let function = self.functions.get(&o.subject);
                function.and_then(|f| f.policy.as_ref()).map(|p| &p.value) != Some(document)
            }
            IdentityFact::FunctionPolicyRemoved => self
                .functions
                .get(&o.subject)
                .is_some_and(|f| f.policy.is_some()),
        }
    }

    /// Roles each managed policy is attached to: a policy on several roles is shared.
    pub fn attachments(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for role in self.roles.values() {
            for policy in role.managed.keys() {
                out.entry(policy.as_str())
                    .or_default()
                    .push(role.arn.as_str());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs(time: i64, subject: &str, fact: IdentityFact) -> IdentityObservation {
        IdentityObservation {
            time: Timestamp(time),
            subject: subject.into(),
            fact,
            provenance: crate::inventory::test_provenance(time as u64),
        }
    }

    #[test]
    fn role_keys_drop_the_path() {
        assert_eq!(
            role_key("arn:aws:iam::1:role/service-role/Exec_support"),
            "arn:aws:iam::1:role/Exec_support"
        );
        assert_eq!(
            role_key("arn:aws:iam::1:role/tools"),
            "arn:aws:iam::1:role/tools"
        );
        assert!(is_aws_managed("arn:aws:iam::aws:policy/AmazonS3FullAccess"));
        assert!(!is_aws_managed("arn:aws:iam::1:policy/mine"));
    }

    #[test]
    fn declared_identity_at_a_time_follows_attach_detach_and_versions() {
        let role = "arn:aws:iam::1:role/tools";
        let doc = |a: &str| {
            Document::from_value(
                &json!({"Statement": [{"Effect": "Allow", "Action": a, "Resource": "*"}]}),
            )
        };
        let mut h = IdentityHistory::default();
        let events = [
            obs(
                1,
                role,
                IdentityFact::InlinePolicy {
                    name: "p".into(),
                    document: doc("s3:GetObject"),
                },
            ),
            obs(
                2,
                role,
                IdentityFact::ManagedPolicyAttached {
                    policy: "arn:aws:iam::aws:policy/X".into(),
                },
            ),
            obs(
                5,
                role,
                IdentityFact::ManagedPolicyDetached {
                    policy: "arn:aws:iam::aws:policy/X".into(),
                },
            ),
            obs(
                6,
                role,
                IdentityFact::InlinePolicyRemoved { name: "p".into() },
            ),
            obs(
                3,
                "arn:aws:iam::1:policy/c",
                IdentityFact::PolicyVersion {
                    version: "v1".into(),
                    document: doc("s3:*"),
                    default: true,
                },
            ),
            obs(
                4,
                "arn:aws:iam::1:policy/c",
                IdentityFact::PolicyVersion {
                    version: "v2".into(),
                    document: doc("s3:GetObject"),
                    default: false,
                },
            ),
            obs(
                7,
                "arn:aws:iam::1:policy/c",
                IdentityFact::PolicyDefaultVersion {
                    version: "v2".into(),
                },
            ),
        ];
        // Arrival order does not matter.
        h.merge(events.iter().rev().cloned());
        let at4 = h.declared_at(Timestamp(4));
        assert!(at4.roles[role].inline.contains_key("p"));
        assert!(
            at4.roles[role]
                .managed
                .contains_key("arn:aws:iam::aws:policy/X")
        );
        assert_eq!(
            at4.policies["arn:aws:iam::1:policy/c"]
                .default_version
                .as_deref(),
            Some("v1")
        );
        let at9 = h.declared_at(Timestamp(9));
        assert!(at9.roles[role].inline.is_empty() && at9.roles[role].managed.is_empty());
        assert_eq!(
            at9.policies["arn:aws:iam::1:policy/c"]
                .default_document()
                .unwrap()
                .value,
            doc("s3:GetObject")
        );
        let unreadable = Document::from_value(&json!("not a policy"));
        assert!(matches!(unreadable, Document::Unreadable { .. }));
    }

    #[test]
    fn a_reread_that_finds_nothing_new_changes_nothing() {
        let role = "arn:aws:iam::1:role/tools";
        let doc = Document::from_value(
            &json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
        );
        let inline = |d: Document| {
            obs(
                1,
                role,
                IdentityFact::InlinePolicy {
                    name: "p".into(),
                    document: d,
                },
            )
        };
        let mut h = IdentityHistory::default();
        h.merge([inline(doc.clone())]);
        let now = h.declared_at(Timestamp(i64::MAX));
        let mut again = inline(doc);
        again.time = Timestamp(99);
        assert!(!now.would_change(&again));
        let changed = Document::from_value(
            &json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        );
        assert!(now.would_change(&inline(changed)));
        assert!(now.would_change(&obs(
            2,
            role,
            IdentityFact::InlinePolicyRemoved { name: "p".into() }
        )));
        assert!(!now.would_change(&obs(
            2,
            role,
            IdentityFact::InlinePolicyRemoved { name: "q".into() }
        )));
        assert!(now.would_change(&obs(
            2,
            role,
            IdentityFact::ManagedPolicyAttached {
                policy: "arn:aws:iam::aws:policy/X".into()
            }
        )));
    }
}
