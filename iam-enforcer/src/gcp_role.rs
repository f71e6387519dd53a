//! A GCP custom role per identity an agent acts as, made of exactly the permissions Cloud
//! Audit Logs say Google checked and granted for its calls (`authorizationInfo[].permission`,
//! never a guess from the method name), each with its trace; and the binding that gives it
//! to the identity. Which broad roles it replaces is judged only where the identity's
//! current roles were read and the agent was observed long enough.

use crate::replay::Evidence;
use normalizer::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One observed call's granted permissions.
#[derive(Debug, Clone, Copy)]
pub struct Granted<'a> {
    /// `refund-agent@acme-support-prod.iam.gserviceaccount.com`.
    pub principal: &'a str,
    pub project: &'a str,
    pub permissions: &'a [String],
    pub time: Timestamp,
    pub proof: &'a str,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Permission {
    pub permission: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomRole {
    pub identity: String,
    pub project: String,
    /// GCP's role id: letters, digits, `_` and `.`, 3 to 64 characters.
    pub role_id: String,
    pub title: String,
    pub permissions: Vec<Permission>,
}

/// The role id for an identity: `agentward_` and the account's name, as GCP allows.
fn role_id(identity: &str) -> String {
    let name = identity.split('@').next().unwrap_or(identity);
    let mut id: String = format!("agentward_{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    id.truncate(64);
    id
}

/// One custom role per (identity, project) of `granted`.
pub fn custom_roles<'a>(granted: impl IntoIterator<Item = Granted<'a>>) -> Vec<CustomRole> {
    let mut by: BTreeMap<(&str, &str), BTreeMap<&str, Evidence>> = BTreeMap::new();
    for g in granted {
        let role = by.entry((g.principal, g.project)).or_default();
        for p in g.permissions {
            role.entry(p.as_str())
                .or_insert_with(|| Evidence::empty(g.time))
                .add_n(g.time, g.proof, g.count);
        }
    }
    by.into_iter()
        .filter(|(_, perms)| !perms.is_empty())
        .map(|((identity, project), perms)| CustomRole {
            identity: identity.to_string(),
            project: project.to_string(),
            role_id: role_id(identity),
            // GCP takes a title of at most 100 characters.
            title: format!("agentward least privilege for {identity}")
                .chars()
                .take(100)
                .collect(),
            permissions: perms
                .into_iter()
                .map(|(permission, evidence)| Permission {
                    permission: permission.to_string(),
                    evidence,
                })
                .collect(),
        })
        .collect()
}

impl CustomRole {
    /// The member string of the identity (`serviceAccount:…`, `user:…`).
    pub fn member(&self) -> String {
        if self.identity.ends_with(".gserviceaccount.com") {
            format!("serviceAccount:{}", self.identity)
        } else if self.identity.starts_with("principal://") {
            self.identity.clone()
        } else {
            format!("user:{}", self.identity)
        }
    }

    /// Terraform: the custom role and the member binding that grants it, each permission
    /// with its trace as a comment.
    pub fn terraform(&self, header: &[String]) -> String {
        let id = crate::terraform::identifier(&self.role_id);
        let mut out: String = header.iter().map(|h| format!("# {h}\n")).collect();
        let _ = writeln!(
            out,
            "resource \"google_project_iam_custom_role\" \"{id}\" {{\n  project     = \"{}\"\n  role_id     = \"{}\"\n  title       = \"{}\"\n  description = \"Derived by agentward from the permissions Cloud Audit Logs show granted for its calls\"\n  permissions = [",
            self.project, self.role_id, self.title
        );
        for p in &self.permissions {
            let e = &p.evidence;
            let _ = writeln!(
                out,
                "    \"{}\", # {} calls {} → {}, {} log files",
                p.permission,
                e.events,
                e.first.utc_date(),
                e.last.utc_date(),
                e.records.len()
            );
        }
        let _ = writeln!(
            out,
            "  ]\n}}\n\nresource \"google_project_iam_member\" \"{id}\" {{\n  project = \"{}\"\n  role    = google_project_iam_custom_role.{id}.name\n  member  = \"{}\"\n}}",
            self.project,
            self.member()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_role_per_identity_with_exactly_its_granted_permissions() {
        let predict = vec!["aiplatform.endpoints.predict".to_string()];
        let query = vec!["bigquery.jobs.create".to_string()];
        let sa = "refund-agent@acme-support-prod.iam.gserviceaccount.com";
        let g = |permissions, t| Granted {
            principal: sa,
            project: "acme-support-prod",
            permissions,
            time: Timestamp(t),
            proof: "cloudaudit.googleapis.com/data_access/2026/11/20/10.json",
            count: 1,
        };
        let roles = custom_roles([g(&predict, 1), g(&query, 2), g(&predict, 3)]);
        assert_eq!(roles.len(), 1);
        let r = &roles[0];
        assert_eq!(r.role_id, "agentward_refund_agent");
        assert_eq!(r.member(), format!("serviceAccount:{sa}"));
        let perms: Vec<(&str, u64)> = r
            .permissions
            .iter()
            .map(|p| (p.permission.as_str(), p.evidence.events))
            .collect();
        assert_eq!(
            perms,
            [
                ("aiplatform.endpoints.predict", 2),
                ("bigquery.jobs.create", 1)
            ]
        );
        let tf = r.terraform(&["agent refund-assistant".into()]);
        assert!(tf.contains("role_id     = \"agentward_refund_agent\""));
        assert!(tf.contains("\"bigquery.jobs.create\", # 1 calls"));
        assert!(tf.contains(&format!("member  = \"serviceAccount:{sa}\"")));
        assert!(
            custom_roles([g(&[], 1)]).is_empty(),
            "no permission, no role"
        );
    }
}
