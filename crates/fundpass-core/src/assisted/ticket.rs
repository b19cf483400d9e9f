//! One-time reset tickets: what the counter prints on a receipt, or what the hotline
//! sends by SMS to the phone on file, for the member to set new secrets with.
//!
//! Twelve characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn
//! without bias from the CSPRNG: 31^12 ≈ 2^59 values. Only a keyed MAC is stored, so a
//! copy of the database can neither redeem a ticket nor test guesses offline.

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::Keyring;
use crate::ports::SecretGenerator;

/// The characters a ticket is made of.
pub const TICKET_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a ticket.
pub const TICKET_CHARS: usize = 12;

/// A reset ticket as the member holds it. Debug never shows it.
#[derive(Clone)]
pub struct ResetTicket(SecretString);

impl std::fmt::Debug for ResetTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResetTicket([redacted])")
    }
}

impl ResetTicket {
    /// A fresh ticket (rejection sampling: every character equally likely).
    pub fn generate(rng: &dyn SecretGenerator) -> Self {
        let n = TICKET_ALPHABET.len();
        let limit = 256 - (256 % n);
        let mut out = String::with_capacity(TICKET_CHARS);
        while out.len() < TICKET_CHARS {
            let mut b = [0u8; 16];
            rng.fill(&mut b);
            for byte in b {
                let v = usize::from(byte);
                if v < limit && out.len() < TICKET_CHARS {
                    out.push(char::from(TICKET_ALPHABET[v % n]));
                }
            }
        }
        Self(SecretString::from(out))
    }

    /// What the member typed, if it can be a ticket: case, spaces and dashes do not
    /// matter.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > 64 {
            return None;
        }
        let cleaned: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let ok =
            cleaned.len() == TICKET_CHARS && cleaned.bytes().all(|b| TICKET_ALPHABET.contains(&b));
        ok.then(|| Self(SecretString::from(cleaned)))
    }

    /// Grouped for reading aloud and typing: `ABCD-EFGH-JKMN`.
    pub fn display(&self) -> String {
        let s = self.0.expose_secret();
        let groups: Vec<&str> = [&s[..4], &s[4..8], &s[8..]].to_vec();
        groups.join("-")
    }

    /// The stored form: a keyed MAC.
    pub fn mac(&self, keyring: &Keyring) -> Vec<u8> {
        keyring
            .answer_mac("reset-ticket", self.0.expose_secret())
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;
    use crate::testing::CountingRng;

    #[test]
    fn tickets_use_the_unambiguous_alphabet_and_parse_back() {
        let rng = CountingRng::default();
        let ring = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        for _ in 0..50 {
            let t = ResetTicket::generate(&rng);
            let shown = t.display();
            assert_eq!(shown.len(), TICKET_CHARS + 2);
            assert!(!shown.contains(['0', 'O', '1', 'I', 'L']));
            let typed = ResetTicket::parse(&shown.to_lowercase().replace('-', " ")).unwrap();
            assert_eq!(typed.mac(&ring), t.mac(&ring));
            assert!(!format!("{t:?}").contains(&shown[..4]));
        }
    }

    #[test]
    fn malformed_tickets_are_refused_before_any_lookup() {
        assert!(ResetTicket::parse("ABCD-EFGH-JKM").is_none());
        assert!(
            ResetTicket::parse("ABCD-EFGH-JKMO").is_none(),
            "O is not used"
        );
        assert!(ResetTicket::parse("ABCD-EFGH-JKMN-P").is_none());
        assert!(ResetTicket::parse(&"A".repeat(100)).is_none());
        assert!(ResetTicket::parse("ABCD-EFGH-JKMN").is_some());
    }
}
