//! Values the API shares between endpoints, described for the OpenAPI document. The
//! core's enums stay free of documentation machinery; these mirror them with the same
//! stable codes and convert both ways.

use fundpass_core::audit::Channel;
use fundpass_core::identity::IdType;
use fundpass_core::member::{HoldReason, MemberStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Type of identity document (证件类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    /// 居民身份证
    ResidentId,
    /// 港澳居民来往内地通行证
    HkMacauPermit,
    /// 台湾居民来往大陆通行证
    TaiwanPermit,
    /// 港澳台居民居住证
    HmtResidencePermit,
    /// 外国人永久居留身份证
    ForeignPermanentResidence,
    /// 护照
    Passport,
}

impl From<DocumentType> for IdType {
    fn from(value: DocumentType) -> Self {
        match value {
            DocumentType::ResidentId => Self::ResidentId,
            DocumentType::HkMacauPermit => Self::HkMacauPermit,
            DocumentType::TaiwanPermit => Self::TaiwanPermit,
            DocumentType::HmtResidencePermit => Self::HmtResidencePermit,
            DocumentType::ForeignPermanentResidence => Self::ForeignPermanentResidence,
            DocumentType::Passport => Self::Passport,
        }
    }
}

impl From<IdType> for DocumentType {
    fn from(value: IdType) -> Self {
        match value {
            IdType::ResidentId => Self::ResidentId,
            IdType::HkMacauPermit => Self::HkMacauPermit,
            IdType::TaiwanPermit => Self::TaiwanPermit,
            IdType::HmtResidencePermit => Self::HmtResidencePermit,
            IdType::ForeignPermanentResidence => Self::ForeignPermanentResidence,
            IdType::Passport => Self::Passport,
        }
    }
}

/// Where a member stands with the online services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Imported, not registered for online services (普通用户).
    Ordinary,
    /// Has set a login and a transaction password (注册用户).
    Registered,
    /// Blocked by the fund.
    Frozen,
}

impl From<MemberStatus> for AccountStatus {
    fn from(value: MemberStatus) -> Self {
        match value {
            MemberStatus::Ordinary => Self::Ordinary,
            MemberStatus::Registered => Self::Registered,
            MemberStatus::Frozen => Self::Frozen,
        }
    }
}

/// Why a hold was placed on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// The login password was reset.
    LoginReset,
    /// The transaction password was reset.
    TransactionReset,
    /// The phone number on file changed.
    PhoneChange,
    /// The member reported an event on their record as not theirs.
    ReportedByMember,
}

impl From<HoldReason> for HoldKind {
    fn from(value: HoldReason) -> Self {
        match value {
            HoldReason::LoginReset => Self::LoginReset,
            HoldReason::TransactionReset => Self::TransactionReset,
            HoldReason::PhoneChange => Self::PhoneChange,
            HoldReason::ReportedByMember => Self::ReportedByMember,
        }
    }
}

/// The channel a change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    /// The web portal (个人网上业务平台).
    Web,
    /// The mobile app.
    App,
    /// A service counter.
    Counter,
    /// The service hotline.
    Hotline,
    /// A business system of the fund.
    Internal,
    /// An operator's command.
    Cli,
    /// fundpass itself.
    System,
}

impl From<Channel> for ChannelName {
    fn from(value: Channel) -> Self {
        match value {
            Channel::Web => Self::Web,
            Channel::App => Self::App,
            Channel::Counter => Self::Counter,
            Channel::Hotline => Self::Hotline,
            Channel::Internal => Self::Internal,
            Channel::Cli => Self::Cli,
            Channel::System => Self::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_codes_are_the_core_codes() {
        for id_type in IdType::ALL {
            let api = DocumentType::from(id_type);
            assert_eq!(serde_json::to_value(api).unwrap(), id_type.code());
            assert_eq!(IdType::from(api), id_type);
        }
        for status in [
            MemberStatus::Ordinary,
            MemberStatus::Registered,
            MemberStatus::Frozen,
        ] {
            assert_eq!(
                serde_json::to_value(AccountStatus::from(status)).unwrap(),
                status.code()
            );
        }
        for reason in [
            HoldReason::LoginReset,
            HoldReason::TransactionReset,
            HoldReason::PhoneChange,
            HoldReason::ReportedByMember,
        ] {
            assert_eq!(
                serde_json::to_value(HoldKind::from(reason)).unwrap(),
                reason.code()
            );
        }
        for channel in [
            Channel::Web,
            Channel::App,
            Channel::Counter,
            Channel::Hotline,
            Channel::Internal,
            Channel::Cli,
            Channel::System,
        ] {
            assert_eq!(
                serde_json::to_value(ChannelName::from(channel)).unwrap(),
                channel.code()
            );
        }
    }
}
