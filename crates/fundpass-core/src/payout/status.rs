//! What a business system may read about a member before paying: holds in force and
//! where the member stands. Never the document number or the phone.

use time::OffsetDateTime;

use super::PayoutError;
use crate::clients::{ClientCaller, Scope};
use crate::lockout::Gate;
use crate::member::{AccountNumber, Hold, MemberRecord, MemberStatus};
use crate::portal::Portal;

/// A member's holds in force.
#[derive(Debug, Clone)]
pub struct MemberHolds {
    pub account_no: String,
    pub holds: Vec<Hold>,
    /// Whether any of them refuses payouts under the current policy.
    pub blocks_payouts: bool,
}

/// Where a member stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStanding {
    pub account_no: String,
    pub status: MemberStatus,
    /// Locked until this instant (China midnight), if locked.
    pub transaction_locked_until: Option<OffsetDateTime>,
    /// Disabled until the member recovers it.
    pub transaction_disabled: bool,
}

impl Portal {
    /// The holds in force on the member with `account_no`.
    pub async fn client_member_holds(
        &self,
        caller: &ClientCaller,
        account_no: &str,
    ) -> Result<MemberHolds, PayoutError> {
        caller.require(Scope::HoldsRead)?;
        let member = self.any_member(account_no).await?;
        let holds = self.store.active_holds(member.id, self.clock.now()).await?;
        let policy = &self.policy.payout;
        Ok(MemberHolds {
            account_no: member.account_no.as_str().to_owned(),
            blocks_payouts: holds.iter().any(|h| policy.blocks(h.reason)),
            holds,
        })
    }

    /// The status and transaction-password lock of the member with `account_no`.
    pub async fn client_member_standing(
        &self,
        caller: &ClientCaller,
        account_no: &str,
    ) -> Result<MemberStanding, PayoutError> {
        caller.require(Scope::MembersRead)?;
        let member = self.any_member(account_no).await?;
        let gate = self.policy.transaction_lock.gate(
            &member.transaction_lock,
            member.transaction_disabled,
            self.clock.now(),
        );
        Ok(MemberStanding {
            account_no: member.account_no.as_str().to_owned(),
            status: member.status,
            transaction_locked_until: match gate {
                Gate::Locked { until } => Some(until),
                _ => None,
            },
            transaction_disabled: gate == Gate::Disabled,
        })
    }

    async fn any_member(&self, account_no: &str) -> Result<MemberRecord, PayoutError> {
        let account = AccountNumber::parse(account_no).map_err(|_| PayoutError::UnknownMember)?;
        self.store
            .member_by_account(&account)
            .await?
            .ok_or(PayoutError::UnknownMember)
    }
}
