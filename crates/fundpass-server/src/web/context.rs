//! What every page handler starts from: the shared state, the page language, the
//! client's address and the request's headers (for cookies), in one extractor.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;
use fundpass_core::audit::Channel;
use fundpass_core::portal::RequestContext;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::error::Internal;
use super::layout::Page;
use crate::i18n::Tr;
use crate::request::ClientInfo;
use crate::state::AppState;

/// One page request.
#[derive(Debug, Clone)]
pub(crate) struct Web {
    /// The portal use cases and settings.
    pub state: AppState,
    /// The language the page is written in.
    pub tr: Tr,
    /// Address and agent, for audit events and rate limits.
    pub client: ClientInfo,
    /// The request's headers, for cookies.
    pub headers: HeaderMap,
    /// The path asked for, where the language switch comes back to.
    pub path: String,
}

impl Web {
    /// The request context the use cases record (channel: web).
    pub fn ctx(&self) -> RequestContext {
        self.client.context(Channel::Web)
    }

    /// The portal's clock (the fake one in tests).
    pub fn now(&self) -> OffsetDateTime {
        self.state.portal.clock.now()
    }

    /// The frame of a page titled with message `title`.
    pub fn page(&self, title: &'static str) -> Page {
        Page::new(self.tr, title, self.state.settings.dev(), self.path.clone())
    }

    /// A failure the member can do nothing about: logged, shown as a bare 500.
    pub fn internal(
        &self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Internal {
        Internal::new(self.tr, self.state.settings.dev(), source.into())
    }

    /// The value of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        super::cookies::read(&self.headers, name)
    }
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(client) = ClientInfo::from_request_parts(parts, state).await;
        Ok(Self {
            state: state.clone(),
            tr: Tr::from_headers(&parts.headers),
            client,
            headers: parts.headers.clone(),
            path: parts.uri.path().to_owned(),
        })
    }
}

/// A path parameter of a page. One that does not parse (bytes that are not UTF-8, a
/// number that is not one) names no page: the 404 page, not axum's plain-text 400.
#[derive(Debug)]
pub(crate) struct PagePath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for PagePath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(_) => {
                let Ok(web) = Web::from_request_parts(parts, state).await;
                Err(super::error::not_found(&web))
            }
        }
    }
}
