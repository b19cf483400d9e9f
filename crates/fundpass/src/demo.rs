//! `fundpass demo`: a handful of made-up members to try the service with.
//!
//! The rows go through the same importer as real data. The ID numbers are made up but
//! valid (correct check characters); the phones are in ranges the demo SMS outbox
//! accepts. Running it again updates the same accounts.

use std::process::ExitCode;

use fundpass_core::audit::Outcome;
use serde_json::json;

use crate::config::Config;
use crate::context::Context;
use crate::import::{Format, RowReader, import_rows, progress_bar};

/// The demo members: account number, name, document type, document number, phone.
pub const DEMO_MEMBERS: [(&str, &str, &str, &str, &str); 6] = [
    (
        "100000000001",
        "张三",
        "resident_id",
        "110105199003071239",
        "13800000001",
    ),
    (
        "100000000002",
        "李四",
        "resident_id",
        "310115198511224567",
        "13900000002",
    ),
    (
        "100000000003",
        "王五",
        "resident_id",
        "44030519920615789X",
        "15000000003",
    ),
    (
        "100000000004",
        "赵六",
        "resident_id",
        "510107197809012340",
        "18600000004",
    ),
    (
        "100000000005",
        "陈小红",
        "resident_id",
        "330106199502285677",
        "17700000005",
    ),
    (
        "100000000006",
        "Maria Lopez",
        "passport",
        "E12345678",
        "13600000006",
    ),
];

fn demo_jsonl() -> anyhow::Result<String> {
    let mut out = String::new();
    for (account_no, name, id_type, id_number, phone) in DEMO_MEMBERS {
        let row = json!({
            "account_no": account_no, "name": name, "id_type": id_type,
            "id_number": id_number, "phone": phone,
        });
        out.push_str(&serde_json::to_string(&row)?);
        out.push('\n');
    }
    Ok(out)
}

/// The demo members who receive a pension, their check due in 30 days.
const DEMO_PENSIONERS: [&str; 2] = ["100000000004", "100000000005"];

/// Gives the demo pensioners a yearly pension that began eleven months ago, so that
/// its first check is due in about a month (its window open); returns the due date.
async fn entitle_demo_pensioners(ctx: &Context) -> anyhow::Result<time::Date> {
    use fundpass_core::ports::QualificationStore as _;
    use fundpass_core::qualification::BenefitRow;
    let today = crate::system::today(&ctx.clock);
    let start = today - time::Duration::days(335);
    let mut rows = Vec::new();
    for (line, account_no) in (2u64..).zip(DEMO_PENSIONERS) {
        let row = BenefitRow {
            account_no: account_no.to_owned(),
            kind: "pension".into(),
            start_date: start.to_string(),
            cycle_months: String::new(),
            deceased_on: String::new(),
        };
        let valid = row
            .validate(today)
            .map_err(|p| anyhow::anyhow!("demo benefit: {p:?}"))?;
        rows.push((line, valid));
    }
    let mut tx = ctx.store.begin_benefit_import().await?;
    let mut rejected = Vec::new();
    let bar = progress_bar(0, true);
    crate::benefits_cmd::write(tx.as_mut(), &rows, today, &mut rejected, &bar).await?;
    if !rejected.is_empty() {
        anyhow::bail!("the demo benefits could not be imported");
    }
    tx.commit().await?;
    // A re-run keeps the due date on file: read it back.
    use fundpass_core::ports::MemberStore as _;
    let account = fundpass_core::member::AccountNumber::parse(DEMO_PENSIONERS[0])?;
    let member = ctx.store.member_by_account(&account).await?;
    let due = match member {
        Some(m) => ctx.store.benefit(m.id).await?.map(|b| b.due_date),
        None => None,
    };
    let due = due.ok_or_else(|| anyhow::anyhow!("the demo benefit was not written"))?;
    Ok(due)
}

/// Imports the demo members and prints how to use them.
pub async fn command(config: &Config) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(config).await?;
    let data = demo_jsonl()?;
    let reader = RowReader::new(
        Box::new(std::io::Cursor::new(data.into_bytes())),
        Format::Jsonl,
    )?;
    let report = import_rows(&ctx, reader, false, 100, progress_bar(0, true)).await?;
    if !report.committed {
        for e in &report.errors {
            crate::system::say(format!("demo row {}: {}", e.line, e.message));
        }
        anyhow::bail!("the demo members could not be imported");
    }
    let due = entitle_demo_pensioners(&ctx).await?;
    ctx.audit_operator(
        "member.demo",
        Outcome::Success,
        json!({"inserted": report.outcome.inserted, "updated": report.outcome.updated}),
    )
    .await?;
    let mut text = format!(
        "Demo members ({} new, {} updated) in {}:\n\n",
        report.outcome.inserted,
        report.outcome.updated,
        config.database_url()
    );
    text.push_str("  account no.    name          document      number               phone\n");
    for (account_no, name, id_type, id_number, phone) in DEMO_MEMBERS {
        text.push_str(&format!(
            "  {account_no:14} {name:13} {id_type:13} {id_number:20} {phone}\n"
        ));
    }
    text.push_str(
        "\nThey are made up. Each is an ordinary member (imported, not yet registered for\n\
         online services): registering in the portal sends a code to the phone shown, and\n\
         the development SMS outbox shows it instead of sending it.\n",
    );
    text.push_str(&format!(
        "\n赵六 and 陈小红 receive a pension: their yearly qualification check is due on {due}\n\
         (GET /api/v1/qualification once registered; the face check runs through /dev/face).\n"
    ));
    #[allow(clippy::print_stdout)]
    {
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}
