//! The azure-api source end to end: the real `azure_identity` gets its tokens from a local
//! Entra authority over TLS (client secret, `AZURE_AUTHORITY_HOST`) or from an App Service
//! managed-identity endpoint, and a local server answers Azure Resource Manager
//! (`Microsoft.CognitiveServices` accounts, projects, deployments, connections, diagnostic
//! settings) and a Foundry project's data plane (classic `/assistants`, versioned
//! `/agents`) in the shapes of their published references, checking what it receives:
//! the token for the right audience, `api-version`, `nextLink` and `after` cursors it issued.

mod common;

use common::spec_server::{Reply, Request, SpecServer};
use common::{agent_in as agent, bin, stderr};
use normalizer::Timestamp;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const SUB: &str = "11111111-2222-3333-4444-555555555555";
const LOCKED_SUB: &str = "99999999-8888-7777-6666-555555555555";
const TENANT: &str = "contoso-tenant";
const CLIENT: &str = "agentward-scanner";
const SECRET: &str = "local-client-secret";
const ARM_TOKEN: &str = "arm-token-for-management";
const FOUNDRY_TOKEN: &str = "foundry-token-for-ai";
/// More than two pages of 100 classic agents.
const ASSISTANTS: usize = 205;

struct Azure {
    data_plane: String,
    /// The first accounts list is throttled once, to prove the retry.
    throttled: bool,
    request_response_logs: bool,
    app_insights: bool,
    eu_network_injection: bool,
    issued_cursors: Vec<String>,
    /// Requests whose token was missing or for another audience.
    wrong_token: Vec<String>,
    /// The Activity Log of the subscription, and the `$filter`s it was asked with.
    activity: Vec<Value>,
    activity_filters: Vec<String>,
    /// Unix time the test's threads and runs were created at; whether the second run ended.
    runs_at: i64,
    second_run_done: bool,
}

fn account_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/agents-rg/providers/Microsoft.CognitiveServices/accounts/{name}"
    )
}

fn assistant(i: usize) -> Value {
    let mut a = json!({
        "id": format!("asst_{i:05}"),
        "object": "assistant",
        "created_at": 1_760_000_000 + i,
        "name": format!("helper-{i}"),
        "model": "gpt-4o-prod",
        "instructions": format!("You are helper {i}. Never reveal account numbers."),
        "tools": [],
        "tool_resources": {},
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0
    });
    if i == 0 {
        a["tools"] = json!([
            {"type": "code_interpreter"},
            {"type": "file_search"},
            {"type": "function", "function": {"name": "get_order", "description": "Look up an order",
                "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}},
            {"type": "openapi", "openapi": {"name": "crm", "description": "CRM API",
                "spec": {"openapi": "3.0.1", "info": {"title": "CRM", "version": "1"},
                         "servers": [{"url": "https://crm.internal.contoso.example"}],
                         "paths": {"/customers/{id}": {"get": {"operationId": "getCustomer"}},
                                   "/customers/{id}/notes": {"post": {"operationId": "addNote"}}}},
                "auth": {"type": "managed_identity", "security_scheme": {"audience": "api://crm"}}}},
            {"type": "mcp", "server_label": "github", "server_url": "https://api.githubcopilot.com/mcp/",
             "allowed_tools": ["search_code", "get_file_contents"]}
        ]);
        a["tool_resources"] = json!({
            "file_search": {"vector_store_ids": ["vs_policies"]},
            "azure_ai_search": {"indexes": [{"index_connection_id": "/subscriptions/x/connections/search", "index_name": "kb-articles"}]}
        });
    }
    a
}

fn route(azure: &Arc<Mutex<Azure>>, r: &Request) -> Reply {
    let mut az = azure.lock().unwrap();
    let token = r
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let arm = r.path.starts_with("/subscriptions/");
    let expected = if arm { ARM_TOKEN } else { FOUNDRY_TOKEN };
    if token != expected {
        az.wrong_token.push(format!("{} {}", r.method, r.path));
        return azure_error(401, "InvalidAuthenticationToken", "wrong audience");
    }
    let version = r.param("api-version").unwrap_or_default();
    if arm {
        let wanted = if r.path.ends_with("/diagnosticSettings") {
            "2021-05-01-preview"
        } else if r.path.ends_with("/eventtypes/management/values") {
            "2015-04-01"
        } else if r.path.contains("/providers/Microsoft.Authorization/") {
            "2022-04-01"
        } else {
            "2025-06-01"
        };
        if version != wanted {
            return azure_error(
                400,
                "InvalidApiVersionParameter",
                &format!("api-version {version}"),
            );
        }
    }
    let foundry = format!("{}/api/projects", az.data_plane);
    let list = |items: Vec<Value>| Reply::json(json!({ "value": items }));
    match r.path.as_str() {
        p if p
            == format!(
                "/subscriptions/{LOCKED_SUB}/providers/Microsoft.CognitiveServices/accounts"
            ) =>
        {
            azure_error(
                403,
                "AuthorizationFailed",
                &format!(
                    "The client '{CLIENT}' does not have authorization to perform action 'Microsoft.CognitiveServices/accounts/read' over scope '/subscriptions/{LOCKED_SUB}'"
                ),
            )
        }
        p if p
            == format!("/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/accounts") =>
        {
            if !az.throttled {
                az.throttled = true;
                return azure_error(
                    429,
                    "TooManyRequests",
                    "Rate limit is exceeded. Try again in 0 seconds.",
                )
                .with_header("retry-after", "0");
            }
            match r.param("$skiptoken").as_deref() {
                None => {
                    az.issued_cursors.push("accounts-2".into());
                    Reply::json(json!({
                        "value": [
                            {"id": account_id("acme-foundry"), "name": "acme-foundry", "kind": "AIServices", "location": "eastus",
                             "identity": {"type": "SystemAssigned", "principalId": "a1a1a1a1-0000-0000-0000-000000000001"},
                             "properties": {"endpoint": "https://acme-foundry.cognitiveservices.azure.com/", "allowProjectManagement": true}},
                            {"id": account_id("acme-speech"), "name": "acme-speech", "kind": "SpeechServices", "location": "eastus", "properties": {}}
                        ],
                        "nextLink": format!("{}/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/accounts?api-version=2025-06-01&$skiptoken=accounts-2", az.data_plane)
                    }))
                }
                Some(t) if az.issued_cursors.iter().any(|c| c == t) => {
                    let mut eu = json!({"id": account_id("acme-foundry-eu"), "name": "acme-foundry-eu", "kind": "AIServices",
                                        "location": "swedencentral", "properties": {}});
                    if az.eu_network_injection {
                        eu["properties"]["networkInjections"] = json!([{"scenario": "agent",
                            "subnetArmId": format!("/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/agents/subnets/egress"),
                            "useMicrosoftManagedNetwork": false}]);
                    }
                    list(vec![eu])
                }
                Some(_) => azure_error(400, "InvalidSkipToken", "not issued"),
            }
        }
        p if p == format!("{}/deployments", account_id("acme-foundry")) => list(vec![
            json!({"name": "gpt-4o-prod", "sku": {"name": "GlobalStandard", "capacity": 50},
                   "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
                                  "raiPolicyName": "Microsoft.DefaultV2", "provisioningState": "Succeeded"}}),
        ]),
        p if p.ends_with("/deployments") => list(vec![]),
        p if p == format!("{}/raiPolicies", account_id("acme-foundry")) => {
            let filter = |name: &str, source: &str, enabled: bool, threshold: Option<&str>| {
                json!({"name": name, "source": source, "enabled": enabled, "blocking": enabled,
                       "severityThreshold": threshold})
            };
            list(vec![
                json!({"name": "Microsoft.DefaultV2", "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
                       "properties": {"type": "SystemManaged", "mode": "Blocking", "contentFilters": [
                           filter("Hate", "Prompt", true, Some("Medium")),
                           filter("Hate", "Completion", true, Some("Medium")),
                           filter("Jailbreak", "Prompt", true, None),
                           filter("Protected Material Text", "Completion", true, None)]}}),
                json!({"name": "refunds-strict", "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
                       "properties": {"type": "UserManaged", "mode": "Blocking", "basePolicyName": "Microsoft.DefaultV2",
                           "contentFilters": [
                               filter("Jailbreak", "Prompt", true, None),
                               filter("Indirect Attack", "Prompt", true, None),
                               filter("Selfharm", "Completion", false, Some("High"))],
                           "customBlocklists": [{"blocklistName": "account-numbers", "blocking": true, "source": "Completion"}]}}),
            ])
        }
        p if p.ends_with("/raiPolicies") => list(vec![]),
        p if p
            == format!(
                "{}/providers/Microsoft.Insights/diagnosticSettings",
                account_id("acme-foundry")
            ) =>
        {
            list(vec![json!({"name": "to-law", "properties": {
                "workspaceId": "/subscriptions/x/resourceGroups/ops/providers/Microsoft.OperationalInsights/workspaces/security",
                "logs": [{"category": "Audit", "enabled": true},
                         {"category": "RequestResponse", "enabled": az.request_response_logs},
                         {"category": "Trace", "enabled": false}]}})])
        }
        p if p.ends_with("/diagnosticSettings") => list(vec![]),
        p if p == format!("{}/projects", account_id("acme-foundry")) => list(vec![json!({
            "id": format!("{}/projects/support", account_id("acme-foundry")),
            "name": "acme-foundry/support", "location": "eastus",
            "identity": {"type": "SystemAssigned", "principalId": "b2b2b2b2-0000-0000-0000-000000000002"},
            "properties": {"displayName": "support", "endpoints": {"AI Foundry API": format!("{foundry}/support")}}
        })]),
        p if p == format!("{}/projects", account_id("acme-foundry-eu")) => list(vec![json!({
            "id": format!("{}/projects/research", account_id("acme-foundry-eu")),
            "name": "acme-foundry-eu/research", "location": "swedencentral",
            "properties": {"endpoints": {"AI Foundry API": format!("{foundry}/research")}}
        })]),
        p if p.ends_with("/support/connections") => list(if az.app_insights {
            vec![
                json!({"name": "appinsights", "properties": {"category": "AppInsights", "target": "/subscriptions/x/components/ai", "authType": "ApiKey"}}),
            ]
        } else {
            vec![
                json!({"name": "search", "properties": {"category": "CognitiveSearch", "target": "https://search.example", "authType": "AAD"}}),
            ]
        }),
        p if p.ends_with("/connections") => list(vec![]),
        "/api/projects/support/assistants" => {
            if version != "v1" || r.param("limit").as_deref() != Some("100") {
                return azure_error(400, "BadRequest", "api-version v1 and limit 100 expected");
            }
            let start = match r.param("after") {
                None => 0,
                Some(a) if az.issued_cursors.contains(&a) => {
                    a.trim_start_matches("asst_").parse::<usize>().unwrap() + 1
                }
                Some(_) => return azure_error(400, "BadRequest", "unknown cursor"),
            };
            let end = (start + 100).min(ASSISTANTS);
            let data: Vec<Value> = (start..end).map(assistant).collect();
            let last = format!("asst_{:05}", end - 1);
            az.issued_cursors.push(last.clone());
            Reply::json(
                json!({"object": "list", "data": data, "first_id": format!("asst_{start:05}"),
                               "last_id": last, "has_more": end < ASSISTANTS}),
            )
        }
        "/api/projects/support/agents" => {
            if version != "2025-11-15-preview" {
                return azure_error(400, "BadRequest", "api-version 2025-11-15-preview expected");
            }
            Reply::json(
                json!({"object": "list", "has_more": false, "first_id": "refund-helper", "last_id": "ticket-router", "data": [
                    {"object": "agent", "id": "refund-helper", "name": "refund-helper", "versions": {"latest": {
                        "object": "agent.version", "id": "refund-helper:3", "name": "refund-helper", "version": "3",
                        "created_at": 1_762_000_000, "metadata": {},
                        "definition": {"kind": "prompt", "model": "gpt-4o-prod", "instructions": "Approve refunds under 50 EUR.",
                                       "tools": [{"type": "function", "function": {"name": "issue_refund", "parameters": {"type": "object"}}}],
                                       "rai_config": {"rai_policy_name": "refunds-strict"}}}}},
                    {"object": "agent", "id": "ticket-router", "name": "ticket-router",
                     "instance_identity": {"principal_id": AGENT_PRINCIPAL, "client_id": AGENT_CLIENT, "status": "active"},
                     "blueprint": {"principal_id": BLUEPRINT_PRINCIPAL, "client_id": "d4d4d4d4-1111-0000-0000-000000000004"},
                     "versions": {"latest": {
                        "object": "agent.version", "id": "ticket-router:1", "name": "ticket-router", "version": "1",
                        "created_at": 1_762_100_000, "metadata": {},
                        "definition": {"kind": "hosted", "image": "acme.azurecr.io/ticket-router:1.4.2", "cpu": "1", "memory": "2Gi",
                                       "container_protocol_versions": [{"protocol": "responses", "version": "v1"}],
                                       "environment_variables": {"ROUTER_DB_PASSWORD": "hunter2-local"}}}}}
                ]}),
            )
        }
        p if p
            == format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments"
            ) =>
        {
            role_assignments(&mut az, r)
        }
        p if p.starts_with(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        )) =>
        {
            role_definition(p.rsplit('/').next().unwrap())
        }
        "/api/projects/support/agents/refund-helper/versions" => {
            if version != "2025-11-15-preview" {
                return azure_error(400, "BadRequest", "api-version 2025-11-15-preview expected");
            }
            let v = |n: u32, tools: Value| {
                json!({"object": "agent.version", "id": format!("refund-helper:{n}"), "name": "refund-helper",
                       "version": n.to_string(), "created_at": 1_761_000_000 + n, "metadata": {},
                       "definition": {"kind": "prompt", "model": "gpt-4o-prod", "instructions": format!("Refund policy v{n}."),
                                      "tools": tools, "rai_config": {"rai_policy_name": "refunds-strict"}}})
            };
            let refund = json!({"type": "function", "function": {"name": "issue_refund", "parameters": {"type": "object"}}});
            let cancel = json!({"type": "function", "function": {"name": "cancel_subscription", "parameters": {"type": "object"}}});
            Reply::json(
                json!({"object": "list", "has_more": false, "first_id": "refund-helper:1", "last_id": "refund-helper:3",
                "data": [v(1, json!([refund])), v(2, json!([refund, cancel])), v(3, json!([refund]))]}),
            )
        }
        p if p.ends_with("/providers/Microsoft.Insights/eventtypes/management/values") => {
            activity_log(&mut az, r)
        }
        p if p.starts_with("/api/projects/support/threads") => runs_api(&mut az, r),
        "/api/projects/research/assistants"
        | "/api/projects/research/agents"
        | "/api/projects/research/threads" => {
            Reply::json(json!({"object": "list", "data": [], "has_more": false}))
        }
        _ => azure_error(
            404,
            "NotFound",
            &format!("no route for {} {}", r.method, r.path),
        ),
    }
}

/// The Activity Log (`GET …/eventtypes/management/values`, api-version 2015-04-01): the
/// `$filter` must bound `eventTimestamp` and name the resource provider; entries in the
/// window, one per page, pages linked by `nextLink`.
fn activity_log(az: &mut Azure, r: &Request) -> Reply {
    if r.path
        != format!("/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values")
    {
        return azure_error(
            403,
            "AuthorizationFailed",
            "The client does not have authorization to perform action 'Microsoft.Insights/eventtypes/values/read'",
        );
    }
    let filter = r.param("$filter").unwrap_or_default();
    az.activity_filters.push(filter.clone());
    let bound = |op: &str| {
        filter
            .split(&format!("eventTimestamp {op} '"))
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
    };
    let (Some(from), Some(to)) = (bound("ge"), bound("le")) else {
        return azure_error(400, "BadRequest", "eventTimestamp ge and le are required");
    };
    if !filter.ends_with(" and resourceProvider eq 'Microsoft.CognitiveServices'") {
        return azure_error(400, "BadRequest", "unexpected filter");
    }
    let matching: Vec<&Value> = az
        .activity
        .iter()
        .filter(|e| {
            let t = Timestamp::parse_rfc3339(e["eventTimestamp"].as_str().unwrap()).unwrap();
            t >= from && t <= to
        })
        .collect();
    let page: usize = match r.param("$skipToken") {
        None => 0,
        Some(t) if az.issued_cursors.contains(&t) => {
            t.trim_start_matches("activity-").parse().unwrap()
        }
        Some(_) => return azure_error(400, "BadRequest", "unknown skip token"),
    };
    let mut body =
        json!({"value": matching.get(page).map(|e| vec![(*e).clone()]).unwrap_or_default()});
    if page + 1 < matching.len() {
        let token = format!("activity-{}", page + 1);
        az.issued_cursors.push(token.clone());
        let mut next = url_of(az, r);
        next.query_pairs_mut().append_pair("$skipToken", &token);
        body["nextLink"] = json!(next.to_string());
    }
    Reply::json(body)
}

/// The request's own URL on the test server, without a skip token.
fn url_of(az: &Azure, r: &Request) -> url::Url {
    let mut url = url::Url::parse(&format!("{}{}", az.data_plane, r.path)).unwrap();
    for (k, v) in url::form_urlencoded::parse(r.query.as_bytes()) {
        if k != "$skipToken" {
            url.query_pairs_mut().append_pair(&k, &v);
        }
    }
    url
}

/// Threads, runs and run steps of the support project (api-version v1, newest first for
/// threads and runs): a thread of the last hour with a finished run and one still running,
/// and a month-old thread the read must not go into.
fn runs_api(az: &mut Azure, r: &Request) -> Reply {
    if r.param("api-version").as_deref() != Some("v1") || r.param("limit").as_deref() != Some("100")
    {
        return azure_error(400, "BadRequest", "api-version v1 and limit 100 expected");
    }
    let at = az.runs_at;
    let list = |data: Vec<Value>, more: bool| {
        let last = data.last().map(|d| d["id"].clone()).unwrap_or(Value::Null);
        Reply::json(
            json!({"object": "list", "data": data, "first_id": null, "last_id": last, "has_more": more}),
        )
    };
    match r.path.trim_start_matches("/api/projects/support/threads") {
        "" => {
            if r.param("order").as_deref() != Some("desc") {
                return azure_error(400, "BadRequest", "newest first expected");
            }
            list(
                vec![
                    json!({"id": "thread_new", "object": "thread", "created_at": at - 3600, "metadata": {}}),
                    json!({"id": "thread_old", "object": "thread", "created_at": at - 30 * 86_400, "metadata": {}}),
                ],
                true,
            )
        }
        "/thread_old/runs" => panic!("a thread older than the window was read"),
        "/thread_new/runs" => {
            let run = |id: &str, status: &str| {
                json!({"id": id, "object": "thread.run", "thread_id": "thread_new",
                "assistant_id": "asst_00000", "status": status, "model": "gpt-4o-prod", "created_at": at - 3000})
            };
            list(
                vec![
                    run(
                        "run_2",
                        if az.second_run_done {
                            "completed"
                        } else {
                            "in_progress"
                        },
                    ),
                    run("run_1", "completed"),
                ],
                false,
            )
        }
        "/thread_new/runs/run_1/steps" => {
            let step = |id: &str, status: &str, details: Value| {
                json!({"id": id, "object": "thread.run.step",
                "type": details["type"], "status": status, "assistant_id": "asst_00000", "thread_id": "thread_new",
                "run_id": "run_1", "created_at": at - 2990, "completed_at": if status == "completed" { json!(at - 2980) } else { Value::Null },
                "failed_at": if status == "failed" { json!(at - 2970) } else { Value::Null },
                "last_error": if status == "failed" { json!({"code": "tool_error", "message": "CRM answered 403"}) } else { Value::Null },
                "step_details": details})
            };
            match r.param("after").as_deref() {
                None => {
                    az.issued_cursors.push("step_2".into());
                    list(
                        vec![
                            step(
                                "step_1",
                                "completed",
                                json!({"type": "message_creation", "message_creation": {"message_id": "msg_1"}}),
                            ),
                            step(
                                "step_2",
                                "completed",
                                json!({"type": "tool_calls", "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": "{\"order_id\": \"A-4411\"}", "output": "shipped"}},
                            {"id": "call_2", "type": "mcp", "server_label": "github", "name": "search_code", "arguments": "{}", "output": "[]"}]}),
                            ),
                        ],
                        true,
                    )
                }
                Some("step_2") => list(
                    vec![step(
                        "step_3",
                        "failed",
                        json!({"type": "tool_calls", "tool_calls": [
                        {"id": "call_3", "type": "openapi", "openapi": {"name": "crm_getCustomer", "arguments": "{\"id\": \"c-77\"}"}}]}),
                    )],
                    false,
                ),
                Some(_) => azure_error(400, "BadRequest", "unknown cursor"),
            }
        }
        "/thread_new/runs/run_2/steps" => {
            assert!(
                az.second_run_done,
                "the steps of a run still in progress were read"
            );
            list(
                vec![
                    json!({"id": "step_9", "object": "thread.run.step", "type": "tool_calls", "status": "completed",
                "assistant_id": "asst_00000", "thread_id": "thread_new", "run_id": "run_2", "created_at": at - 2900,
                "completed_at": at - 2890, "step_details": {"type": "tool_calls", "tool_calls": [
                    {"id": "call_9", "type": "file_search", "file_search": {"results": [{"content": "refund policy text"}]}}]}}),
                ],
                false,
            )
        }
        other => azure_error(404, "NotFound", &format!("no route for {other}")),
    }
}

const PROJECT_PRINCIPAL: &str = "b2b2b2b2-0000-0000-0000-000000000002";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const BLOB_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
const AI_USER: &str = "53ca6127-db72-4b80-b1b0-d745d6d5456d";
/// The hosted agent's own Entra agent identity and the blueprint it was made from.
const AGENT_PRINCIPAL: &str = "c3c3c3c3-0000-0000-0000-000000000003";
const AGENT_CLIENT: &str = "c3c3c3c3-1111-0000-0000-000000000003";
const BLUEPRINT_PRINCIPAL: &str = "d4d4d4d4-0000-0000-0000-000000000004";

/// The project identity's role assignments across the subscription, two pages; Reader is
/// assigned twice, so its definition must be read once. The hosted agent's own identity
/// has one, on the project.
fn role_assignments(az: &mut Azure, r: &Request) -> Reply {
    let filter = r.param("$filter");
    let principal = [PROJECT_PRINCIPAL, AGENT_PRINCIPAL]
        .into_iter()
        .find(|p| filter.as_deref() == Some(&format!("principalId eq '{p}'")));
    let Some(principal) = principal else {
        return azure_error(400, "BadRequest", "a principalId filter was expected");
    };
    let assignment = |n: u32, role: &str, scope: String, condition: Option<&str>| {
        json!({
            "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/0000000{n}-aaaa-bbbb-cccc-dddddddddddd"),
            "name": format!("0000000{n}-aaaa-bbbb-cccc-dddddddddddd"),
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                "principalId": principal, "principalType": "ServicePrincipal", "scope": scope,
                "condition": condition, "conditionVersion": condition.map(|_| "2.0"),
                "createdOn": "2026-10-01T09:00:00.0000000Z"
            }
        })
    };
    if principal == AGENT_PRINCIPAL {
        return Reply::json(json!({"value": [
            assignment(5, AI_USER, format!("{}/projects/support", account_id("acme-foundry")), None),
        ]}));
    }
    let storage = format!(
        "/subscriptions/{SUB}/resourceGroups/kb-rg/providers/Microsoft.Storage/storageAccounts/acmekb"
    );
    match r.param("$skiptoken").as_deref() {
        None => {
            az.issued_cursors.push("rbac-2".into());
            Reply::json(json!({
                "value": [
                    assignment(1, READER, account_id("acme-foundry"), None),
                    assignment(2, BLOB_CONTRIBUTOR, storage,
                               Some("@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'kb'")),
                ],
                "nextLink": format!("{}/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20%27{PROJECT_PRINCIPAL}%27&$skiptoken=rbac-2", az.data_plane)
            }))
        }
        Some(t) if az.issued_cursors.iter().any(|c| c == t) => Reply::json(json!({"value": [
            assignment(3, CONTRIBUTOR, format!("/subscriptions/{SUB}/resourceGroups/agents-rg"), None),
            assignment(4, READER, format!("/subscriptions/{SUB}"), None),
        ]})),
        Some(_) => azure_error(400, "InvalidSkipToken", "not issued"),
    }
}

fn role_definition(guid: &str) -> Reply {
    let (name, permissions) = match guid {
        READER => (
            "Reader",
            json!([{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}]),
        ),
        CONTRIBUTOR => (
            "Contributor",
            json!([{"actions": ["*"], "notActions": [
            "Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action"], "dataActions": [], "notDataActions": []}]),
        ),
        AI_USER => (
            "Azure AI User",
            json!([{"actions": ["Microsoft.CognitiveServices/*/read"], "notActions": [],
                    "dataActions": ["Microsoft.CognitiveServices/*"], "notDataActions": []}]),
        ),
        BLOB_CONTRIBUTOR => (
            "Storage Blob Data Contributor",
            json!([{
            "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/delete",
                        "Microsoft.Storage/storageAccounts/blobServices/containers/read"],
            "notActions": [],
            "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
            "notDataActions": []}]),
        ),
        _ => return azure_error(404, "RoleDefinitionDoesNotExist", "no such role"),
    };
    Reply::json(json!({
        "id": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        "name": guid, "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {"roleName": name, "type": "BuiltInRole", "description": name,
                       "assignableScopes": ["/"], "permissions": permissions}
    }))
}

fn azure_error(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        ..Reply::json(json!({"error": {"code": code, "message": message}}))
    }
}

/// The Entra authority: client-credentials grants for the two audiences.
fn authority(seen_scopes: &Arc<Mutex<Vec<String>>>, r: &Request) -> Reply {
    if r.method != "POST" || r.path != format!("/{TENANT}/oauth2/v2.0/token") {
        return Reply {
            status: 404,
            ..Reply::json(json!({"error": "not_found"}))
        };
    }
    let form: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(r.body.as_bytes())
            .into_owned()
            .collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("client_id").map(String::as_str) != Some(CLIENT)
        || form.get("client_secret").map(String::as_str) != Some(SECRET)
    {
        return Reply {
            status: 401,
            ..Reply::json(json!({"error": "invalid_client"}))
        };
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    seen_scopes.lock().unwrap().push(scope.clone());
    let token = match scope.as_str() {
        "https://management.azure.com/.default" => ARM_TOKEN,
        "https://ai.azure.com/.default" => FOUNDRY_TOKEN,
        _ => {
            return Reply {
                status: 400,
                ..Reply::json(json!({"error": "invalid_scope"}))
            };
        }
    };
    Reply::json(
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
    server: SpecServer,
    entra: SpecServer,
    scopes: Arc<Mutex<Vec<String>>>,
    azure: Arc<Mutex<Azure>>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let azure = Arc::new(Mutex::new(Azure {
        data_plane: String::new(),
        throttled: false,
        request_response_logs: false,
        app_insights: false,
        eu_network_injection: false,
        issued_cursors: Vec::new(),
        wrong_token: Vec::new(),
        activity: Vec::new(),
        activity_filters: Vec::new(),
        runs_at: 0,
        second_run_done: false,
    }));
    let routed = azure.clone();
    let server = SpecServer::start(Arc::new(move |r: &Request| route(&routed, r)));
    azure.lock().unwrap().data_plane = server.url();
    let scopes = Arc::new(Mutex::new(Vec::new()));
    let seen = scopes.clone();
    let entra = SpecServer::start_tls(Arc::new(move |r: &Request| authority(&seen, r)));
    let config = root.join("agentward.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{}\"\n\n[[source]]\nname = \"foundry\"\nkind = \"azure-api\"\nendpoint = \"{}\"\nsubscriptions = [\"{SUB}\", \"{LOCKED_SUB}\"]\n",
            root.join("store").display(),
            server.url()
        ),
    )
    .unwrap();
    Setup {
        _dir: dir,
        root,
        config,
        server,
        entra,
        scopes,
        azure,
    }
}

fn agentward(s: &Setup, args: &[&str]) -> std::process::Output {
    bin()
        .arg("--config")
        .arg(&s.config)
        .args(args)
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_AUTHORITY_HOST", s.entra.https_url())
        .env(
            "SSL_CERT_FILE",
            common::repo_root().join("tests/data/test-ca.pem"),
        )
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("IDENTITY_ENDPOINT")
        .output()
        .unwrap()
}

fn scan(s: &Setup) -> Value {
    let out = agentward(s, &["scan", "--format", "json"]);
    // One subscription is locked: the scan is partial (exit 2) and says why.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn inventory(s: &Setup) -> Vec<Value> {
    let out = agentward(s, &["inventory", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["agents"].as_array().cloned().unwrap_or_default()
}

fn coverage(s: &Setup, id: &str) -> Vec<(String, String)> {
    let out = agentward(s, &["coverage", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    common::layer_statements(&out.stdout, id)
}

#[test]
fn foundry_agents_are_inventoried_with_their_real_models_through_every_page() {
    let s = setup();
    let summary = scan(&s);
    let source = &summary["sources"][0];
    let failures = source["failures"].to_string();
    assert!(
        failures.contains(&format!("subscription {LOCKED_SUB}: accounts not listed"))
            && failures.contains("403 AuthorizationFailed"),
        "{failures}"
    );
    assert_eq!(
        source["failures"].as_array().unwrap().len(),
        1,
        "{failures}"
    );
    let azure = &source["api"]["azure"];
    assert_eq!(
        azure["accounts"], 2,
        "the SpeechServices account is not a Foundry account"
    );
    assert_eq!(azure["projects"], 2);
    assert_eq!(azure["agents"], ASSISTANTS + 2);
    assert!(
        azure["credential"]
            .as_str()
            .unwrap()
            .contains("client secret"),
        "{azure}"
    );

    // Each audience got its own token from the authority, used where it belongs.
    let az = s.azure.lock().unwrap();
    assert!(az.wrong_token.is_empty(), "{:?}", az.wrong_token);
    drop(az);
    let mut scopes = s.scopes.lock().unwrap().clone();
    scopes.sort();
    scopes.dedup();
    assert_eq!(
        scopes,
        [
            "https://ai.azure.com/.default",
            "https://management.azure.com/.default"
        ]
    );
    // Cursors: ARM's nextLink followed, the data plane's `after` = the last id of each page.
    let pages: Vec<Option<String>> = s
        .server
        .requests_to("GET", "/api/projects/support/assistants")
        .iter()
        .map(|r| r.param("after"))
        .collect();
    assert_eq!(
        pages,
        [None, Some("asst_00099".into()), Some("asst_00199".into())]
    );
    // Throttled once and retried, then both pages.
    let accounts: Vec<Option<String>> = s
        .server
        .requests_to(
            "GET",
            &format!("/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/accounts"),
        )
        .iter()
        .map(|r| r.param("$skiptoken"))
        .collect();
    assert_eq!(accounts, [None, None, Some("accounts-2".into())]);

    let agents = inventory(&s);
    assert_eq!(agents.len(), ASSISTANTS + 2);
    let first = agent(&agents, "acme-foundry/support/asst_00000");
    assert_eq!(first["agent"]["scope"], SUB);
    assert_eq!(first["agent"]["location"], "eastus");
    assert_eq!(first["platform"]["value"], "azure-foundry-classic-agent");
    // The deployment name is joined to the model it serves.
    assert_eq!(
        first["declared_model"]["value"],
        "gpt-4o 2024-11-20 (OpenAI) (deployment gpt-4o-prod)"
    );
    assert_eq!(
        first["role"]["value"],
        "project support managed identity (principal b2b2b2b2-0000-0000-0000-000000000002)"
    );
    let config = &first["configs"][0]["value"];
    assert_eq!(config["guardrail"]["id"], "Microsoft.DefaultV2");
    assert_eq!(config["instruction_sha256"].as_str().unwrap().len(), 64);
    let tools: Vec<(String, String)> = config["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["kind"].as_str().unwrap().into(),
                t["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        tools,
        [
            ("builtin".into(), "code_interpreter".into()),
            ("openapi".into(), "crm".into()),
            ("builtin".into(), "file_search".into()),
            ("function".into(), "get_order".into()),
            ("mcp".into(), "github".into()),
        ]
    );
    let crm = config["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "crm")
        .unwrap();
    assert_eq!(crm["operations"].as_array().unwrap().len(), 2);
    assert_eq!(crm["executor"], "https://crm.internal.contoso.example");
    assert_eq!(
        config["knowledge_bases"],
        json!([
            "Azure AI Search index kb-articles (connection /subscriptions/x/connections/search)",
            "vector store vs_policies"
        ])
    );
    // What the project's identity may do across the subscription, every page, each role
    // joined to its definition (read once, though Reader is assigned twice).
    let grants = first["identity_grants"]["value"].as_array().unwrap();
    let roles: Vec<(&str, &str)> = grants
        .iter()
        .map(|g| (g["role"].as_str().unwrap(), g["scope"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            (
                "Contributor",
                &*format!("/subscriptions/{SUB}/resourceGroups/agents-rg")
            ),
            ("Reader", &*format!("/subscriptions/{SUB}")),
            ("Reader", &*account_id("acme-foundry")),
            (
                "Storage Blob Data Contributor",
                &*format!(
                    "/subscriptions/{SUB}/resourceGroups/kb-rg/providers/Microsoft.Storage/storageAccounts/acmekb"
                )
            ),
        ]
    );
    assert_eq!(grants[0]["actions"], json!(["*"]));
    assert_eq!(grants[0]["not_actions"].as_array().unwrap().len(), 3);
    assert!(grants[3]["condition"].as_str().unwrap().contains("'kb'"));
    assert_eq!(
        grants[3]["data_actions"][1],
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    );
    let reader_reads = s
        .server
        .requests_to(
            "GET",
            &format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
            ),
        )
        .len();
    assert_eq!(reader_reads, 1);
    let eu = agents
        .iter()
        .filter(|a| {
            a["agent"]["id"]
                .as_str()
                .unwrap()
                .starts_with("acme-foundry-eu/")
        })
        .count();
    assert_eq!(eu, 0, "the EU project has no agents");
    // Each RAI policy an agent uses, filter by filter.
    let guardrail = |a: &Value, id: &str| -> Value {
        a["guardrail_configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["value"]["id"] == id)
            .map(|g| g["value"].clone())
            .unwrap_or_else(|| panic!("no guardrail {id} in {a}"))
    };
    let default_v2 = guardrail(first, "Microsoft.DefaultV2");
    assert_eq!(
        default_v2["content_filters"],
        json!([
            {"kind": "HATE", "input": "BLOCK Medium", "output": "BLOCK Medium"},
            {"kind": "JAILBREAK", "input": "BLOCK"},
            {"kind": "PROTECTED_MATERIAL_TEXT", "output": "BLOCK"}
        ])
    );
    let refund = agent(&agents, "acme-foundry/support/refund-helper");
    let strict = guardrail(refund, "refunds-strict");
    assert!(
        strict["content_filters"]
            .as_array()
            .unwrap()
            .contains(&json!({"kind": "SELF_HARM", "output": "NONE"})),
        "{strict}"
    );
    assert_eq!(
        strict["word_filters"],
        json!(["blocklist account-numbers (Completion, blocking)"])
    );
    assert_eq!(
        refund["identity_grants"]["value"],
        first["identity_grants"]["value"]
    );
    // An agent with its own Entra agent identity acts as it: its roles, then the project
    // identity's (tools authenticating as the project still use them), each labelled.
    let router = agent(&agents, "acme-foundry/support/ticket-router");
    assert_eq!(
        router["role"]["value"],
        format!(
            "agent identity {AGENT_PRINCIPAL} (client {AGENT_CLIENT}, blueprint {BLUEPRINT_PRINCIPAL})"
        )
    );
    let held: Vec<(&str, &str, &str)> = router["identity_grants"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["role"].as_str().unwrap(),
                g["scope"].as_str().unwrap(),
                g["holder"].as_str().unwrap(),
            )
        })
        .collect();
    let project_identity =
        format!("project support managed identity (principal {PROJECT_PRINCIPAL})");
    assert_eq!(held.len(), 5, "{held:?}");
    assert_eq!(
        held[0],
        (
            "Azure AI User",
            &*format!("{}/projects/support", account_id("acme-foundry")),
            &*format!("its agent identity {AGENT_PRINCIPAL}")
        )
    );
    assert!(
        held[1..].iter().all(|(.., h)| *h == project_identity),
        "{held:?}"
    );
    assert_eq!(held[1].0, "Contributor");
    assert_eq!(
        router["configs"][0]["value"]["role"],
        router["role"]["value"]
    );
    let router_text = String::from_utf8(agentward(&s, &["inventory"]).stdout).unwrap();
    assert!(
        router_text.contains(&format!(
            "Azure AI User on accounts/acme-foundry/projects/support (resource group agents-rg) (held by its agent identity {AGENT_PRINCIPAL})"
        )),
        "{router_text}"
    );
    // Contributor on the resource group lets whatever steers an agent change anything there.
    let findings: Vec<Value> =
        serde_json::from_slice(&agentward(&s, &["findings", "--format", "json"]).stdout).unwrap();
    let unbounded: Vec<&Value> = findings
        .iter()
        .filter(|f| f["check"] == "unbounded-identity-grant")
        .collect();
    assert_eq!(
        unbounded.len(),
        ASSISTANTS + 2,
        "one per agent of the project"
    );
    assert_eq!(unbounded[0]["severity"], "high");
    // The agent reading files, an OpenAPI tool and an MCP server through a policy with no
    // Indirect Attack filter is open to injected instructions; the one whose policy has it
    // is not, and agents without tools or knowledge read nothing others write.
    let open: Vec<&str> = findings
        .iter()
        .filter(|f| f["check"] == "no-prompt-attack-filter")
        .map(|f| f["agent"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["acme-foundry/support/asst_00000"]);
    assert!(
        unbounded[0]["title"].as_str().unwrap().ends_with(&format!(
            "may perform any operation on /subscriptions/{SUB}/resourceGroups/agents-rg"
        )),
        "{}",
        unbounded[0]["title"]
    );
    assert_eq!(refund["platform"]["value"], "azure-foundry-prompt-agent");
    // Every version, the older ones marked: version 2 could cancel subscriptions.
    let versions: Vec<(String, String, Vec<String>)> = refund["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let c = &c["value"];
            (
                c["version"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["tools"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["name"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let versions_of = |v: &str| versions.iter().find(|(n, ..)| n == v).unwrap().clone();
    assert_eq!(versions.len(), 3, "{versions:?}");
    assert_eq!(
        versions_of("2"),
        (
            "2".into(),
            "prompt agent, superseded by version 3".into(),
            vec!["cancel_subscription".into(), "issue_refund".into()]
        )
    );
    assert_eq!(versions_of("3").1, "prompt agent");
    let router_versions = s
        .server
        .requests()
        .iter()
        .filter(|r| r.path.contains("/agents/ticket-router/versions"))
        .count();
    assert_eq!(
        router_versions, 0,
        "an agent at version 1 has no older versions"
    );
    assert!(
        refund["configs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["value"]["guardrail"]["id"] == "refunds-strict")
    );
    let router = agent(&agents, "acme-foundry/support/ticket-router");
    assert_eq!(router["platform"]["value"], "azure-foundry-hosted-agent");
    // No instruction text and no environment value reaches the store.
    assert!(!common::grep_dir(
        &s.root.join("store"),
        "Never reveal account numbers"
    ));
    assert!(!common::grep_dir(&s.root.join("store"), "hunter2-local"));
}

#[test]
fn coverage_flips_exactly_the_layers_a_setting_decides() {
    let s = setup();
    scan(&s);
    // The agent with tools: one without has its tool layer "not applicable".
    let support = "acme-foundry/support/asst_00000";
    let before = coverage(&s, support);
    let layers: Vec<&str> = before.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        layers,
        [
            "control",
            "identity_api",
            "kernel",
            "network",
            "prompt",
            "tool_invocation"
        ]
    );
    let text =
        |c: &[(String, String)], layer: &str| c.iter().find(|(l, _)| l == layer).unwrap().1.clone();
    assert!(
        text(&before, "identity_api").contains("sends RequestResponse"),
        "{before:?}"
    );
    assert!(text(&before, "network").contains("injects no network"));

    type Flip = (fn(&mut Azure), &'static [&'static str], &'static str);
    let flips: [Flip; 2] = [
        (
            |a| a.request_response_logs = true,
            &["identity_api"],
            "RequestResponse logs (caller object id",
        ),
        (
            |a| a.app_insights = true,
            &["prompt", "tool_invocation"],
            "sends traces to Application Insights",
        ),
    ];
    let mut current = before;
    for (change, layers, expected) in flips {
        change(&mut s.azure.lock().unwrap());
        scan(&s);
        let after = coverage(&s, support);
        for ((l, was), (_, now)) in current.iter().zip(&after) {
            if layers.contains(&l.as_str()) {
                assert_ne!(was, now, "{l} did not change");
            } else {
                assert_eq!(was, now, "{l} changed when only {layers:?} should");
            }
        }
        assert!(text(&after, layers[0]).contains(expected), "{after:?}");
        current = after;
    }
    // Network injection is the EU account's: its agents' network layer flips, not the US one's.
    s.azure.lock().unwrap().eu_network_injection = true;
    scan(&s);
    assert_eq!(coverage(&s, support), current);
    let no_tools = coverage(&s, "acme-foundry/support/asst_00001");
    assert!(
        text(&no_tools, "tool_invocation").contains("its configuration lists none"),
        "{no_tools:?}"
    );
}

#[test]
fn an_app_service_managed_identity_and_a_replayed_recording_give_the_same_inventory() {
    let s = setup();
    let headers_seen = Arc::new(Mutex::new(Vec::new()));
    let seen = headers_seen.clone();
    let identity = SpecServer::start(Arc::new(move |r: &Request| {
        seen.lock().unwrap().push((
            r.header("x-identity-header").map(str::to_string),
            r.param("resource"),
        ));
        let token = match r.param("resource").as_deref() {
            Some("https://management.azure.com") => ARM_TOKEN,
            Some("https://ai.azure.com") => FOUNDRY_TOKEN,
            _ => {
                return Reply {
                    status: 400,
                    ..Reply::json(json!({"error": "bad resource"}))
                };
            }
        };
        Reply::json(
            json!({"access_token": token, "expires_on": "4102444800", "resource": r.param("resource"), "token_type": "Bearer"}),
        )
    }));
    let recording = s.root.join("recording");
    let out = bin()
        .arg("--config")
        .arg(&s.config)
        .args(["record", recording.to_str().unwrap(), "--format", "json"])
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", identity.url()))
        .env("IDENTITY_HEADER", "local-identity-header")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        summary["sources"][0]["api"]["azure"]["credential"]
            .as_str()
            .unwrap()
            .contains("managed identity")
    );
    assert!(s.azure.lock().unwrap().wrong_token.is_empty());
    assert!(
        headers_seen
            .lock()
            .unwrap()
            .iter()
            .all(|(h, _)| h.as_deref() == Some("local-identity-header"))
    );
    let exchanges = std::fs::read_to_string(recording.join("foundry/exchanges.jsonl")).unwrap();
    assert!(
        !exchanges.contains("Never reveal account numbers") && !exchanges.contains("hunter2-local")
    );
    let recorded = inventory(&s);

    let offline = s.root.join("offline.toml");
    std::fs::write(
        &offline,
        std::fs::read_to_string(&s.config).unwrap().replace(
            &s.root.join("store").display().to_string(),
            &s.root.join("store2").display().to_string(),
        ),
    )
    .unwrap();
    let replayed = bin()
        .args([
            "--config",
            offline.to_str().unwrap(),
            "scan",
            "--format",
            "json",
            "--replay",
        ])
        .arg(&recording)
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("IDENTITY_ENDPOINT")
        .output()
        .unwrap();
    assert_eq!(replayed.status.code(), Some(2), "{}", stderr(&replayed));
    let out = bin()
        .args([
            "--config",
            offline.to_str().unwrap(),
            "inventory",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let strip = |agents: &[Value]| -> Vec<Value> {
        agents
            .iter()
            .map(|a| {
                json!([
                    a["agent"],
                    a["name"]["value"],
                    a["declared_model"]["value"],
                    a["configs"][0]["value"]
                ])
            })
            .collect()
    };
    assert_eq!(strip(v["agents"].as_array().unwrap()), strip(&recorded));
}

/// One Activity Log entry (EventData) of a Cognitive Services resource.
fn activity_entry(
    id: &str,
    operation: &str,
    resource: &str,
    status: &str,
    at: Timestamp,
    caller: &str,
) -> Value {
    json!({
        "authorization": {"action": operation, "scope": resource},
        "caller": caller,
        "channels": "Operation",
        "claims": {"appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "idtyp": "user", "ipaddr": "198.51.100.4"},
        "correlationId": format!("corr-{id}"),
        "eventDataId": id,
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": at.rfc3339(),
        "httpRequest": {"clientRequestId": "req-1", "clientIpAddress": "198.51.100.4", "method": "PUT"},
        "id": format!("{resource}/events/{id}"),
        "level": "Informational",
        "resourceGroupName": "agents-rg",
        "resourceProviderName": {"value": "Microsoft.CognitiveServices", "localizedValue": "Microsoft.CognitiveServices"},
        "resourceId": resource,
        "operationId": format!("op-{id}"),
        "operationName": {"value": operation, "localizedValue": operation},
        "properties": {"requestbody": "{\"properties\": {\"credentials\": {\"key\": \"s3cr3t-key\"}}}"},
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": if status == "Failed" { "Forbidden" } else { "" }, "localizedValue": ""},
        "submissionTimestamp": at.rfc3339(),
        "subscriptionId": SUB,
        "tenantId": TENANT
    })
}

#[test]
fn run_steps_and_the_activity_log_become_tool_and_control_events_read_once() {
    let s = setup();
    let config = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, format!("{config}logging_api = true\n")).unwrap();
    let now = common::now();
    let ago = |minutes: i64| Timestamp(now.millis() - minutes * 60_000);
    let support = format!("{}/projects/support", account_id("acme-foundry"));
    {
        let mut az = s.azure.lock().unwrap();
        az.runs_at = now.millis() / 1000;
        az.activity = vec![
            activity_entry(
                "ev-1s",
                "Microsoft.CognitiveServices/accounts/projects/write",
                &support,
                "Started",
                ago(60),
                "ops@contoso.example",
            ),
            activity_entry(
                "ev-1",
                "Microsoft.CognitiveServices/accounts/projects/write",
                &support,
                "Succeeded",
                ago(59),
                "ops@contoso.example",
            ),
            activity_entry(
                "ev-2",
                "Microsoft.CognitiveServices/accounts/deployments/write",
                &format!("{}/deployments/gpt-4o-prod", account_id("acme-foundry")),
                "Failed",
                ago(30),
                "dev@partner.example",
            ),
            activity_entry(
                "ev-3",
                "Microsoft.CognitiveServices/accounts/write",
                &account_id("acme-foundry-eu"),
                "Succeeded",
                ago(20),
                "ops@contoso.example",
            ),
            // Older than the first read's window.
            activity_entry(
                "ev-0",
                "Microsoft.CognitiveServices/accounts/write",
                &account_id("acme-foundry"),
                "Succeeded",
                ago(8 * 24 * 60),
                "ops@contoso.example",
            ),
        ];
    }
    let foundry = |summary: &Value| {
        summary["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "foundry")
            .unwrap()
            .clone()
    };
    let first = scan(&s);
    let azure = &foundry(&first)["api"]["azure"];
    assert_eq!(azure["tool_calls"], 3, "{azure}");
    assert_eq!(
        azure["activity_entries"], 3,
        "Started is followed by its final entry; ev-0 is too old"
    );
    let failures = foundry(&first)["failures"].to_string();
    assert!(
        failures.contains(&format!("subscription {LOCKED_SUB}: Activity Log not read")),
        "{failures}"
    );
    assert!(
        !common::grep_dir(&s.root.join("store/pulled"), "s3cr3t-key")
            && !common::grep_dir(&s.root.join("store/pulled"), "A-4411")
            && !common::grep_dir(&s.root.join("store"), "refund policy text"),
        "request bodies and tool arguments stay out of the store"
    );

    // The second run ends; the same Activity Log entries come back and are not read again.
    s.azure.lock().unwrap().second_run_done = true;
    let second = scan(&s);
    let azure = &foundry(&second)["api"]["azure"];
    assert_eq!(azure["tool_calls"], 1, "{azure}");
    assert_eq!(azure["activity_entries"], 0);
    let filters = s.azure.lock().unwrap().activity_filters.clone();
    assert!(
        filters
            .iter()
            .all(|f| f.contains(" and resourceProvider eq 'Microsoft.CognitiveServices'"))
    );

    let out = agentward(&s, &["events", "--format", "ocsf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut by_layer: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut unattributed = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let a = &e["unmapped"]["agentward"];
        match a["agent"]["id"].as_str() {
            Some("acme-foundry/support/asst_00000") => by_layer
                .entry(a["layer"].as_str().unwrap().to_string())
                .or_default()
                .push(format!(
                    "{} {}",
                    e["api"]["operation"].as_str().unwrap(),
                    e["status"].as_str().unwrap()
                )),
            None => unattributed += 1,
            _ => {}
        }
    }
    assert_eq!(
        unattributed, 1,
        "the EU account has no agents: its change is kept unattributed"
    );
    let mut tools = by_layer.remove("tool_invocation").unwrap_or_default();
    tools.sort();
    assert_eq!(
        tools,
        [
            "file_search Success",
            "function Success",
            "mcp Success",
            "openapi Failure"
        ]
    );
    let mut control = by_layer.remove("control").unwrap_or_default();
    control.sort();
    assert_eq!(
        control,
        [
            "Microsoft.CognitiveServices/accounts/deployments/write Failure",
            "Microsoft.CognitiveServices/accounts/projects/write Success",
        ]
    );

    let layer = |id: &str, layer: &str| {
        coverage(&s, id)
            .into_iter()
            .find(|(l, _)| l == layer)
            .unwrap()
            .1
    };
    let tool = layer("acme-foundry/support/asst_00000", "tool_invocation");
    assert!(
        tool.contains("foundry.logs: 4 records of tool calls"),
        "{tool}"
    );
    let control = layer("acme-foundry/support/asst_00000", "control");
    assert!(
        control.contains("foundry.logs: 2 records of Activity Log changes"),
        "{control}"
    );
    let versioned = layer("acme-foundry/support/refund-helper", "tool_invocation");
    assert!(
        versioned.contains("run steps exist for classic agents only"),
        "{versioned}"
    );
    // A classic agent without tool calls: run steps were read, and held none of its.
    let idle = layer("acme-foundry/support/asst_00002", "tool_invocation");
    assert!(
        idle.contains("its configuration lists none") || idle.contains("no tool call in them"),
        "{idle}"
    );
}
