//! A document number that has been checked for its document type.

use time::Date;

use super::clean::clean;
use super::mask::mask_id_number;
use super::passport::parse_passport;
use super::permits::{
    parse_foreign_permanent_residence, parse_hk_macau_permit, parse_taiwan_permit,
};
use super::resident::{parse_residence_permit, parse_resident_id};
use super::{IdNumberError, IdType};

/// A document number (证件号码) known to be well formed for its document type.
///
/// Holding one means the number was parsed, so storage, lookups and password policies never
/// see raw input. It cannot be serialised, and its `Debug` shows the masked form only, so
/// it cannot end up whole in a log by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    id_type: IdType,
    value: String,
    birth_date: Option<Date>,
}

impl IdNumber {
    /// Checks `raw` as a number of `id_type`, forgiving surrounding and inner spaces,
    /// full-width characters and lower-case letters. `today` bounds the date of birth.
    pub fn parse(id_type: IdType, raw: &str, today: Date) -> Result<Self, IdNumberError> {
        let value = clean(raw, &[])?.to_ascii_uppercase();
        let birth_date = match id_type {
            IdType::ResidentId => Some(parse_resident_id(&value, today)?),
            IdType::HmtResidencePermit => Some(parse_residence_permit(&value, today)?),
            IdType::ForeignPermanentResidence => parse_foreign_permanent_residence(&value, today)?,
            IdType::HkMacauPermit => parse_hk_macau_permit(&value).map(|()| None)?,
            IdType::TaiwanPermit => parse_taiwan_permit(&value).map(|()| None)?,
            IdType::Passport => parse_passport(&value).map(|()| None)?,
        };
        Ok(Self {
            id_type,
            value,
            birth_date,
        })
    }

    /// The document type the number was checked against.
    pub fn id_type(&self) -> IdType {
        self.id_type
    }

    /// The canonical form (ASCII, upper case, no spaces) that is encrypted and blind-indexed,
    /// so that the same number typed two ways finds the same member.
    pub fn normalised(&self) -> &str {
        &self.value
    }

    /// The form shown to people, as in `110105********002X`.
    pub fn masked(&self) -> String {
        mask_id_number(&self.value)
    }

    /// The date of birth the number carries: resident IDs, residence permits for Hong Kong,
    /// Macao and Taiwan residents and 18-character foreign permanent resident IDs have one.
    /// Password policies use it to refuse birthdays.
    pub fn birth_date(&self) -> Option<Date> {
        self.birth_date
    }
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdNumber")
            .field("id_type", &self.id_type)
            .field("masked", &self.masked())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::identity::resident::tests::{TODAY, with_check};

    fn parse(id_type: IdType, raw: &str) -> Result<IdNumber, IdNumberError> {
        IdNumber::parse(id_type, raw, TODAY)
    }

    #[test]
    fn a_resident_id_typed_with_spaces_full_width_and_lower_case_is_normalised() {
        for raw in [
            "11010519491231002X",
            "11010519491231002x",
            " 110105 19491231 002x ",
            "１１０１０５１９４９１２３１００２ｘ",
            "110105\u{3000}19491231\u{3000}002Ｘ",
        ] {
            let id = parse(IdType::ResidentId, raw).unwrap();
            assert_eq!(id.normalised(), "11010519491231002X", "{raw}");
            assert_eq!(id.id_type(), IdType::ResidentId);
            assert_eq!(id.birth_date(), Some(date!(1949 - 12 - 31)));
        }
    }

    #[test]
    fn every_document_type_parses_its_own_numbers() {
        let cases = [
            (
                IdType::ResidentId,
                "440524188001010014".to_owned(),
                Some(date!(1880 - 01 - 01)),
            ),
            (
                IdType::HmtResidencePermit,
                with_check("83000019851103002"),
                Some(date!(1985 - 11 - 03)),
            ),
            (
                IdType::ForeignPermanentResidence,
                with_check("91184019800101001"),
                Some(date!(1980 - 01 - 01)),
            ),
            (
                IdType::ForeignPermanentResidence,
                "usa310180101001".to_owned(),
                None,
            ),
            (IdType::HkMacauPermit, "h12345678".to_owned(), None),
            (IdType::TaiwanPermit, "12345678".to_owned(), None),
            (IdType::Passport, "e 1234 5678".to_owned(), None),
        ];
        for (id_type, raw, born) in cases {
            let id = parse(id_type, &raw).unwrap();
            assert_eq!(id.normalised(), raw.replace(' ', "").to_uppercase());
            assert_eq!(id.birth_date(), born, "{raw}");
        }
    }

    #[test]
    fn empty_and_overlong_input_is_refused_for_every_type() {
        for id_type in IdType::ALL {
            assert_eq!(parse(id_type, "  "), Err(IdNumberError::Empty));
            assert_eq!(parse(id_type, &"1".repeat(65)), Err(IdNumberError::TooLong));
        }
    }

    #[test]
    fn the_same_number_under_another_type_is_a_different_id_number() {
        let a = parse(IdType::Passport, "H12345678").unwrap();
        let b = parse(IdType::HkMacauPermit, "H12345678").unwrap();
        assert_eq!(a.normalised(), b.normalised());
        assert_ne!(a, b);
    }

    #[test]
    fn debug_output_shows_only_the_masked_number() {
        let id = parse(IdType::ResidentId, "11010519491231002X").unwrap();
        let debug = format!("{id:?}");
        assert_eq!(
            debug,
            r#"IdNumber { id_type: ResidentId, masked: "110105********002X" }"#
        );
        assert!(!format!("{id:#?}").contains("19491231"));
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn error_messages_never_repeat_the_number() {
        let inputs = [
            (IdType::ResidentId, "110105194912310021"),
            (IdType::ResidentId, "110105194913310021"),
            (IdType::ResidentId, "990105194912310021"),
            (IdType::ResidentId, "110105491231002"),
            (IdType::HmtResidencePermit, "11010519491231002X"),
            (IdType::HkMacauPermit, "H123456789"),
            (IdType::Passport, "E1234-5678"),
        ];
        for (id_type, raw) in inputs {
            let message = parse(id_type, raw).unwrap_err().to_string();
            assert!(!message.contains(raw), "{message}");
            assert!(!message.contains(&raw[..8]), "{message}");
        }
    }
}
