//! `fundpass serve`'s face verification wiring: the query-by-token provider
//! `face.provider` names, with its keys from the environment.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use fundpass_core::ports::{Clock, FaceProvider};
use fundpass_server::face::{AlibabaFace, AlibabaFaceConfig, TencentFace, TencentFaceConfig};
use fundpass_server::system::OsSecrets;

use crate::config::face_providers::{
    ALIBABA_KEY_ID_ENV, ALIBABA_KEY_SECRET_ENV, FaceProviderKind, TENCENT_SECRET_ID_ENV,
    TENCENT_SECRET_KEY_ENV,
};
use crate::config::{Config, Mode};
use crate::serve_sms::secret_from_env;

/// The provider `face.provider` names; `None` for signed results.
pub fn face_provider(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Option<Arc<dyn FaceProvider>>> {
    let dev = config.mode == Mode::Dev;
    Ok(match config.face.provider {
        FaceProviderKind::Signed => None,
        FaceProviderKind::Tencent => {
            let c = &config.face.tencent;
            let settings = TencentFaceConfig {
                endpoint: c.endpoint.clone(),
                secret_id: secret_from_env(TENCENT_SECRET_ID_ENV),
                secret_key: secret_from_env(TENCENT_SECRET_KEY_ENV),
                rule_id: Some(c.rule_id.clone()),
                handle_lifetime: time::Duration::seconds(c.handle_lifetime_seconds.max(1)),
                timeout: Duration::from_millis(c.timeout_ms),
                allow_http: dev,
            };
            let provider =
                TencentFace::new(settings, clock).context("invalid [face.tencent] settings")?;
            Some(Arc::new(provider))
        }
        FaceProviderKind::Alibaba => {
            let c = &config.face.alibaba;
            let settings = AlibabaFaceConfig {
                endpoint: c.endpoint.clone(),
                access_key_id: secret_from_env(ALIBABA_KEY_ID_ENV),
                access_key_secret: secret_from_env(ALIBABA_KEY_SECRET_ENV),
                scene_id: c.scene_id.clone(),
                product_code: c.product_code.clone(),
                handle_lifetime: time::Duration::seconds(c.handle_lifetime_seconds.max(1)),
                timeout: Duration::from_millis(c.timeout_ms),
                allow_http: dev,
            };
            let provider = AlibabaFace::new(settings, clock, Arc::new(OsSecrets))
                .context("invalid [face.alibaba] settings")?;
            Some(Arc::new(provider))
        }
    })
}
