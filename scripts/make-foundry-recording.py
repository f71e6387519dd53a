#!/usr/bin/env python3
"""Generates examples/managed-agents/recording/foundry-agents/: one Azure subscription's AI
Foundry agents as `agentward record` writes them, so the quickstart reads them offline.

The subscription holds one AIServices account, acme-foundry (eastus, no network
injection), with one project, `support`, and two model deployments:

  * `support-desk` (classic agent, /assistants v1): deployment gpt-4o-prod (gpt-4o
    2024-11-20), file search over the policy vector store, an OpenAPI tool into the CRM
    (two operations) and the GitHub MCP server;
  * `refund-helper` (versioned prompt agent, 2025-11-15-preview, version 3): deployment
    gpt-4o-mini-prod, one function tool, RAI policy refunds-strict; its version 2 could
    also close customer accounts;
  * `ticket-router` (hosted agent): a container image; its environment values are never
    recorded. It has its own Entra agent identity (`instance_identity`, made from a
    blueprint), which may send to the tickets Service Bus queue namespace.

The account's diagnostic setting sends Audit logs to a Log Analytics workspace but not
RequestResponse, and the project has no Application Insights connection (no tracing).

Content filtering: the deployments use Microsoft.DefaultV2 (Jailbreak shield on, no
Indirect Attack filter), so support-desk, which reads files, a CRM API and an MCP server,
is open to instructions injected in them; refund-helper uses refunds-strict, which adds
the Indirect Attack filter and an account-number blocklist.

What the agents did (the source reads it with logging_api = true): support-desk's runs of
the last days — one looked a customer up in the CRM, searched the policy library and
GitHub issues; a later one tried to add a note to a customer's record and the CRM refused
(a failed tool call); one run is still in progress and is not read. The Activity Log shows
the CI service principal changing the gpt-4o-mini deployment, a person re-pointing the
project's search connection, and a partner's account failing to change the account's
network rules. Times are relative to when the recording is made; the recording keeps that
moment, so a replay asks for the same windows.

The project's managed identity (the identity of agents without their own, and of tools
set to authenticate as the project) holds Azure AI User on the account,
Storage Blob Data Reader on the policy documents' storage account, and Contributor on the
whole support-ai resource group (someone's shortcut: it can change the account itself).

How: this script serves those answers on 127.0.0.1 in the shapes of the ARM
Microsoft.CognitiveServices 2025-06-01 and Microsoft.Insights diagnosticSettings
references and the Foundry agents data plane, with an App Service managed-identity token
endpoint, and runs `agentward record` against it: every request is the one the client
really sends, authenticated by azure_identity. A request it has no answer for fails the
run. Deterministic: the recording is written in call order. Run from the repository root
after `cargo build`:
    python3 scripts/make-foundry-recording.py
"""
import json
import os
import time
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "managed-agents")
SUB = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/support-ai/providers/Microsoft.CognitiveServices/accounts/acme-foundry"
TOKENS = {"https://management.azure.com": "arm-example-token", "https://ai.azure.com": "foundry-example-token"}

PROJECT_PRINCIPAL = "8d4f2b6a-1e3c-4a5b-9c7d-0e1f2a3b4c5d"
ROUTER_PRINCIPAL = "5b7e9c1d-3f2a-4e6b-8d0c-1a2b3c4d5e6f"
ROUTER_CLIENT = "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b"
ROUTER_BLUEPRINT = "7c6b5a4f-3e2d-4c1b-9a0f-8e7d6c5b4a39"
SERVICE_BUS_SENDER = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
AI_USER = "53ca6127-db72-4b80-b1b0-d745d6d5456d"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
ROLES = {
    AI_USER: ("Azure AI User", {"actions": ["Microsoft.CognitiveServices/*/read", "Microsoft.Authorization/*/read"],
                                "notActions": [], "dataActions": ["Microsoft.CognitiveServices/*"], "notDataActions": []}),
    BLOB_READER: ("Storage Blob Data Reader", {
        "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read",
                    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
        "notActions": [], "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
        "notDataActions": []}),
    SERVICE_BUS_SENDER: ("Azure Service Bus Data Sender", {
        "actions": ["Microsoft.ServiceBus/*/queues/read", "Microsoft.ServiceBus/*/topics/read",
                    "Microsoft.ServiceBus/*/topics/subscriptions/read"],
        "notActions": [], "dataActions": ["Microsoft.ServiceBus/*/send/action"], "notDataActions": []}),
    CONTRIBUTOR: ("Contributor", {"actions": ["*"], "notActions": [
        "Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
        "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
        "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete"],
        "dataActions": [], "notDataActions": []}),
}


def rai_filter(name, source, enabled, threshold):
    f = {"name": name, "source": source, "enabled": enabled, "blocking": enabled}
    if threshold:
        f["severityThreshold"] = threshold
    return f


def role_assignment(n, role, scope, principal=PROJECT_PRINCIPAL):
    name = f"{n:08d}-5e1f-4c2a-9b3d-7a6c5b4e3d2f"
    return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "name": name,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                           "principalId": principal, "principalType": "ServicePrincipal", "scope": scope,
                           "condition": None, "conditionVersion": None, "createdOn": "2026-09-30T14:02:11.4410000Z"}}


unanswered = []
state = {"endpoint": ""}


ROLE_ASSIGNMENTS = {
    PROJECT_PRINCIPAL: {"value": [
        role_assignment(1, AI_USER, ACCOUNT),
        role_assignment(2, BLOB_READER, f"/subscriptions/{SUB}/resourceGroups/support-docs/providers/Microsoft.Storage/storageAccounts/acmepolicies"),
        role_assignment(3, CONTRIBUTOR, f"/subscriptions/{SUB}/resourceGroups/support-ai"),
    ]},
    ROUTER_PRINCIPAL: {"value": [
        role_assignment(4, SERVICE_BUS_SENDER,
                        f"/subscriptions/{SUB}/resourceGroups/support-ai/providers/Microsoft.ServiceBus/namespaces/acme-tickets",
                        ROUTER_PRINCIPAL),
    ]},
}


def arm_answers():
    project_endpoint = f"{state['endpoint']}/api/projects/support"
    return {
        f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/accounts": {"value": [
            {"id": ACCOUNT, "name": "acme-foundry", "kind": "AIServices", "location": "eastus",
             "sku": {"name": "S0"}, "identity": {"type": "SystemAssigned", "principalId": "3c0e8a51-7d2b-4f6e-9a14-5b8c2d7e1f90"},
             "properties": {"endpoint": "https://acme-foundry.cognitiveservices.azure.com/",
                            "allowProjectManagement": True, "publicNetworkAccess": "Enabled"}}]},
        f"{ACCOUNT}/deployments": {"value": [
            {"name": "gpt-4o-prod", "sku": {"name": "GlobalStandard", "capacity": 150},
             "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
                            "raiPolicyName": "Microsoft.DefaultV2", "provisioningState": "Succeeded"}},
            {"name": "gpt-4o-mini-prod", "sku": {"name": "GlobalStandard", "capacity": 300},
             "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2024-07-18"},
                            "raiPolicyName": "Microsoft.DefaultV2", "provisioningState": "Succeeded"}}]},
        f"{ACCOUNT}/providers/Microsoft.Insights/diagnosticSettings": {"value": [
            {"name": "to-security-workspace", "properties": {
                "workspaceId": f"/subscriptions/{SUB}/resourceGroups/sec/providers/Microsoft.OperationalInsights/workspaces/security-law",
                "logs": [{"category": "Audit", "enabled": True}, {"category": "RequestResponse", "enabled": False},
                         {"category": "AzureOpenAIRequestUsage", "enabled": False}, {"category": "Trace", "enabled": False}]}}]},
        f"{ACCOUNT}/projects": {"value": [
            {"id": f"{ACCOUNT}/projects/support", "name": "acme-foundry/support", "location": "eastus",
             "identity": {"type": "SystemAssigned", "principalId": "8d4f2b6a-1e3c-4a5b-9c7d-0e1f2a3b4c5d"},
             "properties": {"displayName": "support", "isDefault": True,
                            "endpoints": {"AI Foundry API": project_endpoint}}}]},
        f"{ACCOUNT}/raiPolicies": {"value": [
            {"id": f"{ACCOUNT}/raiPolicies/Microsoft.DefaultV2", "name": "Microsoft.DefaultV2",
             "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
             "properties": {"type": "SystemManaged", "mode": "Blocking", "contentFilters": [
                 *[rai_filter(n, src, True, "Medium") for n in ("Hate", "Sexual", "Violence", "Selfharm")
                   for src in ("Prompt", "Completion")],
                 rai_filter("Jailbreak", "Prompt", True, None),
                 rai_filter("Protected Material Text", "Completion", True, None),
                 rai_filter("Protected Material Code", "Completion", False, None)]}},
            {"id": f"{ACCOUNT}/raiPolicies/refunds-strict", "name": "refunds-strict",
             "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
             "properties": {"type": "UserManaged", "mode": "Blocking", "basePolicyName": "Microsoft.DefaultV2",
                            "contentFilters": [
                                *[rai_filter(n, src, True, "Low") for n in ("Hate", "Sexual", "Violence", "Selfharm")
                                  for src in ("Prompt", "Completion")],
                                rai_filter("Jailbreak", "Prompt", True, None),
                                rai_filter("Indirect Attack", "Prompt", True, None),
                                rai_filter("Protected Material Text", "Completion", True, None)],
                            "customBlocklists": [{"blocklistName": "account-numbers", "blocking": True,
                                                  "source": "Completion"}]}}]},
        **{f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}": {
            "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}", "name": guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": name, "type": "BuiltInRole", "description": name, "assignableScopes": ["/"],
                           "permissions": [permissions]}} for guid, (name, permissions) in ROLES.items()},
        f"{ACCOUNT}/projects/support/connections": {"value": [
            {"name": "policies-search", "properties": {"category": "CognitiveSearch", "authType": "AAD",
                                                        "target": "https://acme-search.search.windows.net"}}]},
    }


CLASSIC = {"object": "list", "has_more": False, "first_id": "asst_7Hq2mXb0", "last_id": "asst_7Hq2mXb0", "data": [{
    "id": "asst_7Hq2mXb0", "object": "assistant", "created_at": 1759312800, "name": "support-desk",
    "description": "Answers customers from the policy library and the CRM",
    "model": "gpt-4o-prod",
    "instructions": "You are Acme's support desk. Answer from the policy library; look customers up in the CRM; never read out payment details.",
    "tools": [
        {"type": "file_search"},
        {"type": "openapi", "openapi": {"name": "crm", "description": "Customer records",
            "spec": {"openapi": "3.0.1", "info": {"title": "CRM", "version": "2"},
                     "servers": [{"url": "https://crm.internal.acme.example"}],
                     "paths": {"/customers/{id}": {"get": {"operationId": "getCustomer"}},
                               "/customers/{id}/notes": {"post": {"operationId": "addCustomerNote"}}}},
            "auth": {"type": "managed_identity", "security_scheme": {"audience": "api://acme-crm"}}}},
        {"type": "mcp", "server_label": "github", "server_url": "https://api.githubcopilot.com/mcp/",
         "allowed_tools": ["search_issues", "get_issue"]}],
    "tool_resources": {"file_search": {"vector_store_ids": ["vs_policy_library"]}},
    "temperature": 0.3, "top_p": 1.0, "metadata": {"owner": "support-platform"}}]}

VERSIONED = {"object": "list", "has_more": False, "first_id": "refund-helper", "last_id": "ticket-router", "data": [
    {"object": "agent", "id": "refund-helper", "name": "refund-helper", "versions": {"latest": {
        "object": "agent.version", "id": "refund-helper:3", "name": "refund-helper", "version": "3",
        "created_at": 1761900000, "metadata": {},
        "definition": {"kind": "prompt", "model": "gpt-4o-mini-prod",
                       "instructions": "Approve refunds under 50 EUR; hand anything else to a person.",
                       "tools": [{"type": "function", "function": {"name": "issue_refund", "description": "Refund an order",
                                                                    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}}}}}],
                       "rai_config": {"rai_policy_name": "refunds-strict"}}}}},
    {"object": "agent", "id": "ticket-router", "name": "ticket-router",
     "instance_identity": {"principal_id": ROUTER_PRINCIPAL, "client_id": ROUTER_CLIENT, "status": "active"},
     "blueprint": {"principal_id": ROUTER_BLUEPRINT, "client_id": "2d3c4b5a-6f7e-4d8c-9b0a-1f2e3d4c5b6a"},
     "versions": {"latest": {
        "object": "agent.version", "id": "ticket-router:1", "name": "ticket-router", "version": "1",
        "created_at": 1762300000, "metadata": {},
        "definition": {"kind": "hosted", "image": "acmeregistry.azurecr.io/ticket-router:1.4.2", "cpu": "1", "memory": "2Gi",
                       "container_protocol_versions": [{"protocol": "responses", "version": "v1"}],
                       "environment_variables": {"ROUTER_QUEUE_URL": "https://queue.internal.acme.example"}}}}}]}

# refund-helper's history: version 1 could only refund; version 2 also closed accounts (a
# tool removed again in version 3, the latest above).
REFUND_LATEST = VERSIONED["data"][0]["versions"]["latest"]
REFUND_TOOL = REFUND_LATEST["definition"]["tools"][0]
CLOSE_ACCOUNT = {"type": "function", "function": {"name": "close_account", "description": "Close a customer account",
                                                  "parameters": {"type": "object", "properties": {"customer_id": {"type": "string"}}}}}


def refund_version(n, tools, created):
    return {**REFUND_LATEST, "id": f"refund-helper:{n}", "version": str(n), "created_at": created,
            "definition": {**REFUND_LATEST["definition"], "tools": tools}}


REFUND_VERSIONS = {"object": "list", "has_more": False, "first_id": "refund-helper:1", "last_id": "refund-helper:3",
                   "data": [refund_version(1, [REFUND_TOOL], 1760300000),
                            refund_version(2, [REFUND_TOOL, CLOSE_ACCOUNT], 1761100000),
                            REFUND_LATEST]}


NOW = int(time.time())
SUPPORT_DESK = "asst_7Hq2mXb0"


def iso(seconds_ago):
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(NOW - seconds_ago))


def activity(n, operation, resource, status, seconds_ago, caller, identity_type, sub_status=""):
    return {
        "authorization": {"action": operation, "scope": resource},
        "caller": caller, "channels": "Operation",
        "claims": {"appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "idtyp": identity_type},
        "correlationId": f"5f0c9e1a-0000-4000-8000-00000000000{n}", "eventDataId": f"7a1d3c2b-0000-4000-9000-00000000000{n}",
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": iso(seconds_ago), "submissionTimestamp": iso(seconds_ago - 40),
        "httpRequest": {"clientRequestId": f"req-{n}", "clientIpAddress": "203.0.113.24", "method": "PUT"},
        "id": f"{resource}/events/{n}", "level": "Error" if status == "Failed" else "Informational",
        "resourceGroupName": "support-ai", "resourceId": resource, "operationId": f"op-{n}",
        "resourceProviderName": {"value": "Microsoft.CognitiveServices", "localizedValue": "Microsoft.CognitiveServices"},
        "operationName": {"value": operation, "localizedValue": operation},
        "properties": {"statusCode": "Forbidden" if status == "Failed" else "OK"},
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": sub_status, "localizedValue": sub_status},
        "subscriptionId": SUB, "tenantId": "9b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d5e",
    }


ACTIVITY = {"value": [
    activity(1, "Microsoft.CognitiveServices/accounts/deployments/write", f"{ACCOUNT}/deployments/gpt-4o-mini-prod",
             "Succeeded", 5 * 86400, "4e5f6a7b-platform-ci", "app"),
    activity(2, "Microsoft.CognitiveServices/accounts/projects/connections/write",
             f"{ACCOUNT}/projects/support/connections/policies-search", "Started", 2 * 86400 + 30, "maria.lopez@acme.example", "user"),
    activity(3, "Microsoft.CognitiveServices/accounts/projects/connections/write",
             f"{ACCOUNT}/projects/support/connections/policies-search", "Succeeded", 2 * 86400, "maria.lopez@acme.example", "user"),
    activity(4, "Microsoft.CognitiveServices/accounts/write", ACCOUNT, "Failed", 86400, "dev@partner.example", "user",
             "Forbidden"),
]}


def step(run, n, status, calls, seconds_ago, error=None):
    return {"id": f"step_{run}_{n}", "object": "thread.run.step", "type": "tool_calls", "status": status,
            "assistant_id": SUPPORT_DESK, "thread_id": THREAD_OF[run], "run_id": run,
            "created_at": NOW - seconds_ago - 2, "completed_at": NOW - seconds_ago if status == "completed" else None,
            "failed_at": NOW - seconds_ago if status == "failed" else None, "last_error": error,
            "step_details": {"type": "tool_calls", "tool_calls": calls},
            "usage": {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876}}


THREAD_OF = {"run_Lk3vQ8": "thread_Ab41", "run_Zp7tW2": "thread_Cd92", "run_Mq5xR1": "thread_Cd92"}
THREADS = {"object": "list", "has_more": False, "first_id": "thread_Cd92", "last_id": "thread_Ab41", "data": [
    {"id": "thread_Cd92", "object": "thread", "created_at": NOW - 86400 - 600, "metadata": {}},
    {"id": "thread_Ab41", "object": "thread", "created_at": NOW - 3 * 86400 - 600, "metadata": {}}]}


def run(run_id, status, seconds_ago):
    return {"id": run_id, "object": "thread.run", "thread_id": THREAD_OF[run_id], "assistant_id": SUPPORT_DESK,
            "status": status, "model": "gpt-4o-prod", "created_at": NOW - seconds_ago,
            "instructions": "(the agent's instructions)", "tools": [], "metadata": {}}


RUNS = {
    "thread_Cd92": {"object": "list", "has_more": False, "data": [
        run("run_Mq5xR1", "in_progress", 60), run("run_Zp7tW2", "completed", 86400)]},
    "thread_Ab41": {"object": "list", "has_more": False, "data": [run("run_Lk3vQ8", "completed", 3 * 86400)]},
}
STEPS = {
    "run_Lk3vQ8": {"object": "list", "has_more": False, "data": [
        step("run_Lk3vQ8", 1, "completed", [{"id": "call_fs1", "type": "file_search", "file_search": {
            "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.0}, "results": []}}], 3 * 86400 - 20),
        step("run_Lk3vQ8", 2, "completed", [
            {"id": "call_crm1", "type": "openapi", "openapi": {"name": "crm_getCustomer", "arguments": "{\"id\": \"C-20931\"}",
                                                               "output": "(customer record)"}},
            {"id": "call_gh1", "type": "mcp", "server_label": "github", "name": "search_issues",
             "arguments": "{\"q\": \"refund delay\"}", "output": "(issues)"}], 3 * 86400 - 40)]},
    "run_Zp7tW2": {"object": "list", "has_more": False, "data": [
        step("run_Zp7tW2", 1, "failed", [
            {"id": "call_crm2", "type": "openapi", "openapi": {"name": "crm_addCustomerNote",
                                                               "arguments": "{\"id\": \"C-20931\", \"note\": \"(text)\"}"}}],
             86400 - 30, {"code": "tool_user_error", "message": "CRM answered 403 Forbidden"})]},
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/msi/token":
            if self.headers.get("x-identity-header") != "example-identity-header" or query.get("resource") not in TOKENS:
                return self.reply(400, {"error": "bad request"})
            return self.reply(200, {"access_token": TOKENS[query["resource"]], "expires_on": "4102444800",
                                    "resource": query["resource"], "token_type": "Bearer"})
        arm = url.path.startswith("/subscriptions/")
        wanted = TOKENS["https://management.azure.com" if arm else "https://ai.azure.com"]
        if self.headers.get("authorization") != f"Bearer {wanted}":
            return self.reply(401, {"error": {"code": "InvalidAuthenticationToken", "message": "wrong token"}})
        answers = arm_answers()
        if url.path == f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments":
            for principal, assignments in ROLE_ASSIGNMENTS.items():
                if query.get("$filter") == f"principalId eq '{principal}'":
                    return self.reply(200, assignments)
            unanswered.append(f"GET {self.path} (no known principalId filter)")
            return self.reply(400, {"error": {"code": "BadRequest", "message": "principalId filter expected"}})
        if arm and url.path in answers:
            return self.reply(200, answers[url.path])
        if url.path == "/api/projects/support/assistants" and query.get("api-version") == "v1":
            return self.reply(200, CLASSIC)
        if url.path == "/api/projects/support/agents" and query.get("api-version") == "2025-11-15-preview":
            return self.reply(200, VERSIONED)
        if url.path == "/api/projects/support/agents/refund-helper/versions" and query.get("api-version") == "2025-11-15-preview":
            return self.reply(200, REFUND_VERSIONS)
        if (url.path == f"/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"
                and query.get("api-version") == "2015-04-01"
                and query.get("$filter", "").endswith(" and resourceProvider eq 'Microsoft.CognitiveServices'")):
            return self.reply(200, ACTIVITY)
        runs = url.path.removeprefix("/api/projects/support/threads")
        if url.path.startswith("/api/projects/support/threads") and query.get("api-version") == "v1":
            if runs == "" and query.get("order") == "desc":
                return self.reply(200, THREADS)
            parts = runs.strip("/").split("/")
            if len(parts) == 2 and parts[1] == "runs" and parts[0] in RUNS:
                return self.reply(200, RUNS[parts[0]])
            if len(parts) == 4 and parts[3] == "steps" and parts[2] in STEPS:
                return self.reply(200, STEPS[parts[2]])
        unanswered.append(f"GET {self.path}")
        self.reply(404, {"error": {"code": "NotFound", "message": "no answer"}})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    state["endpoint"] = endpoint
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "debug", "agentward")
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "agentward.toml")
        # The example's source, live against this server.
        with open(config, "w") as f:
            f.write(f'[store]\nurl = "{tmp}/store"\n\n[[source]]\nname = "foundry-agents"\nkind = "azure-api"\n'
                    f'subscriptions = ["{SUB}"]\nendpoint = "{endpoint}"\nlogging_api = true\n')
        env = dict(os.environ, IDENTITY_ENDPOINT=f"{endpoint}/msi/token", IDENTITY_HEADER="example-identity-header")
        for name in ("AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
            env.pop(name, None)
        out = subprocess.run([binary, "--config", config, "record", os.path.join(EXAMPLE, "recording")],
                             env=env, capture_output=True, text=True)
        sys.stdout.write(out.stdout)
        sys.stderr.write(out.stderr)
    if unanswered or out.returncode != 0:
        sys.exit(f"recording failed (exit {out.returncode}); unanswered: {unanswered}")


if __name__ == "__main__":
    main()
