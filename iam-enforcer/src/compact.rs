//! Fitting a proposed policy into IAM's size limit. A policy too large is made smaller by
//! widening, each widening said on its statement: resources that share a parent path are
//! written as `PARENT/*` (a whole segment, never part of one; never above the resource
//! type: `function:*`, `bucket/*`), the statement with the most resources first; then
//! statements left with the same resources share one. If even the widest form does not fit,
//! that is an error, never a silent cut.

use crate::EnforcerError;
use crate::aws_policy::{IdentityPolicy, Statement};
use normalizer::policy::glob;
use std::collections::{BTreeMap, BTreeSet};

/// Characters of the policy document as IAM counts them (no whitespace).
pub fn size(policy: &IdentityPolicy) -> usize {
    policy.document().to_string().chars().count()
}

/// The parent a resource widens to, with its separator (`arn:aws:s3:::b/a/` for
/// `arn:aws:s3:::b/a/x.json`); `None` where only the resource type or bucket is left.
fn parent(resource: &str) -> Option<&str> {
    let mut parts = resource.splitn(6, ':');
    let head: usize = (0..5)
        .map(|_| parts.next().map_or(0, |p| p.len() + 1))
        .sum();
    let part = parts.next()?;
    // `weekly/*` widens from `weekly/`'s parent, not to itself.
    let part = part.strip_suffix('*').unwrap_or(part);
    let part = part.strip_suffix(['/', ':']).unwrap_or(part);
    let cut = part.rfind(['/', ':'])?;
    Some(&resource[..head + cut + 1])
}

/// One widening step on the statement with the most resources that can widen: the largest
/// group of resources sharing a parent becomes `PARENT*`. `false` when nothing can widen.
fn widen_once(policy: &mut IdentityPolicy) -> bool {
    let mut order: Vec<usize> = (0..policy.statements.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(policy.statements[*i].resources.len()));
    for i in order {
        let s = &mut policy.statements[i];
        let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &s.resources {
            if let Some(p) = parent(r) {
                *groups.entry(p).or_default() += 1;
            }
        }
        let Some((parent, _)) = groups.into_iter().max_by_key(|(p, n)| (*n, p.len())) else {
            continue;
        };
        let wide = format!("{parent}*");
        let (covered, kept): (Vec<String>, Vec<String>) =
            s.resources.drain(..).partition(|r| glob(&wide, r, false));
        s.widened.push(format!(
            "to fit IAM's size limit: {} resources → {wide} ({})",
            covered.len(),
            covered.join(", ")
        ));
        s.resources = kept;
        s.resources.push(wide);
        s.resources.sort();
        return true;
    }
    false
}

/// Statements with the same resources, after widening, become one.
fn merge_same_resources(policy: &mut IdentityPolicy) {
    let mut by_resources: BTreeMap<BTreeSet<String>, Statement> = BTreeMap::new();
    for s in policy.statements.drain(..) {
        let key: BTreeSet<String> = s.resources.iter().cloned().collect();
        match by_resources.get_mut(&key) {
            None => {
                by_resources.insert(key, s);
            }
            Some(kept) => {
                kept.actions.extend(s.actions);
                kept.actions.sort();
                kept.actions.dedup();
                kept.widened.extend(s.widened);
                kept.resource_unnamed |= s.resource_unnamed;
                kept.trace.behaviors.extend(s.trace.behaviors);
                kept.trace.events += s.trace.events;
                kept.trace.first = kept.trace.first.min(s.trace.first);
                kept.trace.last = kept.trace.last.max(s.trace.last);
                kept.trace.windows.extend(s.trace.windows);
                // A condition holds for the merged statement only if it held for both.
                if kept.conditions != s.conditions {
                    kept.conditions.clear();
                }
            }
        }
    }
    policy.statements = by_resources.into_values().collect();
}

/// Makes `policy` fit `limit` characters, widening as little as it takes.
pub fn fit(policy: &mut IdentityPolicy, limit: usize) -> Result<(), EnforcerError> {
    while size(policy) > limit {
        if !widen_once(policy) {
            merge_same_resources(policy);
            let characters = size(policy);
            if characters > limit {
                return Err(EnforcerError::TooLarge { characters, limit });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_policy::{Basis, Confidence, Level, Trace};
    use normalizer::Timestamp;

    fn statement(sid: &str, actions: &[&str], resources: Vec<String>) -> Statement {
        Statement {
            sid: sid.into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            resource_unnamed: false,
            widened: Vec::new(),
            trace: Trace {
                behaviors: resources.iter().map(|r| format!("x on {r}")).collect(),
                events: resources.len() as u64,
                first: Timestamp(1),
                last: Timestamp(2),
                windows: BTreeSet::new(),
            },
            confidence: Confidence {
                level: Level::Review,
                windows_seen: 1,
                windows_observed: 1,
            },
            basis: Basis::Observed,
            conditions: Default::default(),
            resources,
        }
    }

    #[test]
    fn parents_are_whole_segments_and_stop_at_the_type() {
        assert_eq!(
            parent("arn:aws:s3:::b/docs/a.md"),
            Some("arn:aws:s3:::b/docs/")
        );
        assert_eq!(parent("arn:aws:s3:::b/docs/*"), Some("arn:aws:s3:::b/"));
        assert_eq!(parent("arn:aws:s3:::b/*"), None);
        assert_eq!(parent("arn:aws:s3:::b"), None);
        assert_eq!(
            parent("arn:aws:lambda:us-east-1:1:function:tool-1"),
            Some("arn:aws:lambda:us-east-1:1:function:")
        );
        assert_eq!(parent("arn:aws:lambda:us-east-1:1:function:*"), None);
        assert_eq!(parent("*"), None);
    }

    #[test]
    fn a_policy_too_large_is_widened_until_it_fits_and_says_so() {
        let docs: Vec<String> = (0..400)
            .map(|i| format!("arn:aws:s3:::acme-docs/team-{}/doc-{i:04}.md", i % 4))
            .collect();
        let tables = vec!["arn:aws:dynamodb:us-east-1:1:table/tickets".to_string()];
        let mut policy = IdentityPolicy {
            role: "r".into(),
            statements: vec![
                statement("s3GetObject", &["s3:GetObject"], docs.clone()),
                statement("dynamodbGetItem", &["dynamodb:GetItem"], tables),
            ],
            unknown: Vec::new(),
        };
        assert!(size(&policy) > 6_144);
        fit(&mut policy, 6_144).unwrap();
        assert!(size(&policy) <= 6_144);
        let get = policy
            .statements
            .iter()
            .find(|s| s.actions == ["s3:GetObject"])
            .unwrap();
        // As narrow as fits: per team prefix, not the whole bucket.
        assert!(
            get.resources
                .iter()
                .all(|r| r.starts_with("arn:aws:s3:::acme-docs/team-")),
            "{:?}",
            get.resources
        );
        assert!(!get.widened.is_empty());
        // Everything seen is still covered.
        assert!(
            docs.iter()
                .all(|d| get.resources.iter().any(|r| glob(r, d, false)))
        );
        let table = policy
            .statements
            .iter()
            .find(|s| s.actions == ["dynamodb:GetItem"])
            .unwrap();
        assert!(
            table.widened.is_empty(),
            "a statement that fits is left alone"
        );
    }

    #[test]
    fn what_cannot_fit_is_an_error() {
        let buckets: Vec<String> = (0..600)
            .map(|i| format!("arn:aws:s3:::bucket-{i:04}"))
            .collect();
        let mut policy = IdentityPolicy {
            role: "r".into(),
            statements: vec![statement("s3ListBucket", &["s3:ListBucket"], buckets)],
            unknown: Vec::new(),
        };
        assert!(matches!(
            fit(&mut policy, 6_144),
            Err(EnforcerError::TooLarge { .. })
        ));
    }
}
