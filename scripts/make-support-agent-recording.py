#!/usr/bin/env python3
"""Generates examples/support-agent/recording/: the support account's AWS APIs as
`agentward record` writes them, so the quickstart reads the Bedrock inventory, the
identities and the telemetry settings offline through the real AWS SDK.

The account is the one the example's logs describe (scripts/make-support-agent-example.py):

  * customer-support-agent: alias `prod` routes to version 2 (moved from 1 in week five);
    three action groups with Lambda executors (incl. the S3 export tool); the support
    knowledge base, fed from the help centre and from resolved tickets; guardrail
    gr-support-pii v1, which masks PII but screens no prompt attacks. The draft someone is
    editing adds a refund operation that prod does not run.
  * research-assistant: alias `prod` routes to version 1; a document knowledge base; no
    guardrail.
  * One multi-region trail (management events, agent invocations, the tool functions, the
    export bucket, knowledge-base retrievals); model invocation logging to S3 with text.

How: this script serves those answers in each API's wire format on 127.0.0.1 and runs
`agentward record` against it with the example's configuration, so every request is the
one the SDK really sends. A request it has no answer for fails the run. Deterministic:
the exchanges are written in call order, sorted by call. Run from the repository root:
    python3 scripts/make-support-agent-recording.py
"""
import datetime as dt
import importlib.util
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
spec = importlib.util.spec_from_file_location("example", os.path.join(HERE, "make-support-agent-example.py"))
ex = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ex)

ACCOUNT, REGION = ex.ACCOUNT, ex.REGION
SOURCE = "support-account-api"
OUT = os.path.join(ROOT, "examples", "support-agent", "recording")
GUARDRAIL = "gr-support-pii"
KB_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonBedrockExecutionRoleForKnowledgeBase_support"
RESEARCH_KB_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonBedrockExecutionRoleForKnowledgeBase_research"
EMBEDDINGS = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-embed-text-v2:0"
SUPPORT_INSTRUCTION = (
    "You are Acme's customer support assistant. Look up tickets and orders, answer from the "
    "help-centre articles, and run the weekly export only when the scheduler asks for it."
)
RESEARCH_INSTRUCTION = "Answer analysts' questions from the research documents only; cite them."


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


CREATED = iso(ex.START + dt.timedelta(minutes=6))
UPDATED_V2 = iso(ex.MODEL_UPDATE - dt.timedelta(minutes=3))
VERSION_1 = iso(ex.START + dt.timedelta(minutes=12))
VERSION_2 = iso(ex.MODEL_UPDATE + dt.timedelta(minutes=1))
DRAFT_EDIT = iso(dt.datetime(2026, 11, 13, 16, 20, tzinfo=dt.timezone.utc))
RESEARCH_CREATED = iso(ex.RESEARCH_START + dt.timedelta(minutes=1))
RESEARCH_V1 = iso(ex.RESEARCH_START + dt.timedelta(minutes=4))


def openapi(title, operations):
    paths = {}
    for method, path, operation_id, summary in operations:
        paths.setdefault(path, {})[method] = {
            "operationId": operation_id,
            "summary": summary,
            "responses": {"200": {"description": "OK"}},
        }
    return json.dumps({"openapi": "3.0.0", "info": {"title": title, "version": "1.0.0"}, "paths": paths})


def tool_operations(group, version):
    if group == "lookup-tickets":
        return [("get", "/tickets/{ticketId}", "getTicket", "Read one support ticket"),
                ("get", "/tickets", "searchTickets", "Find a customer's tickets")]
    if group == "order-status":
        ops = [("get", "/orders/{orderId}", "getOrderStatus", "Where an order is")]
        if version == "DRAFT":
            ops.append(("post", "/refunds", "issueRefund", "Refund an order"))
        return ops
    return [("post", "/exports", "exportRecords", "Write customer records to the export bucket")]


GROUP_IDS = {"lookup-tickets": "AGLOOKUP01", "order-status": "AGORDERS01", "export-records": "AGEXPORT01"}


def action_group(version, group):
    updated = DRAFT_EDIT if (version == "DRAFT" and group == "order-status") else iso(ex.START + dt.timedelta(minutes=8))
    return {
        "agentId": ex.AGENT_ID, "agentVersion": version, "actionGroupId": GROUP_IDS[group],
        "actionGroupName": group, "actionGroupState": "ENABLED",
        "actionGroupExecutor": {"lambda": ex.lambda_arn(ex.FUNCTIONS[group])},
        "apiSchema": {"payload": openapi(group, tool_operations(group, version))},
        "createdAt": iso(ex.START + dt.timedelta(minutes=8)), "updatedAt": updated,
    }


def agent_body(agent_id, version):
    """GetAgent's `agent` (DRAFT) or GetAgentVersion's `agentVersion`."""
    support = agent_id == ex.AGENT_ID
    body = {
        "agentId": agent_id,
        "agentName": "customer-support-agent" if support else "research-assistant",
        "agentArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:agent/{agent_id}",
        "agentStatus": "PREPARED" if version == "DRAFT" else "PREPARED",
        "foundationModel": ex.MODEL_V1 if (support and version == "1") else (ex.MODEL_V2 if support else ex.RESEARCH_MODEL),
        "agentResourceRoleArn": ex.AGENT_ROLE if support else ex.RESEARCH_ROLE,
        "instruction": SUPPORT_INSTRUCTION if support else RESEARCH_INSTRUCTION,
        "idleSessionTTLInSeconds": 600 if support else 900,
        "agentCollaboration": "DISABLED",
    }
    if support:
        body["guardrailConfiguration"] = {"guardrailIdentifier": GUARDRAIL, "guardrailVersion": "1"}
    if version == "DRAFT":
        body["agentVersion"] = "DRAFT"
        body["createdAt"] = CREATED if support else RESEARCH_CREATED
        body["updatedAt"] = UPDATED_V2 if support else RESEARCH_CREATED
        body["preparedAt"] = body["updatedAt"]
    else:
        body["version"] = version
        created = {"1": VERSION_1, "2": VERSION_2}[version] if support else RESEARCH_V1
        body["createdAt"] = created
        body["updatedAt"] = created
    return body


AGENTS = {ex.AGENT_ID: ["DRAFT", "1", "2"], ex.RESEARCH_ID: ["DRAFT", "1"]}
ALIASES = {
    ex.AGENT_ID: [(ex.ALIAS_ID, "prod", "2", iso(ex.START + dt.timedelta(minutes=14)), VERSION_2)],
    ex.RESEARCH_ID: [(ex.RESEARCH_ALIAS, "prod", "1", RESEARCH_V1, RESEARCH_V1)],
}
KNOWLEDGE_BASES = {
    ex.KB_ID: {
        "name": "support-articles", "role": KB_ROLE, "agent": ex.AGENT_ID, "created": CREATED,
        "collection": f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/supportkb7x2",
        "sources": [("DSARTICLE1", "help-centre-articles", "arn:aws:s3:::acme-support-kb", ["articles/"]),
                    ("DSTICKETS1", "resolved-tickets", "arn:aws:s3:::acme-support-kb", ["tickets/resolved/"])],
    },
    ex.RESEARCH_KB: {
        "name": "research-documents", "role": RESEARCH_KB_ROLE, "agent": ex.RESEARCH_ID, "created": RESEARCH_CREATED,
        "collection": f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/researchdocs",
        "sources": [("DSRESEARCH", "research-library", "arn:aws:s3:::acme-research-docs", [])],
    },
}


def knowledge_base(kb_id):
    kb = KNOWLEDGE_BASES[kb_id]
    return {
        "knowledgeBaseId": kb_id, "name": kb["name"],
        "knowledgeBaseArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:knowledge-base/{kb_id}",
        "roleArn": kb["role"], "status": "ACTIVE",
        "knowledgeBaseConfiguration": {"type": "VECTOR", "vectorKnowledgeBaseConfiguration": {"embeddingModelArn": EMBEDDINGS}},
        "storageConfiguration": {"type": "OPENSEARCH_SERVERLESS", "opensearchServerlessConfiguration": {
            "collectionArn": kb["collection"], "vectorIndexName": "bedrock-kb-index",
            "fieldMapping": {"vectorField": "vector", "textField": "text", "metadataField": "metadata"}}},
        "createdAt": kb["created"], "updatedAt": kb["created"],
    }


def data_source(kb_id, source):
    ds_id, name, bucket, prefixes = source
    s3 = {"bucketArn": bucket}
    if prefixes:
        s3["inclusionPrefixes"] = prefixes
    return {"knowledgeBaseId": kb_id, "dataSourceId": ds_id, "name": name, "status": "AVAILABLE",
            "dataSourceConfiguration": {"type": "S3", "s3Configuration": s3},
            "dataDeletionPolicy": "RETAIN", "createdAt": KNOWLEDGE_BASES[kb_id]["created"],
            "updatedAt": KNOWLEDGE_BASES[kb_id]["created"]}


def guardrail():
    return {
        "name": "support-pii", "guardrailId": GUARDRAIL,
        "guardrailArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/{GUARDRAIL}",
        "version": "1", "status": "READY",
        "contentPolicy": {"filters": [
            {"type": "HATE", "inputStrength": "MEDIUM", "outputStrength": "MEDIUM"},
            {"type": "INSULTS", "inputStrength": "MEDIUM", "outputStrength": "MEDIUM"},
        ]},
        "sensitiveInformationPolicy": {"piiEntities": [
            {"type": "EMAIL", "action": "ANONYMIZE"},
            {"type": "PHONE", "action": "ANONYMIZE"},
            {"type": "CREDIT_DEBIT_CARD_NUMBER", "action": "BLOCK"},
        ]},
        "createdAt": CREATED, "updatedAt": CREATED,
        "blockedInputMessaging": "Sorry, I can't help with that.",
        "blockedOutputsMessaging": "Sorry, I can't share that.",
    }


def trust(service, condition=None):
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def allow(actions, resource="*"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}


# The identities as the example's logs created them (same trust, same inline policies).
ROLES = {
    ex.AGENT_ROLE: (trust("bedrock.amazonaws.com"), {"bedrock-invoke-models": allow(["bedrock:InvokeModel"])}, []),
    ex.TOOL_ROLE: (trust("lambda.amazonaws.com"),
                   {"support-tools-data": allow(["s3:PutObject", "s3:GetObject", "dynamodb:GetItem"])},
                   ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]),
    ex.RESEARCH_ROLE: (trust("bedrock.amazonaws.com", {"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                       {"research-read": {"Version": "2012-10-17", "Statement": [
                           {"Effect": "Allow", "Action": ["bedrock:InvokeModel"], "Resource": f"arn:aws:bedrock:{REGION}::foundation-model/{ex.RESEARCH_MODEL}"},
                           {"Effect": "Allow", "Action": ["bedrock:Retrieve"], "Resource": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:knowledge-base/{ex.RESEARCH_KB}"}]}},
                       []),
    KB_ROLE: (trust("bedrock.amazonaws.com", {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                              "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:knowledge-base/{ex.KB_ID}"}}),
              {"kb-read-sources": allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::acme-support-kb", "arn:aws:s3:::acme-support-kb/*"]),
               "kb-index": allow(["aoss:APIAccessAll"], KNOWLEDGE_BASES[ex.KB_ID]["collection"]),
               "kb-embed": allow(["bedrock:InvokeModel"], EMBEDDINGS)}, []),
    RESEARCH_KB_ROLE: (trust("bedrock.amazonaws.com", {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                                       "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:knowledge-base/{ex.RESEARCH_KB}"}}),
                       {"kb-read-sources": allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::acme-research-docs", "arn:aws:s3:::acme-research-docs/*"]),
                        "kb-index": allow(["aoss:APIAccessAll"], KNOWLEDGE_BASES[ex.RESEARCH_KB]["collection"]),
                        "kb-embed": allow(["bedrock:InvokeModel"], EMBEDDINGS)}, []),
}
MANAGED = {
    "arn:aws:iam::aws:policy/AmazonS3FullAccess": ("AmazonS3FullAccess", "v2", allow(["s3:*", "s3-object-lambda:*"])),
}

TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/support-account-trail"


def data_selector(name, kind, *extra):
    return {"Name": name, "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                             {"Field": "resources.type", "Equals": [kind]}, *extra]}


EVENT_SELECTORS = {
    "TrailARN": TRAIL_ARN,
    "AdvancedEventSelectors": [
        {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        data_selector("Agent invocations", "AWS::Bedrock::AgentAlias"),
        data_selector("Knowledge-base retrievals", "AWS::Bedrock::KnowledgeBase"),
        data_selector("Support tools", "AWS::Lambda::Function",
                      {"Field": "resources.ARN", "StartsWith": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:support-"]}),
        data_selector("Export bucket", "AWS::S3::Object",
                      {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{ex.EXPORT_BUCKET}/"]}),
    ],
}


def xml(action, result, namespace):
    return (f'<{action}Response xmlns="{namespace}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>"
            f"</{action}Response>")


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encoded(document):
    return urllib.parse.quote(json.dumps(document, separators=(",", ":")), safe="")


IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def role_by_name(name):
    return next((arn for arn in ROLES if arn.rsplit("/", 1)[1] == name), None)


def iam(params):
    action = params.get("Action")
    name = params.get("RoleName", "")
    arn = role_by_name(name)
    if action in ("GetRole", "ListRolePolicies", "GetRolePolicy", "ListAttachedRolePolicies") and arn is None:
        return 404, "text/xml", (f'<ErrorResponse xmlns="{IAM_NS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>'
                                 f"<Message>The role with name {esc(name)} cannot be found.</Message></Error>"
                                 f"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
    if action == "GetRole":
        trust_doc, _, _ = ROLES[arn]
        path = arn.split(":role", 1)[1].rsplit("/", 1)[0] + "/"
        result = (f"<Role><Path>{path}</Path><RoleName>{name}</RoleName><RoleId>AROA{abs(hash_of(arn)) % 10**16:016d}</RoleId>"
                  f"<Arn>{arn}</Arn><CreateDate>{iso(ex.START)}</CreateDate>"
                  f"<AssumeRolePolicyDocument>{encoded(trust_doc)}</AssumeRolePolicyDocument>"
                  f"<MaxSessionDuration>3600</MaxSessionDuration></Role>")
        return 200, "text/xml", xml(action, result, IAM_NS)
    if action == "ListRolePolicies":
        names = "".join(f"<member>{p}</member>" for p in sorted(ROLES[arn][1]))
        return 200, "text/xml", xml(action, f"<PolicyNames>{names}</PolicyNames><IsTruncated>false</IsTruncated>", IAM_NS)
    if action == "GetRolePolicy":
        policy = params.get("PolicyName", "")
        document = ROLES[arn][1][policy]
        return 200, "text/xml", xml(action, f"<RoleName>{name}</RoleName><PolicyName>{policy}</PolicyName>"
                                            f"<PolicyDocument>{encoded(document)}</PolicyDocument>", IAM_NS)
    if action == "ListAttachedRolePolicies":
        members = "".join(f"<member><PolicyName>{MANAGED[p][0]}</PolicyName><PolicyArn>{p}</PolicyArn></member>"
                          for p in ROLES[arn][2])
        return 200, "text/xml", xml(action, f"<AttachedPolicies>{members}</AttachedPolicies><IsTruncated>false</IsTruncated>", IAM_NS)
    if action == "GetPolicy" and params.get("PolicyArn") in MANAGED:
        policy_arn = params["PolicyArn"]
        policy_name, version, _ = MANAGED[policy_arn]
        result = (f"<Policy><PolicyName>{policy_name}</PolicyName><DefaultVersionId>{version}</DefaultVersionId>"
                  f"<PolicyId>ANPAIFIR6V6SRTRTYUMBO</PolicyId><Path>/</Path><Arn>{policy_arn}</Arn>"
                  f"<AttachmentCount>1</AttachmentCount><IsAttachable>true</IsAttachable>"
                  f"<CreateDate>2015-02-06T18:40:58Z</CreateDate><UpdateDate>2021-09-27T20:16:37Z</UpdateDate></Policy>")
        return 200, "text/xml", xml(action, result, IAM_NS)
    if action == "GetPolicyVersion" and params.get("PolicyArn") in MANAGED:
        _, version, document = MANAGED[params["PolicyArn"]]
        result = (f"<PolicyVersion><Document>{encoded(document)}</Document><VersionId>{version}</VersionId>"
                  f"<IsDefaultVersion>true</IsDefaultVersion><CreateDate>2021-09-27T20:16:37Z</CreateDate></PolicyVersion>")
        return 200, "text/xml", xml(action, result, IAM_NS)
    return None


def hash_of(text):
    return int.from_bytes(__import__("hashlib").sha256(text.encode()).digest()[:8], "big")


def sts(params):
    if params.get("Action") == "GetCallerIdentity":
        result = (f"<Arn>arn:aws:iam::{ACCOUNT}:user/security-auditor</Arn>"
                  f"<UserId>AIDA{hash_of('auditor') % 10**16:016d}</UserId><Account>{ACCOUNT}</Account>")
        return 200, "text/xml", xml("GetCallerIdentity", result, "https://sts.amazonaws.com/doc/2011-06-15/")
    return None


def cloudtrail(target, body):
    operation = target.rsplit(".", 1)[-1]
    if operation == "DescribeTrails":
        return {"trailList": [{
            "Name": "support-account-trail", "S3BucketName": "acme-cloudtrail-logs",
            "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": True, "HomeRegion": REGION,
            "TrailARN": TRAIL_ARN, "LogFileValidationEnabled": True, "HasCustomEventSelectors": True,
            "HasInsightSelectors": False, "IsOrganizationTrail": False}]}
    if operation == "GetTrailStatus" and body.get("Name") in (TRAIL_ARN, "support-account-trail"):
        return {"IsLogging": True, "LatestDeliveryTime": 1.7631e9, "StartLoggingTime": 1.7589e9}
    if operation == "GetEventSelectors" and body.get("TrailName") in (TRAIL_ARN, "support-account-trail"):
        return EVENT_SELECTORS
    return None


def function_of(name):
    return next((fn for fn in ex.FUNCTIONS.values() if name in (fn, ex.lambda_arn(fn))), None)


def lambda_api(method, seg):
    if method != "GET" or len(seg) != 4 or seg[:2] != ["2015-03-31", "functions"]:
        return None
    fn = function_of(urllib.parse.unquote(seg[2]))
    if fn is None:
        return 404, {"Type": "User", "Message": f"Function not found: {seg[2]}"}, "ResourceNotFoundException"
    if seg[3] == "configuration":
        return 200, {
            "FunctionName": fn, "FunctionArn": ex.lambda_arn(fn), "Runtime": "python3.12", "Role": ex.TOOL_ROLE,
            "Handler": "app.handler", "CodeSize": 4096, "Timeout": 30, "MemorySize": 256,
            "LastModified": "2026-09-28T09:03:00.000+0000", "Version": "$LATEST", "State": "Active",
            "PackageType": "Zip", "Architectures": ["x86_64"]}, None
    if seg[3] == "policy":
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": [{
            "Sid": "AllowSupportAgent", "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": ex.lambda_arn(fn),
            "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:agent/{ex.AGENT_ID}"}}}]}
        return 200, {"Policy": json.dumps(policy, separators=(",", ":")), "RevisionId": "8f6c1a2e-0000-4000-8000-000000000001"}, None
    return None


def bedrock_api(method, seg, query):
    """Bedrock and bedrock-agent (both sign as `bedrock`)."""
    if method == "GET" and seg == ["logging", "modelinvocations"]:
        return {"loggingConfig": {"s3Config": {"bucketName": "acme-bedrock-invocation-logs", "keyPrefix": ""},
                                  "textDataDeliveryEnabled": True, "imageDataDeliveryEnabled": False,
                                  "embeddingDataDeliveryEnabled": False}}
    if method == "GET" and seg == ["guardrails", GUARDRAIL] and query.get("guardrailVersion") == ["1"]:
        return guardrail()
    if method == "POST" and seg == ["agents"]:
        return {"agentSummaries": [{"agentId": a, "agentName": agent_body(a, "DRAFT")["agentName"], "agentStatus": "PREPARED",
                                    "latestAgentVersion": AGENTS[a][-1], "updatedAt": agent_body(a, "DRAFT")["updatedAt"]}
                                   for a in AGENTS]}
    if seg[:1] == ["knowledgebases"] and len(seg) >= 2 and seg[1] in KNOWLEDGE_BASES:
        kb = KNOWLEDGE_BASES[seg[1]]
        if method == "GET" and len(seg) == 2:
            return {"knowledgeBase": knowledge_base(seg[1])}
        if method == "POST" and seg[2:] == ["datasources"]:
            return {"dataSourceSummaries": [{"knowledgeBaseId": seg[1], "dataSourceId": s[0], "name": s[1],
                                             "status": "AVAILABLE", "updatedAt": kb["created"]} for s in kb["sources"]]}
        if method == "GET" and len(seg) == 4 and seg[2] == "datasources":
            source = next((s for s in kb["sources"] if s[0] == seg[3]), None)
            return source and {"dataSource": data_source(seg[1], source)}
        return None
    if seg[:1] != ["agents"] or len(seg) < 2 or seg[1] not in AGENTS:
        return None
    agent, rest = seg[1], seg[2:]
    versions = AGENTS[agent]
    support = agent == ex.AGENT_ID
    if method == "GET" and rest == []:
        return {"agent": agent_body(agent, "DRAFT")}
    if method == "POST" and rest == ["agentaliases"]:
        aliases = [{"agentAliasId": "TSTALIASID", "agentAliasName": "AgentTestAlias", "agentAliasStatus": "PREPARED",
                    "routingConfiguration": [{"agentVersion": "DRAFT"}],
                    "createdAt": agent_body(agent, "DRAFT")["createdAt"], "updatedAt": agent_body(agent, "DRAFT")["createdAt"]}]
        aliases += [{"agentAliasId": i, "agentAliasName": n, "agentAliasStatus": "PREPARED",
                     "routingConfiguration": [{"agentVersion": v}], "createdAt": c, "updatedAt": u}
                    for i, n, v, c, u in ALIASES[agent]]
        return {"agentAliasSummaries": aliases}
    if method == "POST" and rest == ["agentversions"]:
        summaries = []
        for v in versions:
            body = agent_body(agent, v)
            summaries.append({"agentName": body["agentName"], "agentStatus": body["agentStatus"], "agentVersion": v,
                              "createdAt": body["createdAt"], "updatedAt": body["updatedAt"]})
        return {"agentVersionSummaries": summaries}
    if method == "GET" and len(rest) == 2 and rest[0] == "agentversions" and rest[1] in versions[1:]:
        return {"agentVersion": agent_body(agent, rest[1])}
    if len(rest) >= 3 and rest[0] == "agentversions" and rest[1] in versions:
        version = rest[1]
        groups = list(ex.FUNCTIONS) if support else []
        if method == "POST" and rest[2:] == ["actiongroups"]:
            return {"actionGroupSummaries": [{k: action_group(version, g)[k] for k in
                                              ("actionGroupId", "actionGroupName", "actionGroupState", "updatedAt")}
                                             for g in groups]}
        if method == "GET" and len(rest) == 4 and rest[2] == "actiongroups":
            group = next((g for g in groups if GROUP_IDS[g] == rest[3]), None)
            return group and {"agentActionGroup": action_group(version, group)}
        if method == "POST" and rest[2:] == ["knowledgebases"]:
            kbs = [k for k, v in KNOWLEDGE_BASES.items() if v["agent"] == agent]
            return {"agentKnowledgeBaseSummaries": [{"knowledgeBaseId": k, "knowledgeBaseState": "ENABLED",
                                                     "description": KNOWLEDGE_BASES[k]["name"],
                                                     "updatedAt": KNOWLEDGE_BASES[k]["created"]}
                                                    for k in kbs]}
    return None


UNANSWERED = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def send(self, status, content_type, body, error_type=None):
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        if error_type:
            self.send_header("x-amzn-errortype", error_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        scope = (self.headers.get("authorization") or "").split("Credential=")[-1].split(",")[0].split("/")
        service = scope[3] if len(scope) > 3 else "unsigned"
        url = urllib.parse.urlsplit(self.path)
        seg = [s for s in url.path.split("/") if s]
        query = urllib.parse.parse_qs(url.query)
        answered = None
        if service in ("iam", "sts"):
            params = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            answered = (iam if service == "iam" else sts)(params)
            if answered:
                self.send(*answered)
                return
        elif service == "cloudtrail":
            body = cloudtrail(self.headers.get("x-amz-target", ""), json.loads(raw or "{}"))
            if body is not None:
                self.send(200, "application/x-amz-json-1.1", json.dumps(body))
                return
        elif service == "lambda":
            answered = lambda_api(self.command, seg)
            if answered:
                status, body, error = answered
                self.send(status, "application/json", json.dumps(body), error)
                return
        elif service == "bedrock-agentcore":
            # The example account runs no AgentCore runtime, gateway or memory.
            empty = {"runtimes": {"agentRuntimes": []}, "gateways": {"items": []}, "memories": {"memories": []}}
            if len(seg) == 1 and seg[0] in empty:
                self.send(200, "application/json", json.dumps(empty[seg[0]]))
                return
        elif service == "bedrock":
            body = bedrock_api(self.command, seg, query)
            if body is not None:
                self.send(200, "application/json", json.dumps(body))
                return
        UNANSWERED.append(f"{service} {self.command} {self.path} {self.headers.get('x-amz-target') or ''} {raw[:200]}")
        self.send(400, "application/json", json.dumps({"message": "not in the example account"}), "ValidationException")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    subprocess.run(["cargo", "build", "--locked", "--quiet"], cwd=ROOT, check=True)
    example = os.path.join(ROOT, "examples", "support-agent")
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "agentward.toml")
        with open(config, "w") as f:
            f.write(f'[store]\nurl = "{tmp}/store"\n\n'
                    f'[[source]]\nname = "support-account-trail"\nkind = "cloudtrail"\nurl = "{example}/cloudtrail"\n\n'
                    f'[[source]]\nname = "support-account-invocations"\nkind = "bedrock-invocation-logs"\nurl = "{example}/invocation-logs"\n\n'
                    f'[[source]]\nname = "{SOURCE}"\nkind = "aws-api"\nregion = "{REGION}"\n'
                    f'endpoint = "http://127.0.0.1:{server.server_port}"\nmax_attempts = 1\n')
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLERECORDING", AWS_SECRET_ACCESS_KEY="example-secret",
                   AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        env.pop("AWS_SESSION_TOKEN", None)
        run = subprocess.run([os.path.join(target, "debug", "agentward"), "--config", config, "record", OUT],
                             env=env, capture_output=True, text=True)
    server.shutdown()
    if UNANSWERED:
        sys.exit("requests the example account has no answer for:\n  " + "\n  ".join(UNANSWERED))
    if run.returncode != 0:
        sys.exit(f"agentward record failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    path = os.path.join(OUT, SOURCE, "exchanges.jsonl")
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    # Stable: calls answered more than once keep their order.
    lines.sort(key=lambda e: json.dumps({k: e.get(k) for k in ("service", "region", "target", "method", "path", "query", "body")}, sort_keys=True))
    with open(path, "w") as f:
        for e in lines:
            f.write(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"{len(lines)} exchanges in {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
