//! What CloudTrail can and cannot show of a Bedrock agent, layer by layer. The facts are
//! the provider's (see shared/reference/providers.md §1): prompts are never in CloudTrail,
//! the agent runtime is AWS-managed, action-group Lambda invocations and S3 object access
//! are data events that are off unless a trail selects them.

use crate::records::Loss;
use normalizer::{AgentRef, Coverage, CoverageStatus, Layer};
use std::collections::BTreeMap;

const LAMBDA_DATA_EVENTS: &str = "aws cloudtrail put-event-selectors --trail-name TRAIL --advanced-event-selectors \
'[{\"Name\":\"agent tools\",\"FieldSelectors\":[{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]},\
{\"Field\":\"resources.type\",\"Equals\":[\"AWS::Lambda::Function\"]}]}]'";

/// Coverage of every layer of one Bedrock agent, given how many events of each layer the
/// scanned CloudTrail logs held for it and how many records were lost.
pub fn bedrock_agent(
    agent: &AgentRef,
    source: &str,
    seen: &BTreeMap<Layer, u64>,
    loss: Option<Loss>,
) -> Vec<Coverage> {
    let via = format!("CloudTrail logs ({source})");
    let count = |l: Layer| seen.get(&l).copied().unwrap_or(0);
    let observed_or_lost = |status: CoverageStatus| {
        match (loss, &status) {
        (Some(l), CoverageStatus::Observed { via }) => CoverageStatus::Degraded {
            via: via.clone(),
            lost: l.lost,
            from: l.from,
            to: l.to,
            reason: "records in these logs could not be read and are quarantined; events in that window may be missing".into(),
        },
        _ => status,
    }
    };
    let status = |layer: Layer| -> CoverageStatus {
        match layer {
            Layer::Kernel => CoverageStatus::Unavailable {
                reason: "Bedrock Agents run orchestration and code interpretation on AWS-managed infrastructure; \
                         no process or file telemetry is exposed"
                    .into(),
            },
            Layer::Network => CoverageStatus::Unavailable {
                reason: "agent orchestration egress happens inside AWS; only VPC-attached action-group Lambdas \
                         can be seen, through VPC Flow Logs, which this source does not read"
                    .into(),
            },
            Layer::Prompt => CoverageStatus::AvailableIfEnabled {
                setting: "prompts are never in CloudTrail; Bedrock model invocation logging with text delivery \
                          (off by default, per region) records them, and this scan reads no invocation logs"
                    .into(),
                how_to_enable: "aws bedrock put-model-invocation-logging-configuration --logging-config \
                                '{\"s3Config\":{\"bucketName\":\"BUCKET\"},\"textDataDeliveryEnabled\":true}'"
                    .into(),
            },
            Layer::ToolInvocation if count(Layer::ToolInvocation) > 0 => observed_or_lost(CoverageStatus::Observed {
                via: format!(
                    "{via}: Lambda data events show which action-group tool ran and when; its \
                     parameters and its place in the conversation are only in the agent trace, \
                     which Bedrock returns to the caller alone"
                ),
            }),
            Layer::ToolInvocation => CoverageStatus::AvailableIfEnabled {
                setting: "no Lambda Invoke data events of this agent's action-group functions in the scanned logs: \
                          CloudTrail data events for AWS::Lambda::Function are off by default"
                    .into(),
                how_to_enable: LAMBDA_DATA_EVENTS.into(),
            },
            Layer::IdentityApi if count(Layer::IdentityApi) > 0 => observed_or_lost(CoverageStatus::Observed { via: via.clone() }),
            Layer::IdentityApi => CoverageStatus::AvailableIfEnabled {
                setting: "no API calls by this agent's role or tools in the scanned logs; S3 object and Lambda \
                          access are CloudTrail data events, off by default"
                    .into(),
                how_to_enable: "add advanced event selectors for AWS::S3::Object and AWS::Bedrock::AgentAlias \
                                (aws cloudtrail put-event-selectors)"
                    .into(),
            },
            Layer::Control if count(Layer::Control) > 0 => observed_or_lost(CoverageStatus::Observed {
                via: format!("{via}: management events"),
            }),
            Layer::Control => CoverageStatus::AvailableIfEnabled {
                setting: "no management events for this agent in the scanned logs; its configuration changes are \
                          not visible in the scanned period"
                    .into(),
                how_to_enable: "scan the trail's logs for the period the agent was created or changed \
                                (management events are logged by default)"
                    .into(),
            },
        }
    };
    Layer::ALL
        .into_iter()
        .map(|layer| Coverage {
            agent: agent.clone(),
            layer,
            status: status(layer),
        })
        .collect()
}
