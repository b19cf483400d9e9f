//! Time zone, log output and operator identity for the command line.

use fundpass_core::ports::Clock;
use time::UtcOffset;

pub use fundpass_server::system::{OsSecrets, SystemClock};

/// China Standard Time (UTC+8, no daylight saving): dates members see and birth-date
/// checks use it.
pub const CHINA_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Today's date in China.
pub fn today(clock: &dyn Clock) -> time::Date {
    clock.now().to_offset(CHINA_OFFSET).date()
}

/// An instant as China's clock shows it, to the second: `2026-12-07 16:00:00`.
pub fn china_time(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(CHINA_OFFSET);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Logs to stderr; `RUST_LOG` refines the level.
pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The operating-system user running a command, recorded as the actor of operator
/// audit events.
pub fn operator_name() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
