//! fundpass domain: the rules of identity documents, personal data protection,
//! credentials and the audit trail, plus the ports that storage and gateway adapters
//! implement. Nothing here performs I/O or reads the clock or the random source on its
//! own: those arrive through [`ports::Clock`] and [`ports::SecretGenerator`].

pub mod assisted;
pub mod audit;
pub mod clients;
pub mod console;
pub mod credentials;
pub mod crypto;
pub mod face;
pub mod flow;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod lockout;
pub mod member;
pub mod metrics;
pub mod payout;
pub mod portal;
pub mod ports;
pub mod qualification;
pub mod record;
pub mod session;
pub mod staff;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
