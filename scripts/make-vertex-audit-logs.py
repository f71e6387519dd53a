#!/usr/bin/env python3
"""Generates examples/managed-agents/audit-logs/: the Cloud Audit Logs of the example's Google
Cloud project (acme-support-prod, number 418203957316) as a Cloud Logging sink exports them
to Cloud Storage: `cloudaudit.googleapis.com/<log>/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json`, one
LogEntry (JSON, protoPayload of type google.cloud.audit.AuditLog) per line. The engines,
service accounts and project are those of scripts/make-vertex-recording.py.

What the logs hold:

  * Admin Activity: kb-summarizer created by the CI deployer (a long-running operation:
    the resource is the location, the engine is in the response); support-triage updated
    by a person; a partner's attempt to delete refund-assistant, denied.
  * Data Access: support-triage (running as the project's Reasoning Engine service agent)
    reads its Zendesk token from Secret Manager; refund-assistant's service account runs a
    BigQuery job and calls gemini-2.5-pro; kb-summarizer's calls gemini-2.5-flash; an ETL
    service account that is no agent's reads a dataset (kept, unattributed).

Deterministic; run from the repository root: python3 scripts/make-vertex-audit-logs.py
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "examples", "managed-agents", "audit-logs")
PROJECT = "acme-support-prod"
NUMBER = "418203957316"
SERVICE_AGENT = f"service-{NUMBER}@gcp-sa-aiplatform-re.iam.gserviceaccount.com"
REFUND_SA = f"refund-agent@{PROJECT}.iam.gserviceaccount.com"
KB_SA = f"kb-summarizer@{PROJECT}.iam.gserviceaccount.com"
DEPLOYER = f"ci-deployer@{PROJECT}.iam.gserviceaccount.com"
TRIAGE = f"projects/{NUMBER}/locations/us-central1/reasoningEngines/5723190044817195008"
REFUND = f"projects/{NUMBER}/locations/us-central1/reasoningEngines/8867342190013235200"
KB = f"projects/{NUMBER}/locations/europe-west4/reasoningEngines/1290447781234567168"


def entry(log, stamp, insert_id, service, method, resource, principal, resource_type, labels,
          permission, status=None, response=None, caller_ip="10.128.0.7",
          user_agent="google-cloud-sdk gcloud/540.0.0", request=None, operation=None):
    payload = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": status or {},
        "authenticationInfo": {"principalEmail": principal},
        "requestMetadata": {"callerIp": caller_ip, "callerSuppliedUserAgent": user_agent,
                            "requestAttributes": {"time": stamp, "auth": {}},
                            "destinationAttributes": {}},
        "serviceName": service,
        "methodName": method,
        "authorizationInfo": [{"resource": resource, "permission": permission,
                               "granted": not status, "resourceAttributes": {}}],
        "resourceName": resource,
    }
    if request is not None:
        payload["request"] = request
    if response is not None:
        payload["response"] = response
    out = {
        "protoPayload": payload,
        "insertId": insert_id,
        "resource": {"type": resource_type, "labels": labels},
        "timestamp": stamp,
        "severity": "ERROR" if status else ("NOTICE" if log == "activity" else "INFO"),
        "logName": f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2F{log}",
        "receiveTimestamp": stamp[:19] + ".9Z",
    }
    if operation is not None:
        out["operation"] = operation
    return out


def engine_labels(location, engine):
    return {"resource_container": PROJECT, "location": location,
            "reasoning_engine_id": engine.rsplit("/", 1)[1]}


def engine_method(verb, service="ReasoningEngineService"):
    return f"google.cloud.aiplatform.v1.{service}.{verb}"


def generate_content(stamp, insert_id, model, principal, user_agent):
    method = "google.cloud.aiplatform.v1.PredictionService.GenerateContent"
    return entry("data_access", stamp, insert_id, "aiplatform.googleapis.com", method,
                 f"projects/{PROJECT}/locations/{model}", principal, "audited_resource",
                 {"project_id": PROJECT, "service": "aiplatform.googleapis.com", "method": method},
                 "aiplatform.endpoints.predict", caller_ip="private", user_agent=user_agent)


ENTRIES = [
    entry("activity", "2026-10-20T07:55:12.318420Z", "-k2w9ffe1a3c", "aiplatform.googleapis.com",
          engine_method("CreateReasoningEngine"), f"projects/{NUMBER}/locations/europe-west4",
          DEPLOYER, "audited_resource",
          {"project_id": PROJECT, "service": "aiplatform.googleapis.com",
           "method": engine_method("CreateReasoningEngine")},
          "aiplatform.reasoningEngines.create",
          request={"@type": "type.googleapis.com/google.cloud.aiplatform.v1.CreateReasoningEngineRequest",
                   "parent": f"projects/{PROJECT}/locations/europe-west4"},
          response={"@type": "type.googleapis.com/google.longrunning.Operation",
                    "name": f"{KB}/operations/3311850022417416192"},
          operation={"id": f"{KB}/operations/3311850022417416192",
                     "producer": "aiplatform.googleapis.com", "first": True},
          user_agent="google-cloud-aiplatform/1.121.0 python/3.11 cloudbuild"),
    entry("activity", "2026-11-03T16:39:58.804113Z", "1r4xq2e9mb0a", "aiplatform.googleapis.com",
          engine_method("UpdateReasoningEngine"), TRIAGE, "maria.lopez@acme.example",
          "aiplatform.googleapis.com/ReasoningEngine", engine_labels("us-central1", TRIAGE),
          "aiplatform.reasoningEngines.update",
          request={"@type": "type.googleapis.com/google.cloud.aiplatform.v1.UpdateReasoningEngineRequest",
                   "updateMask": "spec.deploymentSpec.env"},
          caller_ip="203.0.113.24"),
    entry("activity", "2026-11-18T09:12:40.120377Z", "-9fj3ke2c4d1", "aiplatform.googleapis.com",
          engine_method("DeleteReasoningEngine"), REFUND, "dev@partner-consulting.example",
          "aiplatform.googleapis.com/ReasoningEngine", engine_labels("us-central1", REFUND),
          "aiplatform.reasoningEngines.delete",
          status={"code": 7, "message": "Permission 'aiplatform.reasoningEngines.delete' denied on resource "
                                        f"'//aiplatform.googleapis.com/{REFUND}' (or it may not exist)."},
          caller_ip="198.51.100.77"),
    entry("data_access", "2026-11-20T10:02:11.552018Z", "1hx7m3d2a9", "secretmanager.googleapis.com",
          "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
          f"projects/{NUMBER}/secrets/zendesk-api-token/versions/4", SERVICE_AGENT,
          "audited_resource", {"project_id": PROJECT, "service": "secretmanager.googleapis.com",
                               "method": "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion"},
          "secretmanager.versions.access", caller_ip="private",
          user_agent="grpc-python/1.75.0 gl-python/3.12.11"),
    entry("data_access", "2026-11-20T10:14:37.008822Z", "-u8s2m1f0e7", "bigquery.googleapis.com",
          "google.cloud.bigquery.v2.JobService.InsertJob",
          f"projects/{PROJECT}/jobs/refund_lookup_6c1f0e", REFUND_SA, "bigquery_project",
          {"project_id": PROJECT, "location": "US"}, "bigquery.jobs.create", caller_ip="private",
          user_agent="gl-python/3.12.11 gccl/3.38.0"),
    generate_content("2026-11-20T10:14:39.440102Z", "-u8s2m1f0e9", "us-central1/publishers/google/models/gemini-2.5-pro",
                     REFUND_SA, "google-genai-sdk/1.41.0 gl-python/3.12.11"),
    generate_content("2026-11-20T11:30:05.901447Z", "9q0wr4c1b2", "europe-west4/publishers/google/models/gemini-2.5-flash",
                     KB_SA, "llama-index-llms-google-genai/0.3.0 google-genai-sdk/1.41.0"),
    entry("data_access", "2026-11-20T11:47:13.230556Z", "-3v1d8k7p2s", "bigquery.googleapis.com",
          "google.cloud.bigquery.v2.TableDataService.List",
          f"projects/{PROJECT}/datasets/support/tables/refunds",
          f"etl-nightly@{PROJECT}.iam.gserviceaccount.com", "bigquery_dataset",
          {"project_id": PROJECT, "dataset_id": "support"}, "bigquery.tables.getData",
          caller_ip="private", user_agent="Apache-Beam/2.68.0"),
]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    files = {}
    for e in ENTRIES:
        log = e["logName"].rsplit("%2F", 1)[1]
        day = e["timestamp"][:10].replace("-", "/")
        hour = e["timestamp"][11:13]
        key = f"cloudaudit.googleapis.com/{log}/{day}/{hour}:00:00_{hour}:59:59_S0.json"
        files.setdefault(key, []).append(e)
    for key, entries in sorted(files.items()):
        path = os.path.join(OUT, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            for e in entries:
                f.write(json.dumps(e, separators=(",", ":")) + "\n")
    print(f"wrote {len(ENTRIES)} entries in {len(files)} objects under {OUT}")


if __name__ == "__main__":
    main()
