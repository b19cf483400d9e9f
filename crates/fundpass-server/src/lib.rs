//! fundpass HTTP adapters: the member portal (HTML), the app's JSON API, development
//! tools, and the gateways the service talks to (SMS).

pub mod api;
pub mod app;
pub mod captcha_image;
pub mod dev_face;
mod evenly;
pub mod face;
#[doc(hidden)]
pub mod fuzzing;
pub mod hash_pool;
pub mod i18n;
pub mod internal;
pub mod metrics;
pub mod record_text;
pub mod request;
pub mod sms;
pub mod state;
pub mod system;
pub mod web;
pub mod webhooks;
