//! The delivery reports as each provider posts them, and what they become.
//!
//! - Tencent Cloud ("短信下发状态通知", <https://www.tencentcloud.com/zh/document/api/382/43547>,
//!   English <https://www.tencentcloud.com/document/product/382/43547>): a JSON array
//!   of `{"user_receive_time","nationcode","mobile","report_status","errmsg",
//!   "description","sid"}`, `sid` being the `SerialNo` of the send; answered
//!   `{"result":0,"errmsg":"OK"}`.
//! - Alibaba Cloud (SmsReport, HTTP batch push,
//!   <https://help.aliyun.com/zh/sms/developer-reference/smsreport-2>): a JSON array of
//!   `{"phone_number","send_time","report_time","success","err_code","err_msg",
//!   "sms_size","biz_id","out_id"}`; answered `{"code":0,"msg":"成功"}`.
//!
//! Times are China time (`2017-01-01 00:00:00`). Phone numbers are never kept: a
//! report names its message by id only.

use fundpass_core::ports::{IncomingReceipt, Receipt, ReceiptState};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use utoipa::ToSchema;

/// One Tencent Cloud delivery report.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TencentReport {
    /// When the handset got the text, China time (`2015-10-17 08:03:04`).
    #[serde(default)]
    pub user_receive_time: Option<String>,
    /// Country code (`86`).
    #[serde(default)]
    pub nationcode: Option<String>,
    /// The number (not kept).
    #[serde(default)]
    pub mobile: Option<String>,
    /// `SUCCESS` or `FAIL`.
    pub report_status: String,
    /// The carrier's status code (`DELIVRD`).
    #[serde(default)]
    pub errmsg: Option<String>,
    /// The status in words.
    #[serde(default)]
    pub description: Option<String>,
    /// The `SerialNo` the send answered with (a report naming no message is
    /// acknowledged and ignored).
    pub sid: String,
}

/// One Alibaba Cloud delivery report.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AlibabaReport {
    /// The number (not kept).
    #[serde(default)]
    pub phone_number: Option<String>,
    /// When it was sent, China time.
    #[serde(default)]
    pub send_time: Option<String>,
    /// When the carrier reported, China time (`2017-01-01 00:00:00`).
    #[serde(default)]
    pub report_time: Option<String>,
    /// Whether the handset got it.
    pub success: bool,
    /// The carrier's status code (`DELIVERED`).
    #[serde(default)]
    pub err_code: Option<String>,
    /// The status in words.
    #[serde(default)]
    pub err_msg: Option<String>,
    /// How many parts the text took.
    #[serde(default)]
    pub sms_size: Option<String>,
    /// The `BizId` the send answered with.
    #[serde(default)]
    pub biz_id: Option<String>,
    /// The `OutId` sent: fundpass's message id.
    #[serde(default)]
    pub out_id: Option<String>,
}

/// Tencent's acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct TencentAck {
    /// Always 0: the reports were taken (reports naming no message are ignored).
    pub result: i32,
    /// `OK`.
    pub errmsg: &'static str,
}

/// Alibaba's acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlibabaAck {
    /// Always 0: the reports were taken (reports naming no message are ignored).
    pub code: i32,
    /// `成功`.
    pub msg: &'static str,
}

impl TencentReport {
    /// The report as a receipt; `now` when the time is missing or unreadable.
    pub fn receipt(&self, now: OffsetDateTime) -> IncomingReceipt {
        let state = if self.report_status.trim().eq_ignore_ascii_case("SUCCESS") {
            ReceiptState::Delivered
        } else {
            ReceiptState::Failed
        };
        IncomingReceipt {
            provider_ref: non_empty(Some(&self.sid)),
            outbox_id: None,
            receipt: Receipt {
                state,
                reason: reason(self.errmsg.as_deref(), self.description.as_deref()),
                at: china_time(self.user_receive_time.as_deref()).unwrap_or(now),
            },
        }
    }
}

impl AlibabaReport {
    /// The report as a receipt; `now` when the time is missing or unreadable.
    pub fn receipt(&self, now: OffsetDateTime) -> IncomingReceipt {
        IncomingReceipt {
            provider_ref: non_empty(self.biz_id.as_ref()),
            outbox_id: non_empty(self.out_id.as_ref()),
            receipt: Receipt {
                state: if self.success {
                    ReceiptState::Delivered
                } else {
                    ReceiptState::Failed
                },
                reason: reason(self.err_code.as_deref(), self.err_msg.as_deref()),
                at: china_time(self.report_time.as_deref()).unwrap_or(now),
            },
        }
    }
}

fn non_empty(value: Option<&String>) -> Option<String> {
    value
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(128).collect())
}

/// `code words`, from whichever is there.
fn reason(code: Option<&str>, words: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [code, words]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `YYYY-MM-DD HH:MM:SS` in China time.
fn china_time(value: Option<&str>) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let local = PrimitiveDateTime::parse(value?.trim(), &format).ok()?;
    let offset = UtcOffset::from_hms(8, 0, 0).ok()?;
    Some(local.assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_providers_documented_examples_read_as_receipts() {
        let now = datetime!(2026-01-01 00:00 UTC);
        let tencent: Vec<TencentReport> = serde_json::from_str(
            r#"[{"user_receive_time": "2015-10-17 08:03:04","nationcode": "86",
            "mobile": "13xxxxxxxxx","report_status": "SUCCESS","errmsg": "DELIVRD",
            "description": "用户短信送达成功","sid": "xxxxxxx"}]"#,
        )
        .unwrap();
        let r = tencent[0].receipt(now);
        assert_eq!(r.provider_ref.as_deref(), Some("xxxxxxx"));
        assert_eq!(r.receipt.state, ReceiptState::Delivered);
        assert_eq!(r.receipt.at, datetime!(2015-10-17 00:03:04 UTC));
        assert_eq!(
            r.receipt.reason.as_deref(),
            Some("DELIVRD 用户短信送达成功")
        );

        let alibaba: Vec<AlibabaReport> = serde_json::from_str(
            r#"[{"phone_number" : "1381111****","send_time" : "2017-01-01 00:00:00",
            "report_time" : "2017-01-01 00:00:00","success" : false,
            "err_code" : "MK:0001","err_msg" : "用户接收失败","sms_size" : "1",
            "biz_id" : "12345","out_id" : "67890"}]"#,
        )
        .unwrap();
        let r = alibaba[0].receipt(now);
        assert_eq!(
            (r.provider_ref.as_deref(), r.outbox_id.as_deref()),
            (Some("12345"), Some("67890"))
        );
        assert_eq!(r.receipt.state, ReceiptState::Failed);
        assert_eq!(r.receipt.at, datetime!(2016-12-31 16:00 UTC));
        assert_eq!(r.receipt.reason.as_deref(), Some("MK:0001 用户接收失败"));
    }

    #[test]
    fn a_missing_time_is_the_time_of_arrival() {
        let now = datetime!(2026-01-01 00:00 UTC);
        let report = AlibabaReport {
            phone_number: None,
            send_time: None,
            report_time: Some("yesterday".into()),
            success: true,
            err_code: None,
            err_msg: None,
            sms_size: None,
            biz_id: Some(" ".into()),
            out_id: None,
        };
        let r = report.receipt(now);
        assert_eq!(
            (r.receipt.at, r.provider_ref, r.receipt.reason),
            (now, None, None)
        );
    }
}
