//! SMS texts and sending limits, and building outbox messages.

use time::{Duration, OffsetDateTime};

use super::{Portal, RequestContext};
use crate::crypto::{Field, OneTimeCode};
use crate::identity::Phone;
use crate::member::MemberId;
use crate::ports::{OutboxMessage, RateDecision, SmsContent, SmsPurpose, StoreError};

/// Limits on sending codes, against SMS pumping and cost abuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLimits {
    /// One code per phone per this long.
    pub phone_cooldown: Duration,
    /// Codes per phone per day.
    pub phone_daily: u32,
    /// Codes requested per client address per hour.
    pub ip_hourly: u32,
    /// Codes per hour for the whole service.
    pub global_hourly: u32,
}

impl Default for SmsLimits {
    fn default() -> Self {
        Self {
            phone_cooldown: Duration::seconds(60),
            phone_daily: 10,
            ip_hourly: 20,
            global_hourly: 2_000,
        }
    }
}

/// The texts members receive. `{code}`, `{minutes}`, `{time}` and `{hotline}` are
/// filled in; a code message never says more than it must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsTemplates {
    pub hotline: String,
    pub registration_code: String,
    pub registration_done: String,
    pub registration_attempt: String,
    /// Code for the forgotten-transaction-password flow.
    pub recovery_code: String,
    /// Notice after a reset: `{secrets}`, `{time}`, `{channel}`, `{hotline}`.
    pub reset_done: String,
    pub login_password_name: String,
    pub transaction_password_name: String,
    /// Joins two secret names.
    pub and: String,
    pub channel_web: String,
    pub channel_app: String,
    pub channel_counter: String,
    pub channel_hotline: String,
    /// Notice after the security questions changed.
    pub questions_changed: String,
    /// A reset ticket sent by SMS: `{ticket}`, `{secrets}`, `{hours}`, `{channel}`.
    pub reset_ticket: String,
    /// Notice that staff issued a reset ticket: `{secrets}`, `{time}`, `{channel}`.
    pub ticket_issued: String,
    /// Notice to the old phone after a change of the phone on file: `{time}`,
    /// `{channel}`, `{masked}` (the new number, masked).
    pub phone_changed: String,
    /// Notice that wrong transaction passwords locked it: `{time}`, `{until}`,
    /// `{hotline}`.
    pub transaction_locked: String,
    /// Notice that wrong transaction passwords disabled it: `{time}`, `{hotline}`.
    pub transaction_disabled: String,
    /// Notice after the member changed a password they knew: `{secret}`, `{time}`,
    /// `{channel}`, `{hotline}`.
    pub password_changed: String,
    /// Notice that a copy of the member's personal information was downloaded:
    /// `{time}`, `{hotline}`.
    pub data_copy: String,
    /// Notice after the member reported an event as not theirs: `{time}`, `{hotline}`.
    pub not_me: String,
    /// The qualification check is due: `{due}` (the date), `{days}` (days from today),
    /// `{hotline}`.
    pub qualification_reminder: String,
    /// The check was missed and payment is suspended: `{due}`, `{hotline}`.
    pub qualification_lapsed: String,
    /// Code to the relative whose checks someone asked to run: `{code}`,
    /// `{minutes}`, `{hotline}`.
    pub relative_code: String,
}

impl Default for SmsTemplates {
    fn default() -> Self {
        Self {
            hotline: "12329".into(),
            registration_code: "【公积金】您正在注册个人网上业务，验证码{code}，{minutes}分钟内有效。请勿将验证码告诉任何人。".into(),
            registration_done: "【公积金】您已于{time}成功注册个人网上业务并设置了登录密码和交易密码。如非本人操作，请立即致电{hotline}。".into(),
            registration_attempt: "【公积金】有人于{time}尝试用您的身份信息注册个人网上业务，您已是注册用户，无需再注册。如非本人操作，请致电{hotline}。".into(),
            recovery_code: "【公积金】您正在找回交易密码，验证码{code}，{minutes}分钟内有效。工作人员不会向您索取验证码，请勿告诉任何人。".into(),
            reset_done: "【公积金】您的{secrets}已于{time}通过{channel}重置，所有已登录的设备已退出。如非本人操作，请立即致电{hotline}。".into(),
            login_password_name: "登录密码".into(),
            transaction_password_name: "交易密码".into(),
            and: "和".into(),
            channel_web: "个人网上业务平台".into(),
            channel_app: "手机APP".into(),
            channel_counter: "柜台".into(),
            channel_hotline: "服务热线".into(),
            questions_changed: "【公积金】您的安全问题已于{time}更改。如非本人操作，请立即致电{hotline}。".into(),
            reset_ticket: "【公积金】您的{secrets}重置凭证为{ticket}，{hours}小时内有效，仅可使用一次。请在个人网上业务平台“凭证重置密码”中使用。工作人员不会向您索取凭证。".into(),
            ticket_issued: "【公积金】{time}{channel}为您办理了{secrets}重置，已生成一次性重置凭证。如非本人办理，请立即致电{hotline}。".into(),
            phone_changed: "【公积金】您在公积金中心留存的手机号已于{time}通过{channel}变更为{masked}，此后短信将发往新号码。如非本人操作，请立即致电{hotline}。".into(),
            transaction_locked: "【公积金】您的交易密码因连续输入错误已于{time}锁定，{until}后可再次使用。如非本人操作，请立即致电{hotline}。".into(),
            transaction_disabled: "【公积金】您的交易密码因多次输入错误已于{time}停用，请通过找回交易密码或到柜台办理后再使用。如非本人操作，请立即致电{hotline}。".into(),
            password_changed: "【公积金】您的{secret}已于{time}通过{channel}修改，其他已登录的设备已退出。如非本人操作，请立即致电{hotline}。".into(),
            data_copy: "【公积金】您于{time}下载了个人信息副本。如非本人操作，请立即致电{hotline}。".into(),
            qualification_reminder: "【社保】您的待遇资格认证截止日为{due}（距今{days}天），请通过手机APP刷脸认证，也可由亲属代办或到经办机构办理。咨询电话{hotline}。".into(),
            qualification_lapsed: "【社保】您未在{due}前完成待遇资格认证，待遇已暂停发放。完成认证后将恢复发放并补发暂停期间待遇。咨询电话{hotline}。".into(),
            relative_code: "【社保】有人申请通过亲情服务为您代办待遇资格认证，验证码{code}，{minutes}分钟内有效。如是您的家人申请，请将验证码告诉他；否则请勿告诉任何人，并致电{hotline}。".into(),
            not_me: "【公积金】您于{time}报告账户有非本人操作，所有已登录的设备已退出，资金支取已暂停。请尽快致电{hotline}或携身份证件到柜台办理密码重置。".into(),
        }
    }
}

impl SmsTemplates {
    /// The default-language text of `purpose`, whose placeholders name the values a
    /// provider template for it takes (and, in their order, the default order of the
    /// template parameters in the configuration).
    pub fn text_for(&self, purpose: SmsPurpose) -> &str {
        match purpose {
            SmsPurpose::RegistrationCode => &self.registration_code,
            SmsPurpose::RegistrationAttempt => &self.registration_attempt,
            SmsPurpose::RegistrationDone => &self.registration_done,
            SmsPurpose::RecoveryCode => &self.recovery_code,
            SmsPurpose::ResetNotice => &self.reset_done,
            SmsPurpose::QuestionsNotice => &self.questions_changed,
            SmsPurpose::PhoneChanged => &self.phone_changed,
            SmsPurpose::DataCopy => &self.data_copy,
            SmsPurpose::NotMe => &self.not_me,
            SmsPurpose::ResetTicket => &self.reset_ticket,
            SmsPurpose::TicketIssued => &self.ticket_issued,
            SmsPurpose::TransactionLocked => &self.transaction_locked,
            SmsPurpose::TransactionDisabled => &self.transaction_disabled,
            SmsPurpose::PasswordChanged => &self.password_changed,
            SmsPurpose::QualificationReminder => &self.qualification_reminder,
            SmsPurpose::QualificationLapsed => &self.qualification_lapsed,
            SmsPurpose::RelativeCode => &self.relative_code,
        }
    }
}

/// The `{name}` placeholders of a template, in order of first appearance.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let name = &after[..close];
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
        rest = &after[close + 1..];
    }
    out
}

/// Fills the placeholders of a template, keeping the values by name so that a
/// provider template can be filled with them too.
pub(crate) fn fill(template: &str, pairs: &[(&str, &str)]) -> SmsContent {
    let mut text = template.to_owned();
    for (key, value) in pairs {
        text = text.replace(&format!("{{{key}}}"), value);
    }
    SmsContent {
        text,
        params: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The China date of `now`, for document checks.
pub(crate) fn china_today(now: OffsetDateTime) -> time::Date {
    now.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC))
        .date()
}

/// The hour on China's clock.
pub(crate) fn china_hour(now: OffsetDateTime) -> u8 {
    now.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC))
        .hour()
}

/// China time, minute precision, for notices.
pub(crate) fn china_time(at: OffsetDateTime) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let t = at.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

impl Portal {
    /// An outbox message to `phone`, sealed: the text and the values filled into it.
    pub(crate) fn outbox_message(
        &self,
        member: Option<MemberId>,
        purpose: SmsPurpose,
        phone: &Phone,
        content: &SmsContent,
    ) -> OutboxMessage {
        let mut id = [0u8; 16];
        self.rng.fill(&mut id);
        let now = self.clock.now();
        OutboxMessage {
            id: hex::encode(id),
            member_id: member,
            purpose: purpose.code().to_owned(),
            to: self
                .keyring
                .seal(Field::Phone, phone.normalised(), self.rng.as_ref()),
            body: self
                .keyring
                .seal(Field::Message, &content.text, self.rng.as_ref()),
            params: Some(self.keyring.seal(
                Field::Message,
                &content.params_json(),
                self.rng.as_ref(),
            )),
            created_at: now,
            next_attempt_at: now,
            attempts: 0,
            delivered_at: None,
            last_error: None,
            given_up: false,
            limit_hit: false,
            provider_ref: None,
            receipt: None,
        }
    }

    /// The code text.
    pub(crate) fn code_text(&self, template: &str, code: &OneTimeCode) -> SmsContent {
        let minutes = self.policy.flow.code_ttl.whole_minutes().to_string();
        fill(
            template,
            &[
                ("code", code.expose()),
                ("minutes", &minutes),
                ("hotline", &self.templates.hotline),
            ],
        )
    }

    /// A notice text with the time and hotline filled in.
    pub(crate) fn notice_text(&self, template: &str) -> SmsContent {
        let time = china_time(self.clock.now());
        fill(
            template,
            &[("time", &time), ("hotline", &self.templates.hotline)],
        )
    }

    /// The name a phone's SMS windows are counted under: a cut of its keyed digest,
    /// never the number.
    pub(crate) fn phone_limit_key(&self, phone: &Phone) -> String {
        hex::encode(
            &self
                .keyring
                .blind_index(Field::Phone, phone.normalised())
                .as_bytes()[..12],
        )
    }

    /// The key of a phone's daily SMS window, shared by codes and notices.
    pub(crate) fn phone_day_key(&self, phone: &Phone) -> String {
        format!("sms:phone-day:{}", self.phone_limit_key(phone))
    }

    /// Counts one code request against the per-phone, per-address and global limits
    /// (the phone being the one typed, matched or not, so the answer is the same
    /// for members and strangers).
    pub(crate) async fn sms_allowed(
        &self,
        phone: &Phone,
        ctx: &RequestContext,
    ) -> Result<RateDecision, StoreError> {
        let now = self.clock.now();
        let l = self.policy.sms;
        let phone_key = self.phone_limit_key(phone);
        let ip = ctx.ip.as_deref().unwrap_or("unknown");
        let checks = [
            (
                format!("sms:phone-cooldown:{phone_key}"),
                l.phone_cooldown,
                1,
            ),
            (self.phone_day_key(phone), Duration::days(1), l.phone_daily),
            (format!("sms:ip-hour:{ip}"), Duration::hours(1), l.ip_hourly),
            (
                "sms:global-hour".to_owned(),
                Duration::hours(1),
                l.global_hourly,
            ),
        ];
        for (key, window, limit) in checks {
            if let RateDecision::Limited { retry_after } =
                self.limiter.hit(&key, window, limit, now).await?
            {
                return Ok(RateDecision::Limited { retry_after });
            }
        }
        Ok(RateDecision::Allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn templates_are_filled_and_times_are_in_china_time() {
        assert_eq!(fill("a{code}b{code}", &[("code", "1")]).text, "a1b1");
        assert_eq!(
            china_time(datetime!(2026-11-23 16:30 UTC)),
            "2026-11-24 00:30"
        );
        let t = SmsTemplates::default();
        assert!(t.registration_done.contains("{hotline}"));
        assert!(!t.registration_done.contains("{code}"));
    }

    #[test]
    fn every_default_text_uses_only_the_values_its_purpose_supplies() {
        let t = SmsTemplates::default();
        for purpose in SmsPurpose::ALL {
            let used = placeholders(t.text_for(purpose));
            assert!(!used.is_empty(), "{purpose}");
            for name in used {
                assert!(purpose.params().contains(&name), "{purpose}: {name}");
            }
        }
        assert_eq!(placeholders("{a}x{b}{a}{"), vec!["a", "b"]);
    }
}
