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

/// The log output, boxed so that `serve` can switch it to JSON once it has read the
/// configuration.
type Output = Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

static OUTPUT: std::sync::OnceLock<
    tracing_subscriber::reload::Handle<Output, tracing_subscriber::Registry>,
> = std::sync::OnceLock::new();

/// Logs to stderr as text; `RUST_LOG` refines the level.
pub fn init_tracing(verbose: u8) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let (output, handle) = tracing_subscriber::reload::Layer::new(text_output());
    let _ = OUTPUT.set(handle);
    tracing_subscriber::registry()
        .with(output)
        .with(filter)
        .init();
}

fn text_output() -> Output {
    use tracing_subscriber::Layer as _;
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .boxed()
}

/// Whether the log is JSON (then every line on stderr must be a JSON object).
static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A message for the operator on stderr: a plain line, or an info log line when the
/// log is JSON, so that a log collector reads nothing but objects.
pub fn say(line: impl std::fmt::Display) {
    if JSON.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::info!("{line}");
    } else {
        eprintln!("{line}");
    }
}

/// Switches the log to one JSON object a line: time, level, message and fields, with
/// the request's span (method, path, request id) on each line written inside it.
pub fn log_as_json() -> anyhow::Result<()> {
    use tracing_subscriber::Layer as _;
    let json: Output = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(std::io::stderr)
        .boxed();
    match OUTPUT.get() {
        Some(handle) => {
            handle
                .reload(json)
                .map_err(|e| anyhow::anyhow!("cannot switch the log to JSON: {e}"))?;
            JSON.store(true, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
        None => Ok(()),
    }
}

/// The operating-system user running a command, recorded as the actor of operator
/// audit events.
pub fn operator_name() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
