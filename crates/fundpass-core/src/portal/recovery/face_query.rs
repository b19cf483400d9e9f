//! Face login through a query-by-token provider ([`FaceProvider`]): the start asks the
//! provider for a handle bound to the flow, the app runs the provider's SDK with it,
//! and the completion fetches the result from the provider itself. The app's own
//! report of the outcome is never read.
//!
//! The handle is kept in the flow's nonce column as `<provider>:<handle>` (a unique
//! column: one handle, one flow) and is good for one check: a refused result ends the
//! flow, so the same failed check is never counted twice, and an accepted one
//! completes it in the transaction that opens the session. Whatever the provider, the
//! result must name the document the flow was started for (and, for a member, the
//! name on file), come within the handle's lifetime, and pass on the provider's own
//! verdict; its similarity score goes to the audit trail only.

use subtle::ConstantTimeEq as _;

use super::{FaceStartInput, RecoveryError};
use crate::audit::Outcome;
use crate::crypto::{OpaqueToken, TokenDigest};
use crate::face::{FaceRejection, subject_hash};
use crate::flow::{FlowError, FlowRecord, FlowState};
use crate::identity::{IdNumber, IdType};
use crate::portal::{LoginSuccess, Portal, RequestContext, china_today};
use crate::ports::{FaceBegin, FaceConclusion, FaceProvider, FaceProviderError};

/// The purpose of the keyed digest a check's order reference is cut from.
const ORDER_REF: &str = "face-order-ref";

/// The longest handle accepted from a provider (theirs are 32–64 characters).
const MAX_HANDLE_CHARS: usize = 128;

/// The longest `meta_info` passed on to a provider, in characters.
pub const MAX_META_INFO_CHARS: usize = 4 * 1024;

/// `meta_info` sent with a face check's start is empty, too long or has control
/// characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadMetaInfo;

/// The provider SDK's meta information as sent, trimmed; a value sent must be well
/// formed even where the provider does not use it.
pub(crate) fn clean_meta_info(meta: Option<&str>) -> Result<Option<&str>, BadMetaInfo> {
    let meta = meta.map(str::trim);
    if meta.is_some_and(|m| {
        m.is_empty() || m.chars().count() > MAX_META_INFO_CHARS || m.chars().any(char::is_control)
    }) {
        return Err(BadMetaInfo);
    }
    Ok(meta)
}

/// How a provider's handle is kept on the flow.
pub(super) fn stored_handle(provider: &str, handle: &str) -> String {
    format!("{provider}:{handle}")
}

/// The provider and handle of a flow started with a query-by-token provider; `None`
/// for a signed-result nonce (base64url, which has no `:`).
pub(super) fn parse_stored_handle(stored: &str) -> Option<(&str, &str)> {
    stored.split_once(':')
}

impl Portal {
    /// Checks the optional name and meta information of a face-login start, whatever
    /// the provider (a value sent must be well formed even where it is not used), and
    /// what a query-by-token provider needs: a resident identity card, the name on
    /// it, and the SDK's meta information when it wants it. Returns the trimmed name
    /// and meta information.
    pub(super) fn face_start_details<'a>(
        &self,
        provider: Option<&std::sync::Arc<dyn FaceProvider>>,
        id: &IdNumber,
        input: &FaceStartInput<'a>,
    ) -> Result<(Option<String>, Option<&'a str>), RecoveryError> {
        let name = match input.name {
            Some(raw) => Some(
                crate::member::typed_name(raw)
                    .ok_or(RecoveryError::BadName)?
                    .to_owned(),
            ),
            None => None,
        };
        let meta_info = clean_meta_info(input.meta_info)
            .map_err(|BadMetaInfo| RecoveryError::FaceMetaInfoRequired)?;
        let Some(provider) = provider else {
            return Ok((name, meta_info));
        };
        if id.id_type() != IdType::ResidentId {
            return Err(RecoveryError::FaceDocumentUnsupported);
        }
        if name.is_none() {
            return Err(RecoveryError::BadName);
        }
        if provider.needs_meta_info() && meta_info.is_none() {
            return Err(RecoveryError::FaceMetaInfoRequired);
        }
        Ok((name, meta_info))
    }

    /// Asks the provider for a handle for one check of the person typed.
    pub(crate) async fn begin_face_query(
        &self,
        provider: &dyn FaceProvider,
        flow: &OpaqueToken,
        id: &IdNumber,
        name: &str,
        meta_info: Option<&str>,
    ) -> Result<String, RecoveryError> {
        let order_ref = self.face_order_ref(&flow.digest());
        let request = FaceBegin {
            order_ref: &order_ref,
            name,
            id_number: id.normalised(),
            meta_info,
        };
        let handle = provider
            .begin(&request)
            .await
            .map_err(|e| unavailable(provider, &e))?
            .0;
        if handle.is_empty()
            || handle.chars().count() > MAX_HANDLE_CHARS
            || !handle.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(RecoveryError::FaceProviderUnavailable(format!(
                "{} answered a handle fundpass cannot keep",
                provider.name()
            )));
        }
        Ok(handle)
    }

    /// fundpass's reference for the check a flow asks for: 32 hex digits of a keyed
    /// digest of the flow id's digest, so the provider's records can be matched to
    /// the flow without naming it.
    pub(crate) fn face_order_ref(&self, flow: &TokenDigest) -> String {
        let mac = self.keyring.answer_mac(ORDER_REF, &hex::encode(flow.0));
        hex::encode(&mac[..16])
    }

    /// Fetches and checks the provider's result for a flow started with it.
    pub(super) async fn complete_face_query(
        &self,
        record: &FlowRecord,
        provider_name: &str,
        handle: &str,
        ctx: &RequestContext,
    ) -> Result<LoginSuccess, RecoveryError> {
        let now = self.clock.now();
        if record.state != FlowState::FacePending {
            // The handle's one check was used (accepted or refused) already.
            self.face_audit(record, Outcome::Denied, "after_use", ctx)
                .await?;
            return Err(RecoveryError::FaceReplayed);
        }
        if now >= record.expires_at {
            crate::metrics::flow_expired(record.kind);
            return Err(RecoveryError::Flow(FlowError::Expired));
        }
        let Some(provider) = self
            .face_provider
            .as_ref()
            .filter(|p| p.name() == provider_name)
        else {
            return Err(RecoveryError::FaceProviderUnavailable(format!(
                "the flow was started with {provider_name}, which is no longer configured"
            )));
        };
        let (key, counter, member) = self.face_result_gate(record, ctx).await?;
        let expected = record.subject_key.clone().unwrap_or_default();
        let checked = if now - record.created_at > provider.handle_lifetime() {
            Err(FaceRejection::Stale)
        } else {
            match provider.conclude(handle).await {
                Ok(conclusion) => self.check_conclusion(
                    conclusion,
                    &self.face_order_ref(&record.id),
                    &expected,
                    member.as_ref().map(|m| m.name.as_str()),
                ),
                Err(FaceProviderError::Unfinished) => return Err(RecoveryError::FaceUnfinished),
                Err(FaceProviderError::HandleExpired) => Err(FaceRejection::Stale),
                Err(e) => return Err(unavailable(provider.as_ref(), &e)),
            }
        };
        let verdict = match (checked, member) {
            (Ok(conclusion), Some(m)) => Ok((conclusion, m)),
            (Ok(_), None) => Err(None),
            (Err(rejection), _) => Err(Some(rejection)),
        };
        let (next, step) = record.enter_face_result(verdict.is_ok(), now, &self.policy.flow);
        let (conclusion, member) = match verdict {
            Ok(ok) => ok,
            Err(rejection) => {
                // One handle, one check: the flow ends, so this result is never
                // fetched and counted again.
                let dead = FlowRecord {
                    state: FlowState::Dead,
                    ..next
                };
                return Err(self
                    .face_failed(record, dead, Ok(()), rejection, &key, &counter, ctx)
                    .await);
            }
        };
        step.map_err(RecoveryError::from_flow)?;
        let details = serde_json::json!({
            "provider": provider.name(),
            "provider_code": conclusion.provider_code,
            "similarity": conclusion.similarity,
            "provider_ref": handle,
        });
        self.face_succeeded(record, next, &member, &key, &counter, details, ctx)
            .await
    }

    /// The core's checks of a provider's answer, the same for every provider and every
    /// use of a face check: the reference it kept is `ours` (the flow's or the
    /// attempt's), the person it names is the expected document (and, when known, the
    /// member's name), and its own verdict is a pass.
    pub(crate) fn check_conclusion(
        &self,
        conclusion: FaceConclusion,
        ours: &str,
        expected_subject: &[u8],
        name: Option<&str>,
    ) -> Result<FaceConclusion, FaceRejection> {
        if let Some(order_ref) = &conclusion.order_ref
            && !bool::from(order_ref.as_bytes().ct_eq(ours.as_bytes()))
        {
            return Err(FaceRejection::NonceMismatch);
        }
        if let Some(subject) = &conclusion.subject {
            let id = IdNumber::parse(
                IdType::ResidentId,
                &subject.id_number,
                china_today(self.clock.now()),
            )
            .map_err(|_| FaceRejection::WrongSubject)?;
            let key = self.face_subject_key(&subject_hash(id.id_type(), id.normalised()));
            let same_document = bool::from(key.ct_eq(expected_subject));
            let same_name = name.is_none_or(|n| subject.name.trim() == n);
            if !same_document || !same_name {
                return Err(FaceRejection::WrongSubject);
            }
        }
        conclusion.verdict?;
        Ok(conclusion)
    }
}

/// A provider failure as the member sees it; the text names the provider for the log.
fn unavailable(provider: &dyn FaceProvider, error: &FaceProviderError) -> RecoveryError {
    RecoveryError::FaceProviderUnavailable(format!("{}: {error}", provider.name()))
}
