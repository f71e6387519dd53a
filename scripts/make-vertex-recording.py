#!/usr/bin/env python3
"""Generates examples/managed-agents/recording/vertex-agents/: one Google Cloud project's Vertex AI Agent
Engine as `agentward record` writes it, so the quickstart reads the reasoning engines, their
declared requirements, identities and the project's audit configuration offline.

The project, acme-support-prod (number 418203957316):

  * support-triage (us-central1): a google-adk agent deployed from a pickled object, no
    service account set (so it runs as the project's Reasoning Engine service agent),
    tracing switched on, a Zendesk token from Secret Manager, egress from Google's network;
  * refund-assistant (us-central1): a LangGraph agent deployed from source (its
    requirements are inside the uploaded archive, which the API does not return), its own
    service account, which the project also lets edit BigQuery datasets, egress through
    the VPC by a PSC interface;
  * kb-summarizer (europe-west4): a LlamaIndex agent with its own service account.
  * Data Access audit logs for aiplatform.googleapis.com: DATA_READ only, so who queried
    an engine (a DATA_WRITE) is not recorded.
  * The project sits in folder 701234 ("support") of organization 3390211: the folder
    grants kb-summarizer's service account roles/storage.admin (inherited, and far more
    than it needs); the organization's policy grants the engines nothing.
  * Google's IAM Recommender suggests refund-assistant's identity trade
    roles/bigquery.dataEditor for roles/bigquery.dataViewer.
  * refund-assistant's Memory Bank keeps facts about customers, per user_id, none expiring;
    the other engines keep no memories.
  * Request-response logging of the models the audit logs (examples/managed-agents/
    audit-logs, scripts/make-vertex-audit-logs.py) show the engines calling: on for
    gemini-2.5-pro in us-central1 (10% sampled to BigQuery), off for gemini-2.5-flash in
    europe-west4.

How: this script serves those answers on 127.0.0.1 in the shapes of the aiplatform v1,
Cloud Resource Manager v1 and Cloud Storage JSON API references, with an OAuth endpoint
for user credentials, and runs `agentward record` against it with the example's
configuration: every request is the one the client really sends, authenticated by
google-cloud-auth. A request it has no answer for fails the run. Deterministic: the
recording is written in call order. Run from the repository root after `cargo build`:
    python3 scripts/make-vertex-recording.py
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "managed-agents")
PROJECT = "acme-support-prod"
NUMBER = "418203957316"
TOKEN = "ya29.example-recording"
REFRESH = "1//example-refresh"
SERVICE_AGENT = f"service-{NUMBER}@gcp-sa-aiplatform-re.iam.gserviceaccount.com"
REFUND_SA = f"refund-agent@{PROJECT}.iam.gserviceaccount.com"
KB_SA = f"kb-summarizer@{PROJECT}.iam.gserviceaccount.com"

ADK_METHODS = ["create_session", "get_session", "list_sessions", "delete_session",
               "stream_query", "async_stream_query"]


def methods(names):
    return [{"name": n, "api_mode": "stream" if "stream" in n else "",
             "description": f"{n} of the deployed app",
             "parameters": {"type": "object", "properties": {}}} for n in names]


ENGINES = {
    "us-central1": [
        {
            "name": f"projects/{NUMBER}/locations/us-central1/reasoningEngines/5723190044817195008",
            "displayName": "support-triage",
            "description": "Triages inbound support tickets and drafts replies",
            "spec": {
                "agentFramework": "google-adk",
                "packageSpec": {
                    "pickleObjectGcsUri": "gs://acme-support-staging/support-triage/agent_engine.pkl",
                    "dependencyFilesGcsUri": "gs://acme-support-staging/support-triage/dependencies.tar.gz",
                    "requirementsGcsUri": "gs://acme-support-staging/support-triage/requirements.txt",
                    "pythonVersion": "3.12",
                },
                "deploymentSpec": {
                    "env": [
                        {"name": "LOG_LEVEL", "value": "INFO"},
                        {"name": "ZENDESK_SUBDOMAIN", "value": "acme-support"},
                        {"name": "GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY", "value": "true"},
                    ],
                    "secretEnv": [{"name": "ZENDESK_API_TOKEN",
                                   "secretRef": {"secret": "zendesk-api-token", "version": "4"}}],
                    "minInstances": 1,
                    "maxInstances": 10,
                },
                "classMethods": methods(ADK_METHODS),
            },
            "createTime": "2026-09-29T08:14:03.512904Z",
            "updateTime": "2026-11-03T16:40:11.208317Z",
            "etag": "AMEw9yMxNzQ0ODc2",
        },
        {
            "name": f"projects/{NUMBER}/locations/us-central1/reasoningEngines/8867342190013235200",
            "displayName": "refund-assistant",
            "spec": {
                "agentFramework": "langgraph",
                "serviceAccount": REFUND_SA,
                "sourceCodeSpec": {"pythonSpec": {"version": "3.12", "entrypointModule": "refunds.agent",
                                                  "entrypointObject": "app", "requirementsFile": "requirements.txt"}},
                "deploymentSpec": {
                    "env": [{"name": "PAYMENTS_API_BASE", "value": "https://payments.internal.acme.example"}],
                    "secretEnv": [{"name": "PAYMENTS_API_KEY",
                                   "secretRef": {"secret": "payments-api-key", "version": "latest"}}],
                    "pscInterfaceConfig": {
                        "networkAttachment": f"projects/{PROJECT}/regions/us-central1/networkAttachments/agents-egress"
                    },
                },
                "classMethods": methods(["query", "stream_query"]),
            },
            "createTime": "2026-10-14T11:02:45.001233Z",
            "updateTime": "2026-10-14T11:09:12.774100Z",
            "etag": "AMEw9yMxNzQ1MDIy",
        },
    ],
    "europe-west4": [
        {
            "name": f"projects/{NUMBER}/locations/europe-west4/reasoningEngines/1290447781234567168",
            "displayName": "kb-summarizer",
            "spec": {
                "agentFramework": "llama-index",
                "serviceAccount": KB_SA,
                "packageSpec": {
                    "pickleObjectGcsUri": "gs://acme-support-staging-eu/kb-summarizer/agent_engine.pkl",
                    "requirementsGcsUri": "gs://acme-support-staging-eu/kb-summarizer/requirements.txt",
                    "pythonVersion": "3.11",
                },
                "classMethods": methods(["query"]),
            },
            "createTime": "2026-10-20T07:55:19.440211Z",
            "updateTime": "2026-10-20T07:55:19.440211Z",
            "etag": "AMEw9yMxNzQ1MTMx",
        },
    ],
}

REQUIREMENTS = {
    "/storage/v1/b/acme-support-staging/o/support-triage%2Frequirements.txt":
        "google-cloud-aiplatform[agent_engines,adk]==1.121.0\ngoogle-adk==1.17.0\nzenpy==2.0.56\n",
    "/storage/v1/b/acme-support-staging-eu/o/kb-summarizer%2Frequirements.txt":
        "# pinned by the platform team\nllama-index-core==0.12.52\nllama-index-llms-google-genai==0.3.0\n"
        "google-cloud-aiplatform[agent_engines]==1.121.0\n",
}

POLICY = {
    "version": 3,
    "etag": "BwYlQ2aH6sE=",
    "bindings": [
        {"role": "roles/aiplatform.user", "members": [f"serviceAccount:{REFUND_SA}", f"serviceAccount:{KB_SA}",
                                                      "group:support-platform@acme.example"]},
        {"role": "roles/bigquery.dataEditor", "members": [f"serviceAccount:{REFUND_SA}"]},
        {"role": "roles/secretmanager.secretAccessor", "members": [f"serviceAccount:{SERVICE_AGENT}"]},
        {"role": "roles/storage.objectViewer", "members": [f"serviceAccount:{SERVICE_AGENT}"],
         "condition": {"title": "staging buckets only",
                       "expression": "resource.name.startsWith('projects/_/buckets/acme-support-staging')"}},
        {"role": "roles/owner", "members": ["user:platform-lead@acme.example"]},
    ],
    "auditConfigs": [
        {"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]},
        {"service": "aiplatform.googleapis.com", "auditLogConfigs": [{"logType": "DATA_READ"}]},
    ],
}

MODEL_CONFIGS = {
    f"/v1beta1/projects/{PROJECT}/locations/us-central1/publishers/google/models/gemini-2.5-pro:fetchPublisherModelConfig": {
        "loggingConfig": {"enabled": True, "samplingRate": 0.1,
                          "bigqueryDestination": {"outputUri": f"bq://{PROJECT}.vertex_logs.request_response"}}},
    f"/v1beta1/projects/{PROJECT}/locations/europe-west4/publishers/google/models/gemini-2.5-flash:fetchPublisherModelConfig": {},
}

ANCESTRY = {"ancestor": [
    {"resourceId": {"type": "project", "id": PROJECT}},
    {"resourceId": {"type": "folder", "id": "701234"}},
    {"resourceId": {"type": "organization", "id": "3390211"}},
]}

ANCESTOR_POLICIES = {
    "/v3/folders/701234:getIamPolicy": {"version": 1, "etag": "BwYfR3kq9aA=", "bindings": [
        {"role": "roles/storage.admin", "members": [f"serviceAccount:{KB_SA}", "group:support-platform@acme.example"]},
        {"role": "roles/resourcemanager.folderViewer", "members": ["group:support-eng@acme.example"]}]},
    "/v3/organizations/3390211:getIamPolicy": {"version": 1, "etag": "BwYfR2Xw1cE=", "bindings": [
        {"role": "roles/resourcemanager.organizationAdmin", "members": ["group:cloud-admins@acme.example"]},
        {"role": "roles/billing.user", "members": ["domain:acme.example"]}]},
}

RECOMMENDATIONS = {"recommendations": [{
    "name": f"projects/{NUMBER}/locations/global/recommenders/google.iam.policy.Recommender/recommendations/4f7c2a1e-9b3d-4e5f-8a6b-1c2d3e4f5a6b",
    "description": "Replace the current role with a smaller role to cover the permissions needed.",
    "recommenderSubtype": "REPLACE_ROLE", "priority": "P2", "primaryImpact": {"category": "SECURITY"},
    "lastRefreshTime": "2026-11-21T06:00:00Z",
    "content": {"operationGroups": [{"operations": [
        {"action": "add", "resourceType": "cloudresourcemanager.googleapis.com/Project",
         "resource": f"//cloudresourcemanager.googleapis.com/projects/{NUMBER}", "path": "/iamPolicy/bindings/*/members/-",
         "value": f"serviceAccount:{REFUND_SA}",
         "pathFilters": {"/iamPolicy/bindings/*/condition/expression": "", "/iamPolicy/bindings/*/role": "roles/bigquery.dataViewer"}},
        {"action": "remove", "resourceType": "cloudresourcemanager.googleapis.com/Project",
         "resource": f"//cloudresourcemanager.googleapis.com/projects/{NUMBER}", "path": "/iamPolicy/bindings/*/members/*",
         "pathFilters": {"/iamPolicy/bindings/*/condition/expression": "", "/iamPolicy/bindings/*/members/*": f"serviceAccount:{REFUND_SA}",
                         "/iamPolicy/bindings/*/role": "roles/bigquery.dataEditor"}}]}],
        "overview": {"member": f"serviceAccount:{REFUND_SA}", "removedRole": "roles/bigquery.dataEditor",
                     "addedRoles": ["roles/bigquery.dataViewer"], "minimumObservationPeriodInDays": "90"}},
    "stateInfo": {"state": "ACTIVE"}, "etag": "\"a1b2c3d4e5f6\""}]}

REFUND_ENGINE = f"projects/{NUMBER}/locations/us-central1/reasoningEngines/8867342190013235200"
REFUND_MEMORIES = {"memories": [
    {"name": f"{REFUND_ENGINE}/memories/{n}", "fact": fact, "scope": {"user_id": user},
     "createTime": "2026-11-1%dT09:00:00Z" % n, "updateTime": "2026-11-1%dT09:00:00Z" % n}
    for n, (user, fact) in enumerate([("cust-4411", "prefers store credit to card refunds"),
                                      ("cust-4411", "had two refunds declined in October"),
                                      ("cust-9027", "asked for refunds to go to a new IBAN")], start=1)]}

unanswered = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, kind="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        body = self.body()
        if path == "/token" and body.get("refresh_token") == REFRESH:
            return self.reply(200, {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"})
        if self.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.reply(401, {"error": {"code": 401, "message": "no token", "status": "UNAUTHENTICATED"}})
        if path == f"/v1/projects/{PROJECT}:getIamPolicy" and body == {"options": {"requestedPolicyVersion": 3}}:
            return self.reply(200, POLICY)
        if path in ANCESTOR_POLICIES and body == {"options": {"requestedPolicyVersion": 3}}:
            return self.reply(200, ANCESTOR_POLICIES[path])
        if path == f"/v1/projects/{PROJECT}:getAncestry":
            return self.reply(200, ANCESTRY)
        unanswered.append(f"POST {self.path}")
        self.reply(404, {"error": {"code": 404, "message": "no answer", "status": "NOT_FOUND"}})

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if self.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.reply(401, {"error": {"code": 401, "message": "no token", "status": "UNAUTHENTICATED"}})
        for location, engines in ENGINES.items():
            if url.path == f"/v1/projects/{PROJECT}/locations/{location}/reasoningEngines" and "pageToken" not in query:
                return self.reply(200, {"reasoningEngines": engines})
        if url.path == f"/v1/projects/{PROJECT}/locations/global/recommenders/google.iam.policy.Recommender/recommendations":
            return self.reply(200, RECOMMENDATIONS)
        # The project runs no Conversational Agents: the Dialogflow API was never enabled.
        if url.path.startswith(f"/v3beta1/projects/{PROJECT}/locations/") and url.path.endswith("/agents"):
            return self.reply(403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                "message": f"Dialogflow API has not been used in project {PROJECT} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/dialogflow.googleapis.com/overview?project={PROJECT} then retry.",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
                             "domain": "googleapis.com", "metadata": {"service": "dialogflow.googleapis.com"}}]}})
        if url.path.startswith(f"/v1beta1/projects/{NUMBER}/locations/") and url.path.endswith("/memories"):
            return self.reply(200, REFUND_MEMORIES if url.path == f"/v1beta1/{REFUND_ENGINE}/memories" else {})
        if url.path in MODEL_CONFIGS:
            return self.reply(200, MODEL_CONFIGS[url.path])
        if url.path in REQUIREMENTS and query.get("alt") == "media":
            return self.reply(200, REQUIREMENTS[url.path], "text/plain")
        unanswered.append(f"GET {self.path}")
        self.reply(404, {"error": {"code": 404, "message": "no answer", "status": "NOT_FOUND"}})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target, "debug", "agentward")
    with tempfile.TemporaryDirectory() as tmp:
        adc = os.path.join(tmp, "adc.json")
        with open(adc, "w") as f:
            json.dump({"type": "authorized_user", "client_id": "example.apps.googleusercontent.com",
                       "client_secret": "example", "refresh_token": REFRESH,
                       "token_uri": f"{endpoint}/token"}, f)
        config = os.path.join(tmp, "agentward.toml")
        # The example's sources, the API live against this server; its audit logs show which
        # models the engines call, whose logging is read after them.
        with open(config, "w") as f:
            f.write(f'[store]\nurl = "{tmp}/store"\n\n[[source]]\nname = "vertex-agents"\nkind = "gcp-api"\n'
                    f'projects = ["{PROJECT}"]\nlocations = ["us-central1", "europe-west4"]\nendpoint = "{endpoint}"\n'
                    f'\n[[source]]\nname = "vertex-audit"\nkind = "gcp-audit-logs"\nurl = "{EXAMPLE}/audit-logs"\n')
        env = dict(os.environ, GOOGLE_APPLICATION_CREDENTIALS=adc, HOME=tmp)
        env.pop("GCE_METADATA_HOST", None)
        out = subprocess.run([binary, "--config", config, "record", os.path.join(EXAMPLE, "recording")],
                             env=env, capture_output=True, text=True)
        sys.stdout.write(out.stdout)
        sys.stderr.write(out.stderr)
    if unanswered or out.returncode != 0:
        sys.exit(f"recording failed (exit {out.returncode}); unanswered: {unanswered}")


if __name__ == "__main__":
    main()
