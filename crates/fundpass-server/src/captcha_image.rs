//! Captcha images: the answer is drawn from the injected [`SecretGenerator`] and only
//! the drawing (glyphs, noise, waves, dots) is left to the `captcha` crate.
//!
//! The crate picks its characters with its own thread-local RNG, but it draws a
//! character chosen at random from a settable list. Setting that list to the one
//! character wanted before each draw renders exactly the answer chosen here.

use captcha::Captcha;
use captcha::filters::{Dots, Noise, Wave};
use fundpass_core::ports::SecretGenerator;

/// Characters an answer is made of: digits and capital letters without the look-alikes
/// 0/O, 1/I/l. The crate's font has a glyph for each of them.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Characters per answer.
pub const ANSWER_LEN: usize = 5;

/// Rendered size in pixels.
const WIDTH: u32 = 220;
const HEIGHT: u32 = 120;

/// A challenge as shown to a member: the PNG goes to the page, the answer (normalised
/// and MACed) to the captcha store.
#[derive(Clone, PartialEq, Eq)]
pub struct CaptchaImage {
    /// The characters drawn, in capitals; the portal compares typed answers case-insensitively.
    pub answer: String,
    /// The image, PNG-encoded.
    pub png: Vec<u8>,
}

impl std::fmt::Debug for CaptchaImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptchaImage")
            .field("answer", &"[hidden]")
            .field("png_bytes", &self.png.len())
            .finish()
    }
}

/// Why no image could be produced. The crate's PNG encoder reports failure without a
/// reason, so there is nothing more to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the captcha image could not be encoded")]
pub struct CaptchaRenderError;

/// Makes a new challenge: an answer of [`ANSWER_LEN`] characters from [`ALPHABET`],
/// chosen with `rng`, and its distorted image.
pub fn generate(rng: &dyn SecretGenerator) -> Result<CaptchaImage, CaptchaRenderError> {
    let answer = pick_answer(rng);
    let png = render(&answer).ok_or(CaptchaRenderError)?;
    Ok(CaptchaImage { answer, png })
}

/// Full-width ASCII forms (U+FF01 to U+FF5E) to their ASCII counterparts.
/// Uniform choice from the alphabet by rejection sampling, so no character is more
/// likely than another.
fn pick_answer(rng: &dyn SecretGenerator) -> String {
    let len = ALPHABET.len();
    let limit = 256 - 256 % len;
    let mut answer = String::with_capacity(ANSWER_LEN);
    let mut buf = [0u8; ANSWER_LEN];
    while answer.len() < ANSWER_LEN {
        let wanted = &mut buf[..ANSWER_LEN - answer.len()];
        rng.fill(wanted);
        for &b in wanted.iter().filter(|&&b| usize::from(b) < limit) {
            answer.push(char::from(ALPHABET[usize::from(b) % len]));
        }
    }
    answer
}

/// Draws `answer` with the crate: each character is drawn from a one-character list so
/// the crate cannot substitute its own. Filters follow the crate's medium samples.
fn render(answer: &str) -> Option<Vec<u8>> {
    let mut image = Captcha::new();
    for c in answer.chars() {
        image.set_chars(&[c]).add_char();
    }
    if image.chars_as_string() != answer {
        return None;
    }
    image
        .apply_filter(Noise::new(0.3))
        .apply_filter(Wave::new(2.0, 10.0))
        .view(WIDTH, HEIGHT)
        .apply_filter(Dots::new(12).max_radius(6).min_radius(3));
    image.as_png()
}

#[cfg(test)]
mod tests {
    use fundpass_core::testing::CountingRng;

    use super::*;

    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

    #[test]
    fn the_image_is_a_png_of_the_answer() {
        let captcha = generate(&CountingRng::default()).unwrap();
        assert!(captcha.png.starts_with(PNG_SIGNATURE));
        assert!(captcha.png.len() > 1000, "{} bytes", captcha.png.len());
        // Counting bytes 0, 1, 2 … pick the first characters of the alphabet.
        assert_eq!(captcha.answer, "23456");
    }

    #[test]
    fn answers_come_from_the_generator_and_use_the_alphabet() {
        let rng = CountingRng::default();
        let answers: Vec<String> = (0..60).map(|_| pick_answer(&rng)).collect();
        for answer in &answers {
            assert_eq!(answer.len(), ANSWER_LEN);
            assert!(answer.bytes().all(|b| ALPHABET.contains(&b)), "{answer}");
        }
        let seen: std::collections::BTreeSet<char> =
            answers.iter().flat_map(|a| a.chars()).collect();
        assert_eq!(seen.len(), ALPHABET.len(), "every character is reachable");
    }

    #[test]
    fn rejected_bytes_do_not_bias_the_answer() {
        // Bytes 248..=255 fall outside the largest multiple of 31 and are skipped.
        #[derive(Default)]
        struct High(std::sync::atomic::AtomicUsize);
        impl SecretGenerator for High {
            fn fill(&self, buf: &mut [u8]) {
                for b in buf {
                    let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    *b = if n.is_multiple_of(2) { 255 } else { 32 };
                }
            }
        }
        assert_eq!(pick_answer(&High::default()), "33333");
    }

    #[test]
    fn the_alphabet_has_no_look_alikes() {
        for c in [b'0', b'O', b'1', b'I', b'l', b'o'] {
            assert!(!ALPHABET.contains(&c), "{}", char::from(c));
        }
    }

    #[test]
    fn every_character_renders_even_the_widest_and_narrowest() {
        for c in ALPHABET {
            let answer = String::from(char::from(*c)).repeat(ANSWER_LEN);
            let png = render(&answer).unwrap();
            assert!(png.starts_with(PNG_SIGNATURE), "{answer}");
        }
    }
}
