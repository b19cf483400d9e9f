//! Region codes at the start of resident-style numbers (GB/T 2260 province level).

use super::IdNumberError;

/// Province-level codes of the mainland.
pub(super) const MAINLAND_PROVINCES: [&str; 31] = [
    "11", "12", "13", "14", "15", // North
    "21", "22", "23", // North-east
    "31", "32", "33", "34", "35", "36", "37", // East
    "41", "42", "43", "44", "45", "46", // South-central
    "50", "51", "52", "53", "54", // South-west
    "61", "62", "63", "64", "65", // North-west
];

/// Province-level codes listed in GB/T 2260 outside the mainland: Taiwan, Hong Kong, Macao.
const OTHER_PROVINCES: [&str; 3] = ["71", "81", "82"];

/// The six leading digits of residence permits for Hong Kong, Macao and Taiwan residents.
pub(super) const RESIDENCE_PERMIT_PREFIXES: [&str; 3] = ["810000", "820000", "830000"];

/// Whether `code` (two digits) is a mainland province-level code.
pub(super) fn is_mainland_province(code: &str) -> bool {
    MAINLAND_PROVINCES.contains(&code)
}

/// Accepts the two leading digits of a resident ID number when they are a GB/T 2260
/// province-level code. County codes change every year and are not checked.
pub(super) fn check_resident_province(code: &str) -> Result<(), IdNumberError> {
    if is_mainland_province(code) || OTHER_PROVINCES.contains(&code) {
        Ok(())
    } else {
        Err(IdNumberError::UnknownRegion {
            code: code.to_owned(),
        })
    }
}

/// Whether `value` opens with one of [`RESIDENCE_PERMIT_PREFIXES`].
pub(super) fn has_residence_permit_prefix(value: &str) -> bool {
    RESIDENCE_PERMIT_PREFIXES
        .iter()
        .any(|prefix| value.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_level_code_opens_a_resident_id() {
        for code in MAINLAND_PROVINCES.iter().chain(&OTHER_PROVINCES) {
            assert_eq!(check_resident_province(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn codes_that_name_no_province_are_unknown() {
        for code in [
            "00", "10", "16", "20", "24", "30", "38", "47", "55", "60", "66", "83", "91", "99",
        ] {
            assert_eq!(
                check_resident_province(code),
                Err(IdNumberError::UnknownRegion { code: code.into() }),
                "{code}"
            );
        }
    }

    #[test]
    fn residence_permit_prefixes_need_all_six_digits() {
        assert!(has_residence_permit_prefix("810000199001011234"));
        assert!(has_residence_permit_prefix("830000"));
        assert!(!has_residence_permit_prefix("810001199001011234"));
        assert!(!has_residence_permit_prefix("110105"));
    }
}
