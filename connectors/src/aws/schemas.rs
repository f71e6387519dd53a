//! OpenAPI schemas that action groups keep in S3, read with the scan's own credentials
//! (the SDK's credential chain), and written to or answered from a recording like every
//! other call.

use super::{ApiSettings, Wire};
use crate::failure::class_of_store;
use crate::{ConnectorError, FailureClass};
use aws_credential_types::provider::ProvideCredentials;
use object_store::ObjectStoreExt;
use object_store::aws::AwsCredential;
use std::sync::Arc;

/// The SDK's credentials, for object_store.
#[derive(Debug)]
struct SdkCredentials(aws_credential_types::provider::SharedCredentialsProvider);

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let c = self
            .0
            .provide_credentials()
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        Ok(Arc::new(AwsCredential {
            key_id: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            token: c.session_token().map(str::to_string),
        }))
    }
}

/// Reads `s3://bucket/key` as text.
pub async fn read_schema(
    config: &aws_config::SdkConfig,
    settings: &ApiSettings,
    bucket: &str,
    key: &str,
) -> Result<String, ConnectorError> {
    let call = format!("s3:GetObject s3://{bucket}/{key}");
    let failed = |class, detail: String| ConnectorError::failed(class, call.clone(), detail);
    let store_failed = |e: object_store::Error| failed(class_of_store(&e), e.to_string());
    if let Wire::Replay(replay) = &settings.wire {
        return replay.object(&settings.region, bucket, key).ok_or_else(|| {
            failed(
                FailureClass::NotRecorded,
                "the recording has no answer for it".into(),
            )
        });
    }
    let credentials = config
        .credentials_provider()
        .ok_or_else(|| failed(FailureClass::Auth, "no AWS credentials".into()))?;
    let mut builder = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&settings.region)
        .with_credentials(Arc::new(SdkCredentials(credentials)));
    if let Some(endpoint) = &settings.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    let store = builder.build().map_err(store_failed)?;
    let bytes = store
        .get(&object_store::path::Path::from(key))
        .await
        .map_err(store_failed)?
        .bytes()
        .await
        .map_err(store_failed)?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        failed(
            FailureClass::Malformed,
            "the schema is not UTF-8 text".into(),
        )
    })?;
    if let Wire::Record(recorder) = &settings.wire {
        recorder
            .keep_object(&settings.region, bucket, key, &text)
            .map_err(|e| failed(FailureClass::Io, format!("cannot record it: {e}")))?;
    }
    Ok(text)
}
