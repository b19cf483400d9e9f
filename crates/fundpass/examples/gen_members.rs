//! Writes a synthetic member file for import benchmarks:
//! `cargo run --release --example gen_members -- COUNT [--bad-every N] > members.csv`.
//!
//! Every row is valid (made-up resident ID numbers with correct check characters,
//! distinct per row) unless `--bad-every N` spoils the check character of every Nth row.

use std::io::{BufWriter, Write as _};

use fundpass_core::identity::{IdNumber, IdType};
use time::macros::date;

const REGIONS: [&str; 10] = [
    "110105", "310115", "440305", "510107", "330106", "320102", "420102", "610113", "210102",
    "370102",
];
const NAMES: [&str; 8] = [
    "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .ok_or("usage: gen_members COUNT [--bad-every N]")?
        .parse()?;
    let bad_every: u64 = match (args.next().as_deref(), args.next()) {
        (Some("--bad-every"), Some(n)) => n.parse()?,
        _ => 0,
    };
    if count > 10 * 25_000 * 1_000 {
        return Err("at most 300,000,000 distinct rows".into());
    }
    let today = date!(2026 - 01 - 01);
    let base = date!(1950 - 01 - 01);
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    writeln!(out, "account_no,name,id_type,id_number,phone")?;
    for i in 0..count {
        let region = REGIONS[(i % 10) as usize];
        let birth = base + time::Duration::days(((i / 10) % 25_000) as i64);
        let seq = i / 250_000;
        let first17 = format!(
            "{region}{:04}{:02}{:02}{seq:03}",
            birth.year(),
            u8::from(birth.month()),
            birth.day()
        );
        let check = "0123456789X"
            .chars()
            .find(|c| IdNumber::parse(IdType::ResidentId, &format!("{first17}{c}"), today).is_ok())
            .ok_or("no check character fits")?;
        let check = if bad_every > 0 && i % bad_every == bad_every - 1 {
            if check == '0' { '1' } else { '0' }
        } else {
            check
        };
        let name = NAMES[(i % 8) as usize];
        writeln!(
            out,
            "{},{name},resident_id,{first17}{check},1{}",
            300_000_000_000 + i,
            3_000_000_000 + i
        )?;
    }
    out.flush()?;
    Ok(())
}
