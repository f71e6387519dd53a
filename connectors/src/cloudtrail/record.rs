//! The CloudTrail record as delivered in log files (event version 1.0x). Strings borrow
//! from the file buffer where they carry no escapes; request and response bodies are kept
//! raw and parsed only for the few operations that need them.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

pub type Text<'a> = Cow<'a, str>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a> {
    #[serde(borrow, default)]
    pub event_version: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(borrow)]
    pub event_time: Text<'a>,
    #[serde(borrow)]
    pub event_source: Text<'a>,
    #[serde(borrow)]
    pub event_name: Text<'a>,
    #[serde(borrow, default)]
    pub aws_region: Option<Text<'a>>,
    #[serde(borrow, default, rename = "sourceIPAddress")]
    pub source_ip_address: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub user_agent: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub error_code: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub error_message: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub request_parameters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub response_elements: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "requestID")]
    pub request_id: Option<Text<'a>>,
    #[serde(borrow, default, rename = "eventID")]
    pub event_id: Option<Text<'a>>,
    #[serde(default)]
    pub read_only: Option<bool>,
    #[serde(borrow, default)]
    pub resources: Option<Vec<Resource<'a>>>,
    #[serde(borrow, default)]
    pub event_type: Option<Text<'a>>,
    #[serde(default)]
    pub management_event: Option<bool>,
    #[serde(borrow, default)]
    pub recipient_account_id: Option<Text<'a>>,
    #[serde(borrow, default, rename = "sharedEventID")]
    pub shared_event_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub event_category: Option<Text<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub principal_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub arn: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub account_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub access_key_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub invoked_by: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub session_context: Option<SessionContext<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    #[serde(borrow, default)]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    #[serde(borrow, default)]
    pub arn: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub user_name: Option<Text<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Resource<'a> {
    #[serde(borrow, default, rename = "ARN")]
    pub arn: Option<Text<'a>>,
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Text<'a>>,
}
