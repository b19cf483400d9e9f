//! The member portal's use cases — captcha, registration, login, sessions — shared by
//! the web pages and the app's JSON API. Each use case loads what it needs through
//! the ports, decides with the pure rules (flows, lockout, policies), and writes one
//! [`ChangeSet`](crate::ports::ChangeSet) atomically.

mod captcha;
mod change;
mod data_copy;
mod devices;
mod freeze;
mod login;
mod notify;
mod phone;
mod recovery;
mod registration;
mod security;
mod sessions;

use std::sync::Arc;

use time::Duration;

pub use captcha::{
    AnsweredCaptcha, CAPTCHA_TTL, CaptchaError, IssuedCaptcha,
    normalise as normalise_captcha_answer,
};
pub use change::{PasswordChangeError, PasswordChanged};
pub use data_copy::{DataCopy, DataCopyError};
pub use devices::{
    Browser, Device, EndSessionError, EndedSession, LiveSession, Os, SessionChannel, SessionId,
    mask_address,
};
pub use freeze::FreezeError;
pub use login::{LoginError, LoginIdentifier, LoginSuccess};
pub use notify::{SmsLimits, SmsTemplates, placeholders};
pub(crate) use notify::{china_hour, china_time, china_today, fill};
pub use phone::PhoneChangeError;
pub(crate) use recovery::{BadMetaInfo, clean_meta_info};
pub use recovery::{
    FaceChallenge, FaceStartInput, MemberFacts, NewSecret, RecoveryError, RecoveryIdentify,
    RecoveryStarted, TicketChecked, TicketError, TransactionRecoveryStarted,
};
pub use registration::{
    IdentifyInput, NEUTRAL_IDENTIFY_MESSAGE, NewPasswords, RegistrationError, StartedFlow,
};
pub use security::QuestionsError;
pub use sessions::{Authenticated, SessionError};

use crate::audit::Channel;
use crate::credentials::{LoginPasswordPolicy, PasswordHasher};
use crate::crypto::Keyring;
use crate::face::FacePolicy;
use crate::flow::FlowPolicy;
use crate::lockout::{LoginLockPolicy, TransactionLockPolicy};
use crate::member::HoldPolicy;
use crate::ports::{
    CaptchaStore, Clock, CpuPool, FaceProvider, PortalStore, RateLimiter, SecretGenerator,
    StoreError,
};
use crate::session::SessionPolicy;

/// Every tunable rule of the portal, defaults as in the design.
#[derive(Debug, Clone)]
pub struct PortalPolicy {
    pub login_lock: LoginLockPolicy,
    pub flow: FlowPolicy,
    pub session: SessionPolicy,
    pub sms: SmsLimits,
    pub login_password: LoginPasswordPolicy,
    /// Transaction-password failures (forgotten-login-password proof step).
    pub transaction_lock: TransactionLockPolicy,
    /// Wrong recovery codes per member across flows.
    pub recovery_code_lock: LoginLockPolicy,
    /// Rejected face results per document: 3, then a day without face login.
    pub face_lock: LoginLockPolicy,
    /// Checks on face-verification results and the providers' pinned keys.
    pub face: FacePolicy,
    /// How long holds last after resets and phone changes.
    pub holds: HoldPolicy,
    /// Login attempts per client address per window, across all members.
    pub login_per_ip: u32,
    pub login_per_ip_window: Duration,
    /// Staff console sessions: 10 minutes idle, 8 hours in all.
    pub staff_session: crate::staff::StaffSessionPolicy,
    /// Staff password and TOTP failures: 5 in a row lock the account.
    pub staff_lock: LoginLockPolicy,
    pub staff_password: crate::staff::StaffPasswordPolicy,
    /// Networks the staff of listed branches may use the console from.
    pub staff_networks: crate::staff::BranchNetworks,
    /// Counter tickets, hotline codes, four-eyes and checklist limits.
    pub assisted: crate::assisted::AssistedPolicy,
    /// Ticket redemption attempts per client address per 10 minutes.
    pub ticket_per_ip: u32,
    /// Whether captcha answers are kept readable for the `/dev/` helpers.
    pub dev_mode: bool,
    /// Business systems: token lifetimes, assertion rules, call rates.
    pub clients: crate::clients::ClientPolicy,
    /// Payment authorisations: amounts, lifetimes, holds that block.
    pub payout: crate::payout::PayoutPolicy,
    /// Age of the login password after which the home page suggests changing it
    /// (never forces it); zero turns the reminder off.
    pub password_reminder: Duration,
    /// The anonymous identify steps (registration, forgotten login password, face
    /// login start) answer no sooner than this after they began, whether or not the
    /// details matched anyone: what a matching member sets in motion (a text queued,
    /// its audit row) then takes no time a caller could see. Zero turns it off.
    pub identify_floor: Duration,
    /// The benefit qualification check: reminder offsets, window, face refusals.
    pub qualification: crate::qualification::QualificationPolicy,
}

impl Default for PortalPolicy {
    fn default() -> Self {
        Self {
            login_lock: LoginLockPolicy::default(),
            flow: FlowPolicy::default(),
            session: SessionPolicy::member(),
            sms: SmsLimits::default(),
            login_password: LoginPasswordPolicy::standard(),
            transaction_lock: TransactionLockPolicy::default(),
            recovery_code_lock: LoginLockPolicy::default(),
            face_lock: LoginLockPolicy {
                threshold: 3,
                first_lock: Duration::hours(24),
                max_lock: Duration::hours(24),
            },
            face: FacePolicy::default(),
            holds: HoldPolicy::default(),
            login_per_ip: 30,
            login_per_ip_window: Duration::minutes(10),
            staff_session: crate::staff::StaffSessionPolicy::default(),
            staff_lock: LoginLockPolicy::default(),
            staff_password: crate::staff::StaffPasswordPolicy::default(),
            staff_networks: crate::staff::BranchNetworks::default(),
            assisted: crate::assisted::AssistedPolicy::default(),
            ticket_per_ip: 20,
            dev_mode: false,
            clients: crate::clients::ClientPolicy::default(),
            payout: crate::payout::PayoutPolicy::default(),
            password_reminder: Duration::days(365),
            identify_floor: Duration::milliseconds(DEFAULT_IDENTIFY_FLOOR_MS),
            qualification: crate::qualification::QualificationPolicy::default(),
        }
    }
}

/// The default [`PortalPolicy::identify_floor`], in milliseconds: well above what
/// the steps take on a busy server (a millisecond or two, tens at worst), well below
/// what a member would notice.
pub const DEFAULT_IDENTIFY_FLOOR_MS: i64 = 50;

/// Where a request came from, for audit events and rate limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub channel: Channel,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// The user agent as a session record keeps it: at most 200 characters.
    pub fn stored_user_agent(&self) -> Option<String> {
        self.user_agent
            .as_ref()
            .map(|u| u.chars().take(200).collect())
    }
}

/// The portal's dependencies, wired once at start-up.
#[derive(Clone)]
pub struct Portal {
    pub store: Arc<dyn PortalStore>,
    /// Captcha challenges: the database store, or Redis when `[redis]` is set.
    pub captchas: Arc<dyn CaptchaStore>,
    /// Rate-limit windows: the database store, or Redis when `[redis]` is set.
    pub limiter: Arc<dyn RateLimiter>,
    pub pool: Arc<dyn CpuPool>,
    pub keyring: Arc<Keyring>,
    pub hasher: Arc<PasswordHasher>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn SecretGenerator>,
    pub policy: PortalPolicy,
    pub templates: SmsTemplates,
    /// The query-by-token face verification provider, when one is configured; face
    /// logins then go through it instead of signed results.
    pub face_provider: Option<Arc<dyn FaceProvider>>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("policy", &self.policy)
            .field(
                "face_provider",
                &self.face_provider.as_ref().map(|p| p.name()),
            )
            .finish_non_exhaustive()
    }
}

/// A storage failure inside a use case: logged in full, shown to nobody.
#[derive(Debug, thiserror::Error)]
#[error("storage failure")]
pub struct Internal(#[from] pub StoreError);
