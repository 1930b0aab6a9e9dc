//! Words a person reads, in Korean and English. The UI picks one; errors carry both so the
//! language can change without asking the core again.

use serde::Serialize;
use std::borrow::Cow;

/// One message in both languages; serialised as `{"ko": …, "en": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    /// Korean.
    pub ko: Cow<'static, str>,
    /// English.
    pub en: Cow<'static, str>,
}

impl Text {
    /// A message written in the source.
    pub const fn fixed(ko: &'static str, en: &'static str) -> Self {
        Text {
            ko: Cow::Borrowed(ko),
            en: Cow::Borrowed(en),
        }
    }

    /// A message made at run time (with numbers or names in it).
    pub fn owned(ko: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            ko: Cow::Owned(ko.into()),
            en: Cow::Owned(en.into()),
        }
    }

    /// The message in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ko => &self.ko,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
/// The window's language; serialised `ko` / `en`.
pub enum Lang {
    /// Korean (the default).
    #[default]
    Ko,
    /// English.
    En,
}

impl Lang {
    /// The OS locale's language (`LC_ALL`, `LC_MESSAGES`, then `LANG`); English when none is
    /// set.
    pub fn from_os_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.is_empty())
            .map(|v| Lang::from_locale(&v))
            .unwrap_or(Lang::En)
    }

    /// From a locale string such as `ko_KR.UTF-8` or `en-US`; anything not Korean is English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("ko") {
            Lang::Ko
        } else {
            Lang::En
        }
    }
}
