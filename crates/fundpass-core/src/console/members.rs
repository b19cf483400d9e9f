//! Finding a member from the console (results masked) and the audited reveal of a
//! full document and phone number.

use super::{ConsoleError, StaffAuth};
use crate::audit::Outcome;
use crate::crypto::Field;
use crate::identity::{IdNumber, IdType, mask_id_number};
use crate::member::{Hold, MemberId, MemberRecord, MemberStatus};
use crate::portal::{Portal, RequestContext};
use crate::ports::DeliveryState;
use crate::staff::StaffAction;

/// What the console shows of a member: never a full document or phone number.
#[derive(Debug, Clone)]
pub struct MemberSummary {
    pub id: MemberId,
    pub account_no: String,
    pub name: String,
    pub id_type: IdType,
    /// `110105********123X`.
    pub id_masked: String,
    /// `138****5678`.
    pub phone_masked: String,
    pub status: MemberStatus,
    /// Holds in force.
    pub holds: Vec<Hold>,
    /// The codes of the security questions the member set (never the answers).
    pub questions: Vec<String>,
    /// The member's newest texts: what for, when, and whether they arrived (never
    /// their text).
    pub messages: Vec<MessageSummary>,
}

/// One text to the member as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    /// The purpose's code (`registration_code`, `reset_notice`…).
    pub purpose: String,
    pub created_at: time::OffsetDateTime,
    pub state: DeliveryState,
}

/// How many of a member's texts the member page lists.
const MESSAGES_SHOWN: u32 = 10;

/// A full document and phone number, shown once after an audited reveal.
#[derive(Clone)]
pub struct Revealed {
    pub id_number: String,
    pub phone: String,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Revealed([redacted])")
    }
}

impl Portal {
    /// The console's address of a member for this staff session: the member id with
    /// a keyed MAC over it and the session. Staff reach a member's page only through
    /// a document look-up in their own session; member ids cannot be walked through.
    pub fn member_ref(&self, auth: &StaffAuth, member: MemberId) -> String {
        format!("{}-{}", member.0, self.member_ref_tag(auth, member))
    }

    /// The member a [`Self::member_ref`] of this session names; `None` for anything
    /// else (another session's address, a bare id, junk).
    pub fn member_from_ref(&self, auth: &StaffAuth, raw: &str) -> Option<MemberId> {
        let (id, tag) = raw.split_once('-')?;
        let member = MemberId(id.parse::<i64>().ok().filter(|id| *id > 0)?);
        let expected = self.member_ref_tag(auth, member);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            tag.as_bytes(),
        ))
        .then_some(member)
    }

    fn member_ref_tag(&self, auth: &StaffAuth, member: MemberId) -> String {
        let bound = format!("{}:{}", hex::encode(auth.session.token.0), member.0);
        hex::encode(&self.keyring.answer_mac("staff-member-ref", &bound)[..10])
    }

    /// Finds the member holding a document (type and number), masked. Audited,
    /// found or not; refused on the staff member's own account.
    pub async fn staff_look_up(
        &self,
        auth: &StaffAuth,
        id_type: IdType,
        id_number: &str,
        ctx: &RequestContext,
    ) -> Result<MemberSummary, ConsoleError> {
        const ACTION: &str = "staff.look_up_member";
        self.require(auth, StaffAction::LookUpMember, ctx).await?;
        let today = crate::portal::china_today(self.clock.now());
        let id = match IdNumber::parse(id_type, id_number, today) {
            Ok(id) => id,
            Err(e) => {
                return self
                    .staff_refused(auth, ACTION, None, ConsoleError::BadIdNumber(e), ctx)
                    .await;
            }
        };
        let index = self.keyring.blind_index(Field::IdNumber, id.normalised());
        let Some(member) = self.store.member_by_id_number(id_type, &index).await? else {
            return self
                .staff_refused(auth, ACTION, None, ConsoleError::MemberNotFound, ctx)
                .await;
        };
        self.refuse_own_account(auth, &member, ACTION, ctx).await?;
        let event = self.staff_event(
            auth,
            ACTION,
            Outcome::Success,
            Some(member.id),
            serde_json::json!({"id_number": id.masked()}),
            ctx,
        );
        self.audit_only(event).await?;
        self.summary(&member).await
    }

    /// The masked view of a member already found (the member's console page).
    pub async fn staff_member(
        &self,
        auth: &StaffAuth,
        member: MemberId,
        ctx: &RequestContext,
    ) -> Result<MemberSummary, ConsoleError> {
        self.require(auth, StaffAction::LookUpMember, ctx).await?;
        let record = self
            .member_for_staff(auth, member, "staff.look_up_member", ctx)
            .await?;
        self.summary(&record).await
    }

    /// The full document and phone number, for a role allowed to see them, with the
    /// reason given; one audit event per reveal.
    pub async fn staff_reveal(
        &self,
        auth: &StaffAuth,
        member: MemberId,
        reason: &str,
        ctx: &RequestContext,
    ) -> Result<Revealed, ConsoleError> {
        const ACTION: &str = "staff.reveal_full_identity";
        self.require(auth, StaffAction::RevealFullIdentity, ctx)
            .await?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 || reason.chars().any(char::is_control)
        {
            return self
                .staff_refused(
                    auth,
                    ACTION,
                    Some(member),
                    ConsoleError::BadField("reason"),
                    ctx,
                )
                .await;
        }
        let record = self.member_for_staff(auth, member, ACTION, ctx).await?;
        let facts = self.member_facts(&record)?;
        let event = self.staff_event(
            auth,
            ACTION,
            Outcome::Success,
            Some(member),
            serde_json::json!({"reason": mask_numbers(reason)}),
            ctx,
        );
        self.audit_only(event).await?;
        Ok(Revealed {
            id_number: facts.id_number,
            phone: facts.phone.normalised().to_owned(),
        })
    }

    pub(crate) async fn summary(
        &self,
        member: &MemberRecord,
    ) -> Result<MemberSummary, ConsoleError> {
        let facts = self.member_facts(member)?;
        let holds = self.store.active_holds(member.id, self.clock.now()).await?;
        let questions = self
            .store
            .security_answers(member.id)
            .await?
            .into_iter()
            .map(|a| a.question)
            .collect();
        let messages = self
            .store
            .member_messages(member.id, MESSAGES_SHOWN)
            .await?
            .into_iter()
            .map(|m| MessageSummary {
                state: m.delivery_state(),
                purpose: m.purpose,
                created_at: m.created_at,
            })
            .collect();
        Ok(MemberSummary {
            id: member.id,
            account_no: member.account_no.to_string(),
            name: member.name.clone(),
            id_type: member.id_type,
            id_masked: mask_id_number(&facts.id_number),
            phone_masked: facts.phone.masked(),
            status: member.status,
            holds,
            questions,
            messages,
        })
    }
}

/// A free-text reason with every run of six or more letters and digits that holds a
/// digit masked, so a document or phone number typed into it never reaches the
/// audit trail.
pub(crate) fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 6 && run.chars().any(|c| c.is_ascii_digit()) {
            out.extend(run.chars().map(|_| '*'));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::mask_numbers;

    #[test]
    fn numbers_in_a_reason_are_masked_and_words_kept() {
        assert_eq!(
            mask_numbers("核对 110105199003071239 的证件"),
            "核对 ****************** 的证件"
        );
        assert_eq!(
            mask_numbers("call 13812345678 back"),
            "call *********** back"
        );
        assert_eq!(
            mask_numbers("case F-0012 complaint"),
            "case F-0012 complaint"
        );
        assert_eq!(mask_numbers("verification"), "verification");
    }
}
