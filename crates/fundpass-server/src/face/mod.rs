//! Query-by-token face verification providers behind the core's
//! [`FaceProvider`](fundpass_core::ports::FaceProvider) port: Tencent Cloud FaceID
//! ([`TencentFace`]) and Alibaba Cloud ID Verification ([`AlibabaFace`]). Each one
//! signs its calls as the provider's SMS API does (the same TC3 and ACS3 clients),
//! asks for a handle bound to the flow, fetches the result server to server and maps
//! the provider's codes to the core's rejections; the rules of the flow are the core's.
//! No image is ever asked for: the calls leave the provider's video and frame options
//! off.

mod alibaba;
mod tencent;

use fundpass_core::ports::FaceProviderError;

pub use alibaba::{AlibabaFace, AlibabaFaceConfig};
pub use tencent::{TencentFace, TencentFaceConfig};

/// A call that got no answer: the provider may be back in a moment.
fn transport(provider: &str, error: &reqwest::Error) -> FaceProviderError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    FaceProviderError::Unavailable(format!("{provider} {what}"))
}

/// Reads the body of an answer; a server error or throttling status is unavailable.
async fn answer_body(
    provider: &str,
    response: reqwest::Response,
) -> Result<(u16, axum::body::Bytes), FaceProviderError> {
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(FaceProviderError::Unavailable(format!(
            "{provider} answered HTTP {}",
            status.as_u16()
        )));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| transport(provider, &e))?;
    Ok((status.as_u16(), body))
}

/// An answer that is not the provider's JSON.
fn unreadable(provider: &str, status: u16) -> FaceProviderError {
    FaceProviderError::Unavailable(format!(
        "{provider} answered HTTP {status} with a body that is not its answer"
    ))
}
