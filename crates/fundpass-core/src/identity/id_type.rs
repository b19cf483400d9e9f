//! The kinds of identity document a member can be registered under (证件类型).

use serde::{Deserialize, Serialize};

/// A document type, with a stable code used in files, the database and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证: PRC resident identity card, 18 characters (GB 11643-1999).
    ResidentId,
    /// 港澳居民来往内地通行证: Mainland travel permit for Hong Kong and Macao residents.
    HkMacauPermit,
    /// 台湾居民来往大陆通行证: Mainland travel permit for Taiwan residents.
    TaiwanPermit,
    /// 港澳台居民居住证: residence permit for Hong Kong, Macao and Taiwan residents.
    HmtResidencePermit,
    /// 外国人永久居留身份证: foreign permanent resident ID card (old and new forms).
    ForeignPermanentResidence,
    /// 护照: passport.
    Passport,
}

impl IdType {
    /// Every document type, in the order forms list them.
    pub const ALL: [IdType; 6] = [
        Self::ResidentId,
        Self::HkMacauPermit,
        Self::TaiwanPermit,
        Self::HmtResidencePermit,
        Self::ForeignPermanentResidence,
        Self::Passport,
    ];

    /// The stable code (`resident_id`, `passport`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::ResidentId => "resident_id",
            Self::HkMacauPermit => "hk_macau_permit",
            Self::TaiwanPermit => "taiwan_permit",
            Self::HmtResidencePermit => "hmt_residence_permit",
            Self::ForeignPermanentResidence => "foreign_permanent_residence",
            Self::Passport => "passport",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code.trim())
    }

    /// The Chinese name shown on forms.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::ResidentId => "居民身份证",
            Self::HkMacauPermit => "港澳居民来往内地通行证",
            Self::TaiwanPermit => "台湾居民来往大陆通行证",
            Self::HmtResidencePermit => "港澳台居民居住证",
            Self::ForeignPermanentResidence => "外国人永久居留身份证",
            Self::Passport => "护照",
        }
    }

    /// The English name shown on forms.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::ResidentId => "Resident identity card",
            Self::HkMacauPermit => "Mainland travel permit for Hong Kong and Macao residents",
            Self::TaiwanPermit => "Mainland travel permit for Taiwan residents",
            Self::HmtResidencePermit => {
                "Residence permit for Hong Kong, Macao and Taiwan residents"
            }
            Self::ForeignPermanentResidence => "Foreign permanent resident ID card",
            Self::Passport => "Passport",
        }
    }
}

impl std::fmt::Display for IdType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in IdType::ALL {
            assert_eq!(IdType::from_code(t.code()), Some(t));
        }
        assert_eq!(IdType::from_code("driving_licence"), None);
    }
}
