//! What the program tells its operator. Printing is this program's purpose, so the
//! workspace's `print_stdout` lint is lifted here and nowhere else.

#![allow(clippy::print_stdout)]

/// A numbered step of the worked example.
pub fn step(number: u32, text: &str) {
    println!("\n[{number}] {text}");
}

/// A fact under the current step.
pub fn detail(text: &str) {
    println!("    {text}");
}

/// A line of its own (results, events).
pub fn line(text: &str) {
    println!("{text}");
}

/// An amount in fen as people read it: `12345.67`.
pub fn yuan(amount_fen: i64) -> String {
    let sign = if amount_fen < 0 { "-" } else { "" };
    let fen = amount_fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_yuan_with_two_decimals() {
        assert_eq!(yuan(1_234_567), "12345.67");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-100), "-1.00");
    }
}
