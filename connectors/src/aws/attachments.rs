//! What agents attach and the agent API only names: each knowledge base (its role, index
//! store and data sources) and each guardrail version (what it filters). Each is read once
//! however many agents and versions use it.

use super::agents::{every_page, millis};
use crate::failure::sdk_failure;
use crate::{ConnectorError, FailureClass};
use aws_sdk_bedrock as bedrock;
use aws_sdk_bedrockagent as bedrock_agent;
use normalizer::Timestamp;
use normalizer::inventory::{ContentFilter, DataSource, GuardrailConfig, KnowledgeBaseConfig};

/// One read: what it found (with when the provider last changed it), the calls it made
/// and each call that failed.
#[derive(Debug)]
pub struct Attached<T> {
    pub found: Option<(Timestamp, T)>,
    pub calls: u64,
    pub failures: Vec<ConnectorError>,
}

impl<T> Default for Attached<T> {
    fn default() -> Self {
        Attached {
            found: None,
            calls: 0,
            failures: Vec::new(),
        }
    }
}

fn storage(s: &bedrock_agent::types::StorageConfiguration) -> String {
    let target = s
        .opensearch_serverless_configuration()
        .map(|c| c.collection_arn().to_string())
        .or_else(|| {
            s.opensearch_managed_cluster_configuration()
                .map(|c| c.domain_arn().to_string())
        })
        .or_else(|| {
            s.pinecone_configuration()
                .map(|c| c.connection_string().to_string())
        })
        .or_else(|| {
            s.redis_enterprise_cloud_configuration()
                .map(|c| c.endpoint().to_string())
        })
        .or_else(|| s.rds_configuration().map(|c| c.resource_arn().to_string()))
        .or_else(|| {
            s.mongo_db_atlas_configuration()
                .map(|c| c.endpoint().to_string())
        })
        .or_else(|| {
            s.neptune_analytics_configuration()
                .map(|c| c.graph_arn().to_string())
        });
    match target {
        Some(t) => format!("{} {t}", s.r#type().as_str()),
        None => s.r#type().as_str().to_string(),
    }
}

fn data_source(d: &bedrock_agent::types::DataSource) -> DataSource {
    let mut locations = Vec::new();
    let mut kind = None;
    if let Some(c) = d.data_source_configuration() {
        kind = Some(c.r#type().as_str().to_string());
        if let Some(s3) = c.s3_configuration() {
            if s3.inclusion_prefixes().is_empty() {
                locations.push(s3.bucket_arn().to_string());
            }
            for prefix in s3.inclusion_prefixes() {
                locations.push(format!("{}/{prefix}", s3.bucket_arn()));
            }
        }
        if let Some(urls) = c
            .web_configuration()
            .and_then(|w| w.source_configuration())
            .and_then(|s| s.url_configuration())
        {
            locations.extend(
                urls.seed_urls()
                    .iter()
                    .filter_map(|u| u.url().map(str::to_string)),
            );
        }
        if let Some(s) = c
            .confluence_configuration()
            .and_then(|c| c.source_configuration())
        {
            locations.push(s.host_url().to_string());
        }
        if let Some(s) = c
            .salesforce_configuration()
            .and_then(|c| c.source_configuration())
        {
            locations.push(s.host_url().to_string());
        }
        if let Some(s) = c
            .share_point_configuration()
            .and_then(|c| c.source_configuration())
        {
            locations.extend(s.site_urls().iter().cloned());
        }
    }
    DataSource {
        name: d.name().to_string(),
        kind,
        locations,
        status: Some(d.status().as_str().to_string()),
    }
}

/// GetKnowledgeBase, then its data sources (ListDataSources, GetDataSource each).
pub async fn read_knowledge_base(
    client: &bedrock_agent::Client,
    id: &str,
) -> Attached<KnowledgeBaseConfig> {
    let mut out = Attached::default();
    out.calls += 1;
    let kb = match client
        .get_knowledge_base()
        .knowledge_base_id(id)
        .send()
        .await
    {
        Ok(got) => match got.knowledge_base {
            Some(kb) => kb,
            None => {
                out.failures.push(ConnectorError::failed(
                    FailureClass::Malformed,
                    format!("bedrock-agent:GetKnowledgeBase {id}"),
                    "the answer holds no knowledge base",
                ));
                return out;
            }
        },
        Err(e) => {
            out.failures.push(sdk_failure(
                format!("bedrock-agent:GetKnowledgeBase {id}"),
                &e,
            ));
            return out;
        }
    };
    let kind =
        kb.knowledge_base_configuration()
            .map(|c| match c.vector_knowledge_base_configuration() {
                Some(v) => format!(
                    "{} (embeddings by {})",
                    c.r#type().as_str(),
                    v.embedding_model_arn()
                ),
                None => c.r#type().as_str().to_string(),
            });
    let mut config = KnowledgeBaseConfig {
        id: id.to_string(),
        name: Some(kb.name().to_string()),
        status: Some(kb.status().as_str().to_string()),
        role: (!kb.role_arn().is_empty()).then(|| kb.role_arn().to_string()),
        kind,
        storage: kb.storage_configuration().map(storage),
        data_sources: Vec::new(),
    };
    let mut changed = millis(kb.updated_at());
    let listed = every_page(
        client
            .list_data_sources()
            .knowledge_base_id(id)
            .into_paginator()
            .send(),
        &mut out.calls,
        |page| page.data_source_summaries().to_vec(),
    )
    .await;
    match listed {
        Ok(summaries) => {
            for summary in summaries {
                out.calls += 1;
                match client
                    .get_data_source()
                    .knowledge_base_id(id)
                    .data_source_id(summary.data_source_id())
                    .send()
                    .await
                {
                    Ok(got) => {
                        if let Some(d) = got.data_source() {
                            changed = changed.max(millis(d.updated_at()));
                            config.data_sources.push(data_source(d));
                        }
                    }
                    Err(e) => out.failures.push(sdk_failure(
                        format!(
                            "bedrock-agent:GetDataSource {id}/{}",
                            summary.data_source_id()
                        ),
                        &e,
                    )),
                }
            }
            config.data_sources.sort();
        }
        Err(e) => out.failures.push(sdk_failure(
            format!("bedrock-agent:ListDataSources {id}"),
            &e,
        )),
    }
    out.found = Some((changed, config));
    out
}

/// GetGuardrail for one version (`None`: the working draft).
pub async fn read_guardrail(
    client: &bedrock::Client,
    id: &str,
    version: Option<&str>,
) -> Attached<GuardrailConfig> {
    let mut out = Attached {
        calls: 1,
        ..Attached::default()
    };
    let got = match client
        .get_guardrail()
        .guardrail_identifier(id)
        .set_guardrail_version(version.map(str::to_string))
        .send()
        .await
    {
        Ok(got) => got,
        Err(e) => {
            out.failures.push(sdk_failure(
                format!("bedrock:GetGuardrail {id} v{}", version.unwrap_or("DRAFT")),
                &e,
            ));
            return out;
        }
    };
    let side = |enabled: Option<bool>, strength: &str| {
        (enabled != Some(false)).then(|| strength.to_string())
    };
    let content_filters = got
        .content_policy()
        .map(|p| {
            p.filters()
                .iter()
                .map(|f| ContentFilter {
                    kind: f.r#type().as_str().to_string(),
                    input: side(f.input_enabled(), f.input_strength().as_str()),
                    output: side(f.output_enabled(), f.output_strength().as_str()),
                })
                .collect()
        })
        .unwrap_or_default();
    let denied_topics = got
        .topic_policy()
        .map(|p| p.topics().iter().map(|t| t.name().to_string()).collect())
        .unwrap_or_default();
    let mut sensitive_information: Vec<String> = Vec::new();
    if let Some(p) = got.sensitive_information_policy() {
        sensitive_information.extend(
            p.pii_entities()
                .iter()
                .map(|e| format!("{} {}", e.r#type().as_str(), e.action().as_str())),
        );
        sensitive_information.extend(
            p.regexes()
                .iter()
                .map(|r| format!("regex {} {}", r.name(), r.action().as_str())),
        );
    }
    let mut word_filters: Vec<String> = Vec::new();
    if let Some(p) = got.word_policy() {
        if !p.words().is_empty() {
            word_filters.push(format!("{} custom words", p.words().len()));
        }
        word_filters.extend(
            p.managed_word_lists()
                .iter()
                .map(|m| m.r#type().as_str().to_string()),
        );
    }
    let grounding = got
        .contextual_grounding_policy()
        .map(|p| {
            p.filters()
                .iter()
                .filter(|f| f.enabled() != Some(false))
                .map(|f| format!("{} >= {}", f.r#type().as_str(), f.threshold()))
                .collect()
        })
        .unwrap_or_default();
    out.found = Some((
        millis(got.updated_at()),
        GuardrailConfig {
            id: id.to_string(),
            version: got.version().to_string(),
            name: Some(got.name().to_string()),
            status: Some(got.status().as_str().to_string()),
            content_filters,
            denied_topics,
            sensitive_information,
            word_filters,
            grounding,
        },
    ));
    out
}
