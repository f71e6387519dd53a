//! The local IAM evaluator against `@cloud-copilot/iam-simulate` (npm, AGPL-3.0; a test
//! oracle run as its own process, never shipped or linked) on generated cases: policies with
//! wildcard and negated actions and resources, explicit denies and conditions, requests on
//! real ARN shapes with and without the keys the conditions name. Every case must get the
//! same decision from both.

use iam_enforcer::eval::{Context, Decision, Policy, Request, evaluate};
use serde_json::{Value, json};

#[path = "oracle/run.rs"]
mod oracle;

const CASES: usize = 2_000;

/// splitmix64: the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Requests an agent makes: an action and the resource it names. None on a resource whose
/// own policy must also allow it (a KMS key, a role's trust): the evaluator judges identity
/// policies, and the oracle would add the resource's default.
const REQUESTS: &[(&str, &str)] = &[
    ("s3:GetObject", "arn:aws:s3:::acme-data/reports/2026/q1.csv"),
    (
        "s3:PutObject",
        "arn:aws:s3:::acme-support-exports/weekly/2026-W41/part-00000.json",
    ),
    ("s3:ListBucket", "arn:aws:s3:::acme-data"),
    (
        "bedrock:InvokeModel",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    ),
    (
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111122223333:function:support-tools",
    ),
    (
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111122223333:function:support-tools:live",
    ),
    (
        "dynamodb:GetItem",
        "arn:aws:dynamodb:us-east-1:111122223333:table/tickets",
    ),
    (
        "dynamodb:Query",
        "arn:aws:dynamodb:us-east-1:111122223333:table/tickets/index/by-customer",
    ),
    (
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:111122223333:support-queue",
    ),
    (
        "iam:PassRole",
        "arn:aws:iam::111122223333:role/service/support-agent-tools",
    ),
    (
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:support/zendesk-AbCdEf",
    ),
    (
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/support:log-stream:2026/10/05",
    ),
    ("sts:GetCallerIdentity", "*"),
    ("s3:ListAllMyBuckets", "*"),
];

/// An action pattern that may or may not cover `action`.
fn action_pattern(rng: &mut Rng, action: &str) -> String {
    let (service, name) = action.split_once(':').unwrap();
    match rng.below(9) {
        0 => "*".into(),
        1 => format!("{service}:*"),
        2 => format!("{service}:{}*", &name[..3]),
        3 => format!("{service}:?{}", &name[1..]),
        4 => action.to_ascii_lowercase(),
        5 => format!("{}:{name}", service.to_ascii_uppercase()),
        6 => rng.pick(REQUESTS).0.to_string(),
        7 => format!("{service}:{}*", &name[..name.len() - 1]),
        _ => action.to_string(),
    }
}

/// A resource pattern that may or may not cover `resource`.
fn resource_pattern(rng: &mut Rng, resource: &str) -> String {
    if resource == "*" || rng.chance(10) {
        return if rng.chance(70) {
            "*".into()
        } else {
            rng.pick(REQUESTS).1.to_string()
        };
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let with = |i: usize, part: &str| {
        let mut p = parts.clone();
        p[i] = part;
        p.join(":")
    };
    let last = parts[5];
    match rng.below(10) {
        0 => with(3, "*"),
        1 => with(4, "*"),
        2 => with(3, &parts[3].to_ascii_uppercase()),
        3 => with(5, &last.to_ascii_uppercase()),
        4 => {
            // A wildcard after a cut somewhere in the resource part.
            let cut = 1 + rng.below(last.len().max(2) - 1);
            let cut = (0..=cut).rev().find(|c| last.is_char_boundary(*c)).unwrap();
            with(5, &format!("{}*", &last[..cut]))
        }
        5 => {
            let i = rng.below(last.len());
            let mut chars: Vec<char> = last.chars().collect();
            let at = i.min(chars.len() - 1);
            chars[at] = '?';
            with(5, &chars.into_iter().collect::<String>())
        }
        6 => format!("arn:aws:{}:*", parts[2]),
        7 => format!("arn:aws:{}:*:*:*", parts[2]),
        8 => rng.pick(REQUESTS).1.to_string(),
        _ => resource.to_string(),
    }
}

/// The condition keys a case may name, with a value of the shape each takes.
fn context_value(rng: &mut Rng, key: &str) -> Value {
    match key {
        "aws:RequestedRegion" => json!(rng.pick(&["us-east-1", "eu-west-1"])),
        "aws:PrincipalTag/team" => json!(rng.pick(&["support", "research", "Support"])),
        "aws:SecureTransport" => json!(rng.pick(&["true", "false"])),
        "aws:MultiFactorAuthAge" => json!(rng.pick(&["30", "3600", "90000"])),
        "aws:SourceAccount" => json!(rng.pick(&["111122223333", "444455556666"])),
        "aws:SourceArn" => json!(rng.pick(&[
            "arn:aws:bedrock:us-east-1:111122223333:agent/K7QX2M4TZP",
            "arn:aws:bedrock:us-east-1:111122223333:agent/RSRCH4N7QA",
        ])),
        _ => {
            let all = [
                "athena.amazonaws.com",
                "bedrock.amazonaws.com",
                "lambda.amazonaws.com",
            ];
            let n = 1 + rng.below(3);
            json!(all[..n].to_vec())
        }
    }
}

const KEYS: &[&str] = &[
    "aws:RequestedRegion",
    "aws:PrincipalTag/team",
    "aws:SecureTransport",
    "aws:MultiFactorAuthAge",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:CalledVia",
];

/// A condition block on one key, with operators that suit the key's type.
fn condition(rng: &mut Rng, key: &str) -> Value {
    let (ops, values): (&[&str], Vec<Value>) = match key {
        "aws:SecureTransport" => (&["Bool"], vec![context_value(rng, key)]),
        "aws:MultiFactorAuthAge" => (
            &[
                "NumericLessThan",
                "NumericGreaterThanEquals",
                "NumericEquals",
                "NumericNotEquals",
            ],
            vec![json!(rng.pick(&["3600", "30"]))],
        ),
        "aws:SourceArn" => (
            &["ArnLike", "ArnEquals", "ArnNotLike", "StringLike"],
            vec![json!(rng.pick(&[
                "arn:aws:bedrock:us-east-1:111122223333:agent/K7QX2M4TZP",
                "arn:aws:bedrock:*:111122223333:agent/*",
                "arn:aws:bedrock:us-east-1:111122223333:agent/RS*",
            ]))],
        ),
        "aws:CalledVia" => (
            &[
                "ForAnyValue:StringEquals",
                "ForAllValues:StringEquals",
                "ForAnyValue:StringLike",
                "ForAllValues:StringNotEquals",
            ],
            vec![
                json!("athena.amazonaws.com"),
                json!(rng.pick(&["bedrock.amazonaws.com", "*.amazonaws.com"])),
            ],
        ),
        _ => (
            &[
                "StringEquals",
                "StringNotEquals",
                "StringLike",
                "StringNotLike",
                "StringEqualsIgnoreCase",
                "StringNotEqualsIgnoreCase",
            ],
            (0..1 + rng.below(2))
                .map(|_| {
                    let v = context_value(rng, key);
                    if rng.chance(20) {
                        json!(format!("{}*", &v.as_str().unwrap()[..2]))
                    } else {
                        v
                    }
                })
                .collect(),
        ),
    };
    let mut op = rng.pick(ops).to_string();
    if rng.chance(25) {
        op.push_str("IfExists");
    }
    if rng.chance(8) {
        return json!({ "Null": { key: rng.pick(&["true", "false"]) } });
    }
    json!({ op: { key: values } })
}

fn statement(rng: &mut Rng, action: &str, resource: &str) -> Value {
    let mut s = serde_json::Map::new();
    let effect = if rng.chance(25) { "Deny" } else { "Allow" };
    s.insert("Effect".into(), json!(effect));
    let actions: Vec<String> = (0..1 + rng.below(2))
        .map(|_| action_pattern(rng, action))
        .collect();
    let element = if rng.chance(15) {
        "NotAction"
    } else {
        "Action"
    };
    s.insert(element.into(), json!(actions));
    let resources: Vec<String> = (0..1 + rng.below(2))
        .map(|_| resource_pattern(rng, resource))
        .collect();
    let element = if rng.chance(15) {
        "NotResource"
    } else {
        "Resource"
    };
    s.insert(element.into(), json!(resources));
    if rng.chance(45) {
        let mut block = serde_json::Map::new();
        for _ in 0..1 + rng.below(2) {
            let key = *rng.pick(KEYS);
            if let Value::Object(c) = condition(rng, key) {
                for (op, keys) in c {
                    let entry = block.entry(op).or_insert_with(|| json!({}));
                    entry
                        .as_object_mut()
                        .unwrap()
                        .extend(keys.as_object().unwrap().clone());
                }
            }
        }
        s.insert("Condition".into(), Value::Object(block));
    }
    Value::Object(s)
}

fn case(rng: &mut Rng) -> Value {
    let (action, resource) = *rng.pick(REQUESTS);
    let policies: Vec<Value> = (0..1 + rng.below(2))
        .map(|i| {
            let statements: Vec<Value> = (0..1 + rng.below(3))
                .map(|_| statement(rng, action, resource))
                .collect();
            json!({
                "name": format!("policy{i}"),
                "policy": { "Version": "2012-10-17", "Statement": statements },
            })
        })
        .collect();
    let mut context = serde_json::Map::new();
    for k in KEYS {
        if rng.chance(50) {
            context.insert(k.to_string(), context_value(rng, k));
        }
    }
    json!({ "policies": policies, "action": action, "resource": resource, "context": context })
}

fn ours(case: &Value) -> Decision {
    let policies: Vec<Policy> = case["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Policy::parse(p["name"].as_str().unwrap(), &p["policy"]).unwrap())
        .collect();
    let context: Context = case["context"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let values = match v {
                Value::Array(items) => items.iter().map(|i| i.as_str().unwrap().into()).collect(),
                v => vec![v.as_str().unwrap().to_string()],
            };
            (k.to_ascii_lowercase(), values)
        })
        .collect();
    let request = Request {
        action: case["action"].as_str().unwrap(),
        resource: case["resource"].as_str().unwrap(),
        context: &context,
    };
    evaluate(&policies, &request)
}

/// iam-simulate's overall result for each case, in order.
fn oracle(cases: &[Value]) -> Vec<String> {
    let Some(dir) = std::env::var_os("AGENTWARD_IAM_SIMULATE") else {
        if std::env::var_os("CI").is_some() {
            panic!("AGENTWARD_IAM_SIMULATE is not set: scripts/test installs iam-simulate");
        }
        eprintln!("SKIPPED: AGENTWARD_IAM_SIMULATE is not set (scripts/test sets it)");
        return Vec::new();
    };
    let mut input = String::new();
    for c in cases {
        input.push_str(&c.to_string());
        input.push('\n');
    }
    oracle::run_oracle(&dir, input)
        .lines()
        .map(str::to_string)
        .collect()
}

fn label(d: &Decision) -> &'static str {
    match d {
        Decision::Allowed { .. } => "Allowed",
        Decision::ExplicitlyDenied { .. } => "ExplicitlyDenied",
        Decision::ImplicitlyDenied => "ImplicitlyDenied",
    }
}

#[test]
fn the_evaluator_agrees_with_iam_simulate() {
    let mut rng = Rng(0x61_67_65_6e_74_77_61_72);
    let cases: Vec<Value> = (0..CASES).map(|_| case(&mut rng)).collect();
    let theirs = oracle(&cases);
    if theirs.is_empty() {
        return;
    }
    assert_eq!(theirs.len(), cases.len(), "one answer per case");
    let mut disagreements = Vec::new();
    let mut tally = std::collections::BTreeMap::<&str, usize>::new();
    for (c, t) in cases.iter().zip(&theirs) {
        assert!(
            !t.starts_with("error") && !t.contains("ignored:"),
            "the oracle did not evaluate a case as given: {t}\n{c}"
        );
        let mine = label(&ours(c));
        *tally.entry(mine).or_default() += 1;
        if mine != t {
            disagreements.push(format!("ours {mine}, iam-simulate {t}: {c}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {CASES} cases disagree; first ones:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(8)].join("\n")
    );
    // The corpus exercises every outcome, not just one.
    for outcome in ["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"] {
        assert!(
            tally.get(outcome).copied().unwrap_or(0) >= CASES / 20,
            "{tally:?}"
        );
    }
}
