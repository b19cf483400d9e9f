//! The token endpoint, the check every internal call starts with, and token
//! introspection.

use time::OffsetDateTime;

use super::assertion::{AssertionError, check_assertion, claimed_client};
use super::{AccessTokenRecord, Scope, ServiceClient, UsedAssertion};
use crate::audit::{Actor, ActorKind, AuditEvent, Channel, Outcome};
use crate::crypto::OpaqueToken;
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, RateDecision, StoreError};
use crate::session::{ClientKind, SessionScope};

/// How a client proves who it is at the token endpoint.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// RFC 7523 `private_key_jwt`: a signed assertion.
    Assertion(String),
    /// `client_secret_basic` (dev mode only).
    Secret { client_id: String, secret: String },
}

/// A new access token.
#[derive(Debug)]
pub struct TokenIssued {
    pub token: OpaqueToken,
    pub record: AccessTokenRecord,
}

/// An authenticated internal call: the client and the scopes its token carries.
#[derive(Debug, Clone)]
pub struct ClientCaller {
    pub client: ServiceClient,
    pub scopes: Vec<Scope>,
}

impl ClientCaller {
    /// Refuses the call unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ClientError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ClientError::MissingScope(scope))
        }
    }

    /// An audit event of this client's, through the request's channel (the internal
    /// API; a member's app or page when the member acts on the client's request).
    pub(crate) fn event(
        &self,
        at: OffsetDateTime,
        action: &str,
        outcome: Outcome,
        ctx: &RequestContext,
    ) -> AuditEvent {
        let mut e = AuditEvent::new(
            at,
            Actor {
                kind: ActorKind::BusinessSystem,
                id: Some(self.client.id.clone()),
            },
            action,
            ctx.channel,
            outcome,
        );
        e.ip = ctx.ip.clone();
        e
    }
}

/// Why a client or its token was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The client could not be authenticated (RFC 6749 `invalid_client`).
    #[error("client authentication failed: {0}")]
    InvalidClient(AssertionError),
    /// `client_secret_basic` outside dev mode, or for a client without a secret.
    #[error("this client authentication method is not accepted")]
    UnsupportedAuthentication,
    /// A scope was asked for that the client does not hold (`invalid_scope`).
    #[error("the client may not have the scope {0}")]
    InvalidScope(String),
    /// The access token is unknown, expired, or its client is disabled.
    #[error("the access token is not valid")]
    InvalidToken,
    /// The token does not carry the scope this call needs.
    #[error("the call needs the scope {}", .0.code())]
    MissingScope(Scope),
    #[error("too many calls; retry after {retry_after}")]
    RateLimited { retry_after: OffsetDateTime },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The RFC 7662 answer about a member's app token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// Unknown, expired, revoked, or not an app token.
    Inactive,
    Active {
        account_no: String,
        /// A full login, or the recovery-only token of a face login.
        scope: SessionScope,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    },
}

impl Portal {
    /// The token endpoint: authenticates the client, records the assertion's `jti`
    /// (a second use is refused, whatever the concurrency: the store's unique key
    /// decides) and issues a token carrying the scopes asked for, or all the client's
    /// when none are named.
    pub async fn client_token(
        &self,
        auth: &ClientAuth,
        requested: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<TokenIssued, ClientError> {
        let now = self.clock.now();
        let result = self.authenticate_client(auth, now).await;
        let (client, used) = match result {
            Ok(found) => found,
            Err((claimed, error)) => {
                self.audit_token_refusal(claimed, &error, ctx, now).await?;
                return Err(error);
            }
        };
        let scopes = match requested.map(Scope::parse_list) {
            None => client.scopes.clone(),
            Some(Err(unknown)) => return Err(ClientError::InvalidScope(unknown)),
            Some(Ok(asked)) => {
                if let Some(extra) = asked.iter().find(|s| !client.has(**s)) {
                    return Err(ClientError::InvalidScope(extra.code().to_owned()));
                }
                asked
            }
        };
        let token = OpaqueToken::generate(self.rng.as_ref());
        let record = AccessTokenRecord {
            digest: token.digest(),
            client_id: client.id.clone(),
            scopes: scopes.clone(),
            issued_at: now,
            expires_at: now + self.policy.clients.token_lifetime,
        };
        let caller = ClientCaller {
            client,
            scopes: scopes.clone(),
        };
        let event = caller
            .event(now, "client.token", Outcome::Success, ctx)
            .details(serde_json::json!({"scope": Scope::join(&scopes)}));
        let change = ChangeSet {
            client_tokens: vec![record.clone()],
            used_assertions: used.into_iter().collect(),
            audit: vec![event],
            ..ChangeSet::default()
        };
        match self.store.apply(change).await {
            Ok(()) => Ok(TokenIssued { token, record }),
            Err(StoreError::Duplicate(_)) => {
                let error = ClientError::InvalidClient(AssertionError::Replayed);
                self.audit_token_refusal(Some(caller.client.id), &error, ctx, now)
                    .await?;
                Err(error)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The client behind `auth`, with the assertion whose `jti` must be recorded; on
    /// refusal, the client id claimed (for the audit trail) and why.
    async fn authenticate_client(
        &self,
        auth: &ClientAuth,
        now: OffsetDateTime,
    ) -> Result<(ServiceClient, Option<UsedAssertion>), (Option<String>, ClientError)> {
        let store_error = |id: Option<String>| move |e: StoreError| (id, ClientError::Store(e));
        match auth {
            ClientAuth::Assertion(token) => {
                let claimed = claimed_client(token);
                let refuse = |e| (claimed.clone(), ClientError::InvalidClient(e));
                let id = claimed
                    .clone()
                    .ok_or_else(|| refuse(AssertionError::Malformed))?;
                let client = self
                    .store
                    .client(&id)
                    .await
                    .map_err(store_error(claimed.clone()))?
                    .ok_or_else(|| refuse(AssertionError::UnknownClient))?;
                let claims =
                    check_assertion(token, &client, &self.policy.clients, now).map_err(refuse)?;
                let used = UsedAssertion {
                    client_id: claims.client_id,
                    jti: claims.jti,
                    expires_at: claims.expires_at.max(now),
                };
                Ok((client, Some(used)))
            }
            ClientAuth::Secret { client_id, secret } => {
                let claimed = Some(client_id.clone());
                if !self.policy.clients.allow_client_secret {
                    return Err((claimed, ClientError::UnsupportedAuthentication));
                }
                let client = self
                    .store
                    .client(client_id)
                    .await
                    .map_err(store_error(claimed.clone()))?;
                let given = OpaqueToken::parse(secret).map(|t| t.digest());
                match client {
                    Some(c) if c.secret_digest.is_some() && c.secret_digest == given => {
                        if c.enabled() {
                            Ok((c, None))
                        } else {
                            Err((
                                claimed,
                                ClientError::InvalidClient(AssertionError::DisabledClient),
                            ))
                        }
                    }
                    Some(_) => Err((
                        claimed,
                        ClientError::InvalidClient(AssertionError::BadSignature),
                    )),
                    None => Err((
                        claimed,
                        ClientError::InvalidClient(AssertionError::UnknownClient),
                    )),
                }
            }
        }
    }

    async fn audit_token_refusal(
        &self,
        claimed: Option<String>,
        error: &ClientError,
        ctx: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let reason = match error {
            ClientError::InvalidClient(e) => e.code(),
            ClientError::UnsupportedAuthentication => "unsupported_authentication",
            _ => "other",
        };
        let mut event = AuditEvent::new(
            now,
            Actor {
                kind: ActorKind::BusinessSystem,
                // Only a well-formed id is recorded: the claim is the caller's text.
                id: claimed.filter(|c| super::parse_client_id(c).is_ok()),
            },
            "client.token",
            Channel::Internal,
            Outcome::Denied,
        )
        .details(serde_json::json!({ "reason": reason }));
        event.ip = ctx.ip.clone();
        self.store
            .apply(ChangeSet {
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await
    }

    /// The check every internal call starts with: a live access token of an enabled
    /// client, within the client's rate limit.
    pub async fn client_caller(&self, token: &str) -> Result<ClientCaller, ClientError> {
        let token = OpaqueToken::parse(token.trim()).ok_or(ClientError::InvalidToken)?;
        let record = self
            .store
            .access_token(&token.digest())
            .await?
            .ok_or(ClientError::InvalidToken)?;
        let now = self.clock.now();
        if now >= record.expires_at {
            return Err(ClientError::InvalidToken);
        }
        let client = self
            .store
            .client(&record.client_id)
            .await?
            .filter(ServiceClient::enabled)
            .ok_or(ClientError::InvalidToken)?;
        let key = format!("client:{}", client.id);
        let window = time::Duration::minutes(1);
        let limit = self.policy.clients.calls_per_minute;
        if let RateDecision::Limited { retry_after } =
            self.limiter.hit(&key, window, limit, now).await?
        {
            return Err(ClientError::RateLimited { retry_after });
        }
        Ok(ClientCaller {
            client,
            scopes: record.scopes,
        })
    }

    /// RFC 7662 introspection of a member's app token.
    pub async fn introspect(
        &self,
        caller: &ClientCaller,
        token: &str,
        ctx: &RequestContext,
    ) -> Result<Introspection, ClientError> {
        caller.require(Scope::TokensIntrospect)?;
        let now = self.clock.now();
        let session = match OpaqueToken::parse(token.trim()) {
            Some(t) => self.store.session(&t.digest()).await?,
            None => None,
        };
        let live = session
            .filter(|s| s.client == ClientKind::App)
            .filter(|s| self.policy.session.check(s, now).is_ok());
        let member = match &live {
            Some(s) => self.store.member_by_id(s.member_id).await?,
            None => None,
        };
        let answer = match (live, member) {
            (Some(s), Some(m)) if m.status != crate::member::MemberStatus::Frozen => {
                Introspection::Active {
                    account_no: m.account_no.as_str().to_owned(),
                    scope: s.scope,
                    issued_at: s.created_at,
                    expires_at: self.policy.session.ends_at(&s),
                }
            }
            _ => Introspection::Inactive,
        };
        let active = matches!(answer, Introspection::Active { .. });
        let event = caller
            .event(now, "client.introspect", Outcome::Success, ctx)
            .details(serde_json::json!({ "active": active }));
        self.store
            .apply(ChangeSet {
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(answer)
    }
}
