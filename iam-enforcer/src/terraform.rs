//! A proposed identity policy as Terraform: an `aws_iam_policy` (a managed policy, so a
//! later change is a new version that can be rolled back) and the
//! `aws_iam_role_policy_attachment` that puts it on the role. The document is the same JSON
//! as the `.policy.json` artifact, in a heredoc; the header says where it came from.

use std::fmt::Write;

/// A Terraform identifier from free text: letters, digits and `_`, not starting with a digit.
pub fn identifier(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The role's name from its ARN (`arn:aws:iam::1:role/path/NAME` → `NAME`).
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

/// The `.tf` text for `document` on `role_arn`; `header` lines become comments.
pub fn managed_policy(role_arn: &str, document: &serde_json::Value, header: &[String]) -> String {
    let name = role_name(role_arn);
    let id = identifier(name);
    let json = serde_json::to_string_pretty(document).unwrap_or_default();
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(
        out,
        r#"resource "aws_iam_policy" "{id}_agentward" {{
  name        = "agentward-{name}"
  description = "Least privilege for {name}, derived by agentward from its observed calls"
  policy      = <<-POLICY
{json}
  POLICY
}}

resource "aws_iam_role_policy_attachment" "{id}_agentward" {{
  role       = "{name}"
  policy_arn = aws_iam_policy.{id}_agentward.arn
}}"#
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_identifiers_and_the_document_is_kept_whole() {
        assert_eq!(identifier("support-agent-tools"), "support_agent_tools");
        assert_eq!(identifier("9lives"), "_9lives");
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": []});
        let tf = managed_policy(
            "arn:aws:iam::111122223333:role/service/support-agent-tools",
            &doc,
            &["from 2,640 calls".into()],
        );
        assert!(tf.starts_with("# from 2,640 calls\n"));
        assert!(tf.contains(r#"resource "aws_iam_policy" "support_agent_tools_agentward""#));
        assert!(tf.contains(r#"role       = "support-agent-tools""#));
        assert!(tf.contains("\"Version\": \"2012-10-17\""));
    }
}
