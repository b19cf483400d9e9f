//! Facts about the request every use case needs: the client's address and agent.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use fundpass_core::audit::Channel;
use fundpass_core::portal::RequestContext;

use crate::state::AppState;

/// Client address and user agent of a request (the channel is set by the caller).
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The request context for a use case reached through `channel`.
    pub fn context(&self, channel: Channel) -> RequestContext {
        RequestContext {
            channel,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(
            &parts.headers,
            &parts.extensions,
            state.settings.trust_forwarded_for,
        );
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect());
        Ok(Self { ip, user_agent })
    }
}

/// The client's address: the last `X-Forwarded-For` entry when the proxy in front is
/// trusted, else the peer of the connection.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    extensions: &Extensions,
    trust_forwarded_for: bool,
) -> Option<String> {
    let forwarded = trust_forwarded_for
        .then(|| headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        // A proxy appends the address it saw: the last entry is the one no client
        // can write.
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().chars().take(45).collect::<String>())
        .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    forwarded.or(peer)
}
