//! The real clock and the operating system's random source, in one place: everything
//! else takes `now` and random bytes as arguments, so the tests can pin them.

/// Seconds since the Unix epoch, by this machine's clock.
#[allow(clippy::disallowed_methods)] // This program is an adapter: it owns the clock.
pub fn now_unix() -> anyhow::Result<i64> {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    Ok(i64::try_from(since.as_secs())?)
}

/// `N` bytes from the operating system's CSPRNG.
#[allow(clippy::disallowed_methods)] // This program is an adapter: it owns the randomness.
pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system's random source failed: {e}"))?;
    Ok(bytes)
}
