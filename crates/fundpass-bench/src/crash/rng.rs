//! A small seeded generator for the moments of faults, so that a run can be repeated
//! with `--seed` (xorshift64*, which is plenty for picking delays).

use fundpass_core::ports::SecretGenerator as _;
use fundpass_server::system::OsSecrets;

/// Delays drawn from a seed.
#[derive(Debug, Clone)]
pub struct Rng {
    seed: u64,
    state: u64,
}

impl Rng {
    /// From `seed`, or from the operating system's random source.
    pub fn seeded(seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            OsSecrets.fill(&mut bytes);
            u64::from_le_bytes(bytes)
        });
        Self {
            seed,
            // Zero would stay zero.
            state: seed.max(1),
        }
    }

    /// The seed, to print.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number from `low` to `high`, both included.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        let span = high.saturating_sub(low).saturating_add(1);
        low + self.next() % span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_repeats_its_numbers_and_stays_in_range() {
        let (mut a, mut b) = (Rng::seeded(Some(7)), Rng::seeded(Some(7)));
        for _ in 0..1000 {
            let n = a.between(200, 2500);
            assert_eq!(n, b.between(200, 2500));
            assert!((200..=2500).contains(&n));
        }
        assert_eq!(Rng::seeded(Some(0)).between(5, 5), 5);
    }
}
