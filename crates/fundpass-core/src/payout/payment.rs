//! What is being paid: parsed from the business system's request, so that every
//! stored authorisation holds a valid amount, a masked payee account, a known purpose
//! and a printable reference.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The payment as the business system sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInput {
    pub account_no: String,
    pub amount_fen: i64,
    pub currency: String,
    pub payee_name: String,
    pub payee_account: String,
    pub purpose: String,
    pub business_ref: String,
}

/// Why a payment was refused, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaymentProblem {
    #[error("account_no is not a member account number")]
    BadAccount,
    #[error("amount_fen must be a whole number of fen above zero")]
    BadAmount,
    #[error("amount_fen is above the largest amount authorised")]
    AmountTooLarge,
    #[error("currency must be CNY")]
    BadCurrency,
    #[error("payee_name must be 1 to 100 characters")]
    BadPayeeName,
    #[error(
        "payee_account must be masked (e.g. 6222********1234): 4 to 40 characters of digits, letters, spaces and '*', at most 8 digits shown"
    )]
    BadPayeeAccount,
    #[error("purpose is not a known purpose code")]
    BadPurpose,
    #[error("business_ref must be 1 to 64 printable ASCII characters")]
    BadReference,
}

impl PaymentProblem {
    /// The field at fault, for the API's details.
    pub fn field(self) -> &'static str {
        match self {
            Self::BadAccount => "account_no",
            Self::BadAmount | Self::AmountTooLarge => "amount_fen",
            Self::BadCurrency => "currency",
            Self::BadPayeeName => "payee_name",
            Self::BadPayeeAccount => "payee_account",
            Self::BadPurpose => "purpose",
            Self::BadReference => "business_ref",
        }
    }
}

/// Why money is paid out. The member sees the purpose in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    WithdrawalRetirement,
    WithdrawalPurchase,
    WithdrawalRent,
    WithdrawalMedical,
    WithdrawalEmigration,
    WithdrawalLoanRepayment,
    LoanDisbursement,
    BenefitPension,
    BenefitUnemployment,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 9] = [
        Self::WithdrawalRetirement,
        Self::WithdrawalPurchase,
        Self::WithdrawalRent,
        Self::WithdrawalMedical,
        Self::WithdrawalEmigration,
        Self::WithdrawalLoanRepayment,
        Self::LoanDisbursement,
        Self::BenefitPension,
        Self::BenefitUnemployment,
    ];

    /// The code business systems send.
    pub fn code(self) -> &'static str {
        match self {
            Self::WithdrawalRetirement => "withdrawal.retirement",
            Self::WithdrawalPurchase => "withdrawal.purchase",
            Self::WithdrawalRent => "withdrawal.rent",
            Self::WithdrawalMedical => "withdrawal.medical",
            Self::WithdrawalEmigration => "withdrawal.emigration",
            Self::WithdrawalLoanRepayment => "withdrawal.loan_repayment",
            Self::LoanDisbursement => "loan.disbursement",
            Self::BenefitPension => "benefit.pension",
            Self::BenefitUnemployment => "benefit.unemployment",
        }
    }

    /// Parses a purpose code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// The purpose in words, in Chinese and in English.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Self::WithdrawalRetirement => ("退休提取住房公积金", "Withdrawal on retirement"),
            Self::WithdrawalPurchase => ("购买自住住房提取", "Withdrawal to buy a home"),
            Self::WithdrawalRent => ("租房提取", "Withdrawal to pay rent"),
            Self::WithdrawalMedical => ("重大疾病医疗提取", "Withdrawal for serious illness"),
            Self::WithdrawalEmigration => ("出境定居提取", "Withdrawal on settling abroad"),
            Self::WithdrawalLoanRepayment => {
                ("偿还住房贷款提取", "Withdrawal to repay a housing loan")
            }
            Self::LoanDisbursement => ("住房公积金贷款发放", "Housing loan paid out"),
            Self::BenefitPension => ("养老金发放", "Pension payment"),
            Self::BenefitUnemployment => ("失业保险金发放", "Unemployment benefit payment"),
        }
    }
}

/// A valid payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub amount_fen: i64,
    pub currency: String,
    pub payee_name: String,
    pub payee_account: String,
    pub purpose: Purpose,
    pub business_ref: String,
}

impl Payment {
    /// Checks every field of `input`; `max_amount_fen` is the configured ceiling.
    pub fn parse(input: &PaymentInput, max_amount_fen: i64) -> Result<Payment, PaymentProblem> {
        if input.amount_fen <= 0 {
            return Err(PaymentProblem::BadAmount);
        }
        if input.amount_fen > max_amount_fen {
            return Err(PaymentProblem::AmountTooLarge);
        }
        if input.currency != "CNY" {
            return Err(PaymentProblem::BadCurrency);
        }
        let name = input.payee_name.trim();
        let name_len = name.chars().count();
        if name_len == 0 || name_len > 100 || name.chars().any(char::is_control) {
            return Err(PaymentProblem::BadPayeeName);
        }
        let account = input.payee_account.trim();
        if !masked_account(account) {
            return Err(PaymentProblem::BadPayeeAccount);
        }
        let purpose = Purpose::from_code(&input.purpose).ok_or(PaymentProblem::BadPurpose)?;
        let reference = input.business_ref.as_str();
        if reference.is_empty()
            || reference.len() > 64
            || !reference.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(PaymentProblem::BadReference);
        }
        Ok(Payment {
            amount_fen: input.amount_fen,
            currency: input.currency.clone(),
            payee_name: name.to_owned(),
            payee_account: account.to_owned(),
            purpose,
            business_ref: reference.to_owned(),
        })
    }

    /// base64url SHA-256 of `payee_name`, a line feed and `payee_account`: what the
    /// receipt carries, so a business system can check that the payee it is about to
    /// pay is the one the member approved.
    pub fn payee_hash(&self) -> String {
        let text = format!("{}\n{}", self.payee_name, self.payee_account);
        URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
    }

    /// The amount as members read it: `1,234.50`.
    pub fn amount_text(&self) -> String {
        let yuan = self.amount_fen / 100;
        let fen = self.amount_fen % 100;
        let digits = yuan.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{grouped}.{fen:02}")
    }
}

/// A bank account as business systems may send it: masked, never in full.
fn masked_account(account: &str) -> bool {
    let len = account.chars().count();
    let digits = account.chars().filter(char::is_ascii_digit).count();
    (4..=40).contains(&len)
        && account.contains('*')
        && digits <= 8
        && account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PaymentInput {
        PaymentInput {
            account_no: "110000000001".into(),
            amount_fen: 1_234_550,
            currency: "CNY".into(),
            payee_name: "张三".into(),
            payee_account: "6222********1234".into(),
            purpose: "withdrawal.retirement".into(),
            business_ref: "WD-2026-0001".into(),
        }
    }

    #[test]
    fn a_good_payment_parses_and_reads_as_money() {
        let p = Payment::parse(&input(), 100_000_000).unwrap();
        assert_eq!(p.amount_text(), "12,345.50");
        assert_eq!(p.purpose.words().0, "退休提取住房公积金");
        assert_eq!(p.payee_hash().len(), 43);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Edit = Box<dyn Fn(&mut PaymentInput)>;
        let cases: Vec<(PaymentProblem, Edit)> = vec![
            (PaymentProblem::BadAmount, Box::new(|i| i.amount_fen = 0)),
            (PaymentProblem::BadAmount, Box::new(|i| i.amount_fen = -5)),
            (
                PaymentProblem::AmountTooLarge,
                Box::new(|i| i.amount_fen = 100_000_001),
            ),
            (
                PaymentProblem::BadCurrency,
                Box::new(|i| i.currency = "USD".into()),
            ),
            (
                PaymentProblem::BadPayeeName,
                Box::new(|i| i.payee_name = " ".into()),
            ),
            (
                PaymentProblem::BadPayeeAccount,
                Box::new(|i| i.payee_account = "6222020200001234567".into()),
            ),
            (
                PaymentProblem::BadPayeeAccount,
                Box::new(|i| i.payee_account = "6222<b>**1234".into()),
            ),
            (
                PaymentProblem::BadPurpose,
                Box::new(|i| i.purpose = "gift".into()),
            ),
            (
                PaymentProblem::BadReference,
                Box::new(|i| i.business_ref = "参考".into()),
            ),
            (
                PaymentProblem::BadReference,
                Box::new(|i| i.business_ref = String::new()),
            ),
        ];
        for (want, edit) in cases {
            let mut i = input();
            edit(&mut i);
            assert_eq!(Payment::parse(&i, 100_000_000), Err(want));
        }
        for p in Purpose::ALL {
            assert_eq!(Purpose::from_code(p.code()), Some(p));
        }
    }
}
