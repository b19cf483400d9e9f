//! Which approved provider template sends each purpose, and in which order its
//! parameters are filled.
//!
//! A template is configured by its id at the provider and a list of fundpass's value
//! names (`code`, `minutes`, `time`, `hotline`…, see [`SmsPurpose::params`]). Tencent
//! Cloud fills `{1}`, `{2}`… in list order. Alibaba Cloud fills named variables
//! (`${code}`); an entry `variable=name` fills the template variable `variable` with
//! fundpass's value `name` when the two are named differently.

use std::collections::BTreeMap;

use fundpass_core::ports::{SmsContent, SmsError, SmsPurpose};

/// One provider template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsTemplate {
    /// The template's id at the provider (Tencent `TemplateId`, Alibaba
    /// `TemplateCode`).
    pub id: String,
    /// `(template variable, fundpass value name)` in the template's order.
    pub params: Vec<(String, String)>,
}

/// A template and its `(variable, value)` pairs, filled for one message.
pub type Filled<'a> = (&'a SmsTemplate, Vec<(&'a str, &'a str)>);

/// The templates of one provider, by purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateSet(BTreeMap<SmsPurpose, SmsTemplate>);

/// Why the configured templates cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A key of the templates table is no purpose fundpass sends.
    #[error("{0:?} is not a message purpose (purposes: {list})", list = purpose_list())]
    UnknownPurpose(String),
    /// A parameter names a value the purpose's texts do not have.
    #[error("template for {purpose}: {name:?} is not a value of this purpose (it has {have})")]
    UnknownValue {
        purpose: SmsPurpose,
        name: String,
        have: String,
    },
    /// An entry `variable=name` with an empty side.
    #[error("template for {purpose}: {entry:?} is not `name` or `variable=name`")]
    BadEntry { purpose: SmsPurpose, entry: String },
}

fn purpose_list() -> String {
    let codes: Vec<&str> = SmsPurpose::ALL.iter().map(|p| p.code()).collect();
    codes.join(", ")
}

impl TemplateSet {
    /// Reads `purpose code → (template id, parameter entries)`. A purpose with an
    /// empty id has no template (see [`Self::missing`]).
    pub fn parse(entries: &BTreeMap<String, (String, Vec<String>)>) -> Result<Self, TemplateError> {
        let mut out = BTreeMap::new();
        for (code, (id, params)) in entries {
            let purpose = SmsPurpose::from_code(code.trim())
                .ok_or_else(|| TemplateError::UnknownPurpose(code.clone()))?;
            let params = params
                .iter()
                .map(|entry| parse_entry(purpose, entry))
                .collect::<Result<Vec<_>, _>>()?;
            if !id.trim().is_empty() {
                let id = id.trim().to_owned();
                out.insert(purpose, SmsTemplate { id, params });
            }
        }
        Ok(Self(out))
    }

    /// The purposes without a template, which this provider could not send.
    pub fn missing(&self) -> Vec<SmsPurpose> {
        SmsPurpose::ALL
            .into_iter()
            .filter(|p| !self.0.contains_key(p))
            .collect()
    }

    /// The template for a message of `purpose` and its parameters filled from
    /// `content`, as `(template variable, value)`. A message no template can send is
    /// refused for good, with the reason for the operator.
    pub fn fill<'a>(
        &'a self,
        purpose: &str,
        content: &'a SmsContent,
    ) -> Result<Filled<'a>, SmsError> {
        let known = SmsPurpose::from_code(purpose)
            .ok_or_else(|| SmsError::Permanent(format!("unknown message purpose {purpose:?}")))?;
        let template = self.0.get(&known).ok_or_else(|| {
            SmsError::Permanent(format!("no provider template is configured for {known}"))
        })?;
        let values = template
            .params
            .iter()
            .map(|(variable, name)| {
                content
                    .param(name)
                    .map(|value| (variable.as_str(), value))
                    .ok_or_else(|| {
                        SmsError::Permanent(format!(
                            "the {known} message has no value {name:?} for its template \
                             (written before template values were kept?)"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((template, values))
    }
}

fn parse_entry(purpose: SmsPurpose, entry: &str) -> Result<(String, String), TemplateError> {
    let (variable, name) = match entry.split_once('=') {
        Some((variable, name)) => (variable.trim(), name.trim()),
        None => (entry.trim(), entry.trim()),
    };
    if variable.is_empty() || name.is_empty() {
        return Err(TemplateError::BadEntry {
            purpose,
            entry: entry.to_owned(),
        });
    }
    if !purpose.params().contains(&name) {
        return Err(TemplateError::UnknownValue {
            purpose,
            name: name.to_owned(),
            have: purpose.params().join(", "),
        });
    }
    Ok((variable.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[(&str, &str, &[&str])]) -> BTreeMap<String, (String, Vec<String>)> {
        list.iter()
            .map(|(code, id, params)| {
                let params = params.iter().map(|p| (*p).to_owned()).collect();
                ((*code).to_owned(), ((*id).to_owned(), params))
            })
            .collect()
    }

    #[test]
    fn a_template_is_filled_in_its_order_from_the_named_values() {
        let set = TemplateSet::parse(&entries(&[(
            "registration_code",
            "SMS_1",
            &["minutes", "verify=code"],
        )]))
        .unwrap();
        let content = SmsContent {
            text: "t".into(),
            params: vec![
                ("code".into(), "482913".into()),
                ("minutes".into(), "5".into()),
            ],
        };
        let (template, values) = set.fill("registration_code", &content).unwrap();
        assert_eq!(template.id, "SMS_1");
        assert_eq!(values, [("minutes", "5"), ("verify", "482913")]);
        assert!(matches!(
            set.fill("reset_notice", &content),
            Err(SmsError::Permanent(_))
        ));
        let old = SmsContent::default();
        assert!(matches!(
            set.fill("registration_code", &old),
            Err(SmsError::Permanent(_))
        ));
    }

    #[test]
    fn missing_purposes_and_wrong_names_are_told() {
        let set = TemplateSet::parse(&entries(&[("not_me", "", &["time"])])).unwrap();
        assert_eq!(set.missing().len(), SmsPurpose::ALL.len());
        assert!(matches!(
            TemplateSet::parse(&entries(&[("not_me", "1", &["code"])])),
            Err(TemplateError::UnknownValue { .. })
        ));
        assert!(matches!(
            TemplateSet::parse(&entries(&[("nope", "1", &[])])),
            Err(TemplateError::UnknownPurpose(_))
        ));
        assert!(matches!(
            TemplateSet::parse(&entries(&[("not_me", "1", &["=time"])])),
            Err(TemplateError::BadEntry { .. })
        ));
    }
}
