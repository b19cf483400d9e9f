//! "Where am I logged in": the member's live sessions and app tokens as the member is
//! shown them, each under a public id, and ending one of them by that id.
//!
//! A session's bearer token never leaves its client, and the token's digest is what
//! the database finds the session by: neither may be shown. The public id is a
//! one-way, domain-separated hash of the digest, cut to 128 bits: stable (a session
//! keeps its id from one page load to the next), unguessable (it carries 128 bits of
//! the token's randomness) and useless to authenticate with (nothing hashes back to a
//! token, and it does not even have a token's form).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::{Authenticated, Portal, RequestContext};
use crate::audit::Outcome;
use crate::crypto::TokenDigest;
use crate::ports::{ChangeSet, SessionWrite, StoreError};
use crate::session::{ClientKind, SessionRecord, SessionScope};

/// The public name of a session: what the member's list shows and what "end this
/// one" sends back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// The id of the session whose token has digest `digest`: base64url of the first
    /// 16 bytes of SHA-256("session-id:" ‖ digest).
    pub fn of(digest: &TokenDigest) -> Self {
        let hash = Sha256::new()
            .chain_update(b"session-id:")
            .chain_update(digest.0)
            .finalize();
        Self(URL_SAFE_NO_PAD.encode(&hash[..16]))
    }

    /// The id as text (22 characters, URL-safe).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the member reached the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChannel {
    /// A browser, logged in with the login password.
    Web,
    /// The app, logged in with the login password.
    App,
    /// The app after a face verification: good for transaction-password recovery only.
    FaceLogin,
}

impl SessionChannel {
    /// The channel of a stored session.
    pub fn of(session: &SessionRecord) -> Self {
        match (session.client, session.scope) {
            (ClientKind::Web, SessionScope::Full | SessionScope::Recovery) => Self::Web,
            (ClientKind::App, SessionScope::Full) => Self::App,
            (ClientKind::App, SessionScope::Recovery) => Self::FaceLogin,
        }
    }
}

/// A browser recognised in a user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chrome,
    Edge,
    Firefox,
    Safari,
    Opera,
    SamsungInternet,
    WeChat,
    QqBrowser,
    UcBrowser,
}

/// An operating system recognised in a user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Windows,
    MacOs,
    Ios,
    Android,
    HarmonyOs,
    ChromeOs,
    Linux,
}

/// What a session's user agent says about the device, in words a member recognises
/// ("Chrome on Windows"), not the raw header (which anyone can write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// The fund's app.
    App { os: Option<Os> },
    /// A browser; at least one of the two is known.
    Browser {
        browser: Option<Browser>,
        os: Option<Os>,
    },
    /// Nothing recognisable.
    Unknown,
}

/// Markers in the user agent, tried in order: the first found wins (Edge and Opera
/// also say "Chrome", Chrome also says "Safari", WeChat says all of them).
const BROWSERS: &[(&str, Browser)] = &[
    ("micromessenger", Browser::WeChat),
    ("qqbrowser", Browser::QqBrowser),
    ("ucbrowser", Browser::UcBrowser),
    ("samsungbrowser", Browser::SamsungInternet),
    ("edg/", Browser::Edge),
    ("edga/", Browser::Edge),
    ("edgios/", Browser::Edge),
    ("edge/", Browser::Edge),
    ("opr/", Browser::Opera),
    ("opera", Browser::Opera),
    ("firefox/", Browser::Firefox),
    ("fxios/", Browser::Firefox),
    ("crios/", Browser::Chrome),
    ("chrome/", Browser::Chrome),
    ("chromium/", Browser::Chrome),
    ("safari/", Browser::Safari),
];

/// Like [`BROWSERS`]: HarmonyOS also says "Android", Android says "Linux", an iPhone
/// says "like Mac OS X". Short markers carry a space or bracket so that they are not
/// found inside longer words ("CriOS", "Microsoft").
const SYSTEMS: &[(&str, Os)] = &[
    ("harmonyos", Os::HarmonyOs),
    ("openharmony", Os::HarmonyOs),
    ("android", Os::Android),
    ("iphone", Os::Ios),
    ("ipad", Os::Ios),
    ("ipod", Os::Ios),
    ("(ios", Os::Ios),
    (" ios", Os::Ios),
    ("cros ", Os::ChromeOs),
    ("windows", Os::Windows),
    ("macintosh", Os::MacOs),
    ("mac os x", Os::MacOs),
    ("linux", Os::Linux),
];

fn first_match<T: Copy>(agent: &str, table: &[(&str, T)]) -> Option<T> {
    table
        .iter()
        .find(|(marker, _)| agent.contains(marker))
        .map(|(_, found)| *found)
}

impl Device {
    /// Reads a stored user agent of a session held by `client`.
    pub fn classify(client: ClientKind, user_agent: Option<&str>) -> Self {
        let agent = user_agent.unwrap_or_default().to_ascii_lowercase();
        let os = first_match(&agent, SYSTEMS);
        match client {
            ClientKind::App => Self::App { os },
            ClientKind::Web => match (first_match(&agent, BROWSERS), os) {
                (None, None) => Self::Unknown,
                (browser, os) => Self::Browser { browser, os },
            },
        }
    }
}

/// A client address as the member is shown it: an IPv4 address without its last
/// octet (`203.0.113.*`), an IPv6 address with its first four groups only (the
/// network, not the host). `None` when the stored text is not an address.
pub fn mask_address(stored: &str) -> Option<String> {
    let ip: std::net::IpAddr = stored.trim().parse().ok()?;
    let ip = ip.to_canonical();
    Some(match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.*")
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}:*", s[0], s[1], s[2], s[3])
        }
    })
}

/// One live session or app token of the member, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub id: SessionId,
    pub channel: SessionChannel,
    pub started_at: OffsetDateTime,
    pub last_active_at: OffsetDateTime,
    /// Masked; `None` when unknown.
    pub address: Option<String>,
    pub device: Device,
    /// The session this request came with.
    pub current: bool,
}

impl LiveSession {
    fn of(session: &SessionRecord, current: &TokenDigest) -> Self {
        Self {
            id: SessionId::of(&session.token),
            channel: SessionChannel::of(session),
            started_at: session.created_at,
            last_active_at: session.last_seen_at,
            address: session.ip.as_deref().and_then(mask_address),
            device: Device::classify(session.client, session.user_agent.as_deref()),
            current: session.token == *current,
        }
    }
}

/// Which session an "end" ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedSession {
    /// The one the request came with: the member is now logged out.
    This,
    /// Another one; this one goes on.
    Other,
}

/// Why a session could not be ended.
#[derive(Debug, thiserror::Error)]
pub enum EndSessionError {
    /// No live session of this member has that id (someone else's, an ended one, or
    /// none at all: the three read the same).
    #[error("no such session")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Portal {
    /// The member's sessions and app tokens still usable now: this one first, then
    /// the most recently active.
    pub async fn live_sessions(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<LiveSession>, StoreError> {
        let mut list: Vec<_> = self
            .live_records(auth)
            .await?
            .iter()
            .map(|s| LiveSession::of(s, &auth.session.token))
            .collect();
        list.sort_by_key(|s| (!s.current, std::cmp::Reverse(s.last_active_at)));
        Ok(list)
    }

    /// Ends the member's live session named `id`, with a `session.end` audit row (its
    /// public id, never its token or digest) in the same change.
    pub async fn end_session(
        &self,
        auth: &Authenticated,
        id: &str,
        ctx: &RequestContext,
    ) -> Result<EndedSession, EndSessionError> {
        let records = self.live_records(auth).await?;
        let target = records
            .iter()
            .find(|s| SessionId::of(&s.token).as_str() == id)
            .ok_or(EndSessionError::NotFound)?;
        let ended = if target.token == auth.session.token {
            EndedSession::This
        } else {
            EndedSession::Other
        };
        let channel = match SessionChannel::of(target) {
            SessionChannel::Web => "web",
            SessionChannel::App => "app",
            SessionChannel::FaceLogin => "face_login",
        };
        let event = self
            .recovery_event("session.end", Outcome::Success, Some(auth.member.id), ctx)
            .details(serde_json::json!({
                "session": id,
                "channel": channel,
                "current": ended == EndedSession::This,
            }));
        let now = self.clock.now();
        self.store
            .apply(ChangeSet {
                sessions: vec![SessionWrite::Revoke {
                    token: target.token,
                    at: now,
                }],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(ended)
    }

    /// The member's sessions usable at this moment under the session policy.
    async fn live_records(&self, auth: &Authenticated) -> Result<Vec<SessionRecord>, StoreError> {
        let now = self.clock.now();
        let policy = &self.policy.session;
        let candidates = self
            .store
            .live_member_sessions(auth.member.id, now - policy.idle)
            .await?;
        Ok(candidates
            .into_iter()
            .filter(|s| s.member_id == auth.member.id && policy.check(s, now).is_ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const EDGE_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const FIREFOX_LINUX: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const WECHAT_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.49";
    const SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

    fn browser(b: Browser, os: Os) -> Device {
        Device::Browser {
            browser: Some(b),
            os: Some(os),
        }
    }

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let web = |ua| Device::classify(ClientKind::Web, Some(ua));
        assert_eq!(web(CHROME_WINDOWS), browser(Browser::Chrome, Os::Windows));
        assert_eq!(web(EDGE_WINDOWS), browser(Browser::Edge, Os::Windows));
        assert_eq!(web(SAFARI_IPHONE), browser(Browser::Safari, Os::Ios));
        assert_eq!(web(SAFARI_MAC), browser(Browser::Safari, Os::MacOs));
        assert_eq!(web(FIREFOX_LINUX), browser(Browser::Firefox, Os::Linux));
        assert_eq!(web(WECHAT_ANDROID), browser(Browser::WeChat, Os::Android));
        let chrome_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
            AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1";
        assert_eq!(web(chrome_iphone), browser(Browser::Chrome, Os::Ios));
        assert_eq!(
            web("Mozilla/5.0 (compatible; Microsoft Internet Explorer)"),
            Device::Unknown,
            "\"Microsoft\" is not ChromeOS"
        );
    }

    #[test]
    fn the_app_is_the_app_and_nonsense_is_an_unknown_device() {
        assert_eq!(
            Device::classify(ClientKind::App, Some("fundpass/2.3 (Android 14; Pixel 8)")),
            Device::App {
                os: Some(Os::Android)
            }
        );
        assert_eq!(
            Device::classify(ClientKind::App, None),
            Device::App { os: None }
        );
        assert_eq!(Device::classify(ClientKind::Web, None), Device::Unknown);
        assert_eq!(
            Device::classify(ClientKind::Web, Some("curl/8.5.0")),
            Device::Unknown
        );
    }

    #[test]
    fn addresses_keep_only_their_network() {
        assert_eq!(mask_address("203.0.113.57").as_deref(), Some("203.0.113.*"));
        assert_eq!(
            mask_address("2001:db8:85a3:1:8a2e:370:7334:1").as_deref(),
            Some("2001:db8:85a3:1:*")
        );
        assert_eq!(
            mask_address("::ffff:198.51.100.7").as_deref(),
            Some("198.51.100.*")
        );
        assert_eq!(mask_address("not an address"), None);
    }

    #[test]
    fn a_session_id_is_stable_short_and_not_a_token() {
        let digest = TokenDigest([7; 32]);
        let id = SessionId::of(&digest);
        assert_eq!(id, SessionId::of(&digest));
        assert_ne!(id, SessionId::of(&TokenDigest([8; 32])));
        assert_eq!(id.as_str().len(), 22);
        assert!(crate::crypto::OpaqueToken::parse(id.as_str()).is_none());
        assert!(!id.as_str().contains(&hex::encode(&digest.0[..4])));
    }

    #[test]
    fn a_face_login_is_its_own_channel() {
        let t0 = time::macros::datetime!(2026-11-23 02:00 UTC);
        let mut s = SessionRecord {
            token: TokenDigest([1; 32]),
            member_id: crate::member::MemberId(1),
            client: ClientKind::App,
            scope: SessionScope::Recovery,
            csrf: String::new(),
            created_at: t0,
            last_seen_at: t0,
            ip: None,
            user_agent: None,
            revoked_at: None,
        };
        assert_eq!(SessionChannel::of(&s), SessionChannel::FaceLogin);
        s.scope = SessionScope::Full;
        assert_eq!(SessionChannel::of(&s), SessionChannel::App);
        s.client = ClientKind::Web;
        assert_eq!(SessionChannel::of(&s), SessionChannel::Web);
    }
}
