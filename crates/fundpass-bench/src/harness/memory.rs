//! A process's memory as Linux reports it in `/proc/PID/status`.

/// A `kB` line of `/proc/PID/status` (`VmRSS`, `VmHWM`), in KiB; `None` off Linux or
/// once the process is gone.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&status, field)
}

/// Starts this process's peak (`VmHWM`) again from its current resident size, so that
/// a server run inside the benchmark is not charged with what ran before it. Returns
/// whether Linux accepted (`/proc/self/clear_refs`, value 5).
pub fn reset_own_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_lines_of_proc_status_are_read_in_kib() {
        let status = "Name:\tfundpass\nVmHWM:\t   91236 kB\nVmRSS:\t   80000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(91_236));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(80_000));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }
}
