//! A fresh image captcha for a form: drawn off the async threads, its answer stored by
//! the portal, the picture inlined as a `data:` URI (the page's CSP allows those for
//! images only).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::context::Web;
use super::error::Internal;
use crate::captcha_image;

/// What a form shows of a challenge.
#[derive(Debug, Clone)]
pub(crate) struct CaptchaView {
    /// Goes back in the hidden `captcha_id` field.
    pub id: String,
    /// `data:image/png;base64,…`
    pub image: String,
}

/// Draws and stores a new challenge.
pub(crate) async fn issue(web: &Web) -> Result<CaptchaView, Internal> {
    let rng = web.state.portal.rng.clone();
    let drawn = tokio::task::spawn_blocking(move || captcha_image::generate(rng.as_ref()))
        .await
        .map_err(|e| web.internal(e))?
        .map_err(|e| web.internal(e))?;
    let issued = web
        .state
        .portal
        .issue_captcha(&drawn.answer)
        .await
        .map_err(|e| web.internal(e))?;
    Ok(CaptchaView {
        id: issued.id.expose().to_owned(),
        image: format!("data:image/png;base64,{}", STANDARD.encode(&drawn.png)),
    })
}
