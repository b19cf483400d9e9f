//! What every handler shares: the portal use cases and the server's settings.

use std::sync::Arc;

use fundpass_core::face::FaceSigner;
use fundpass_core::portal::{Portal, PortalPolicy};
use fundpass_core::ports::SecretGenerator;

/// How the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Local development: banner on every page, `/dev/` helpers, plain-HTTP cookies.
    Dev,
    /// Real deployment: no dev helpers, `__Host-` secure cookies.
    Production,
}

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub mode: Mode,
    /// Cookies carry `Secure` and the `__Host-` prefix (required in production;
    /// off in dev so the portal works over plain HTTP on localhost).
    pub secure_cookies: bool,
    /// The origin pages are served from (`https://gjj.example.gov.cn`), used for the
    /// Origin check on state-changing requests and for absolute links; never taken
    /// from the request's Host header.
    pub public_origin: String,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// The internal API has a listener of its own (`server.internal_bind`) and is
    /// absent from the public one.
    pub internal_listener: bool,
}

impl ServerSettings {
    /// Name of the session cookie.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-fundpass_session"
        } else {
            "fundpass_session"
        }
    }

    /// Name of the cookie carrying the CSRF token of anonymous forms.
    pub fn csrf_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-fundpass_csrf"
        } else {
            "fundpass_csrf"
        }
    }

    /// Name of the staff console's session cookie.
    pub fn staff_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-fundpass_staff"
        } else {
            "fundpass_staff"
        }
    }

    /// Whether the dev helpers and banner are on.
    pub fn dev(&self) -> bool {
        self.mode == Mode::Dev
    }
}

/// Shared state, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub portal: Portal,
    pub settings: Arc<ServerSettings>,
    /// The dev face simulator's signer (dev mode only; its key is trusted only when
    /// the portal's face policy accepts dev keys, which production never does).
    pub face_simulator: Option<Arc<FaceSigner>>,
}

/// Key id of the dev face simulator.
pub const DEV_FACE_KID: &str = "dev-simulator";

/// Makes a fresh dev face simulator and trusts its key in `policy` (dev mode only:
/// the caller must not do this in production).
pub fn dev_face_simulator(policy: &mut PortalPolicy, rng: &dyn SecretGenerator) -> Arc<FaceSigner> {
    let signer = FaceSigner::generate(DEV_FACE_KID, rng);
    policy.face.keys.retain(|k| k.kid != DEV_FACE_KID);
    policy.face.keys.push(signer.trusted_key(true));
    policy.face.accept_dev_keys = true;
    Arc::new(signer)
}
