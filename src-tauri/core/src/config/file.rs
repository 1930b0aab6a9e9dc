//! `config.toml`, read by the `toml` crate into [`Settings`]: any TOML document whose top level
//! holds only the known keys, each a string, except `redirect_ports` (a list of whole numbers,
//! one whole number, or the environment variable's comma-separated string). Comments, literal
//! and multi-line strings, escapes and the rest of TOML's syntax are the `toml` crate's to
//! accept or refuse.
//!
//! serde decides what is accepted; when it refuses, the same text is parsed once more into
//! `toml`'s spanned document only to say which key and value on which line it refused, in the
//! words of [`ConfigError`]. No message from `toml` that might quote a value is passed on: the
//! client secret and any key the app does not know are shown only by their length.

use super::{redacted, ConfigError};
use serde::Deserialize;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The whole file. Every field is optional; a key the app does not know, a table or a value
/// of the wrong type is refused by serde and explained by [`explain`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    client_id: Option<Spanned<String>>,
    client_secret: Option<Spanned<String>>,
    redirect_ports: Option<Spanned<Ports>>,
    auth_url: Option<Spanned<String>>,
    api_url: Option<Spanned<String>>,
    browser: Option<Spanned<String>>,
    keyring_service: Option<Spanned<String>>,
    data_dir: Option<Spanned<String>>,
}

/// `redirect_ports` as written; the numbers are checked later, with the environment's value.
#[derive(Deserialize)]
#[serde(untagged)]
enum Ports {
    List(Vec<i64>),
    One(i64),
    Text(String),
}

/// What a value of `key` must look like in TOML, for an error about its type.
fn expected_type(key: &str) -> &'static str {
    if key == "redirect_ports" {
        "a list of port numbers, e.g. [53682, 53683]"
    } else {
        "a \"quoted string\""
    }
}

/// One setting from the file, ready to be checked like the environment variable it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileValue {
    /// The key as spelt in the file, e.g. `redirect_ports`.
    pub key: &'static str,
    /// The environment variable it stands for, e.g. `KAKAO_SIGNIN_REDIRECT_PORTS`.
    pub env_key: &'static str,
    /// The value in the environment variable's syntax (a list of ports joined with commas).
    pub text: String,
    /// The value as an error shows it: a string's contents, anything else as written in the
    /// file; the client secret only by its length.
    pub shown: String,
    /// The line the value starts on, counted from 1.
    pub line: usize,
}

/// The settings in `text` (the contents of the config file at `path`), in no particular order.
///
/// Errors: a file that is not TOML (key `config file`, value `path`, `expected` quoting
/// `toml`'s description, `line` where it stopped), an unknown key or a table (`expected`
/// lists the known keys), or a value of the wrong type (`expected` names the type). Errors
/// about a key carry `file: Some(path)` and the key's or value's `line`.
pub(super) fn read(text: &str, path: &Path) -> Result<Vec<FileValue>, ConfigError> {
    // A UTF-8 byte order mark is not a line; spans below are into the text after it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let settings: Settings = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => return Err(explain(text, path, &e)),
    };
    let Settings {
        client_id,
        client_secret,
        redirect_ports,
        auth_url,
        api_url,
        browser,
        keyring_service,
        data_dir,
    } = settings;
    let mut out = Vec::new();
    let strings = [
        ("client_id", "KAKAO_SIGNIN_CLIENT_ID", client_id),
        ("client_secret", "KAKAO_SIGNIN_CLIENT_SECRET", client_secret),
        ("auth_url", "KAKAO_SIGNIN_AUTH_URL", auth_url),
        ("api_url", "KAKAO_SIGNIN_API_URL", api_url),
        ("browser", "KAKAO_SIGNIN_BROWSER", browser),
        (
            "keyring_service",
            "KAKAO_SIGNIN_KEYRING_SERVICE",
            keyring_service,
        ),
        ("data_dir", "KAKAO_SIGNIN_DATA_DIR", data_dir),
    ];
    for (key, env_key, value) in strings {
        if let Some(v) = value {
            let line = line_of(text, v.span().start);
            let s = v.into_inner();
            out.push(FileValue {
                key,
                env_key,
                shown: if is_secret(key) {
                    redacted(&s)
                } else {
                    s.clone()
                },
                text: s,
                line,
            });
        }
    }
    if let Some(v) = redirect_ports {
        let span = v.span();
        let (text_value, shown) = match v.into_inner() {
            // "[]" is no port list in the environment's syntax either: refused with the rest.
            Ports::List(ports) if ports.is_empty() => ("[]".into(), "[]".into()),
            Ports::List(ports) => (
                ports
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                written(text, span.clone()).to_owned(),
            ),
            Ports::One(port) => (port.to_string(), written(text, span.clone()).to_owned()),
            Ports::Text(s) => (s.clone(), s),
        };
        out.push(FileValue {
            key: "redirect_ports",
            env_key: "KAKAO_SIGNIN_REDIRECT_PORTS",
            text: text_value,
            shown,
            line: line_of(text, span.start),
        });
    }
    Ok(out)
}

/// Says which key, value and line serde refused, without quoting `toml`'s message where it
/// could contain a value.
fn explain(text: &str, path: &Path, error: &toml::de::Error) -> ConfigError {
    let (table, syntax_errors) = DeTable::parse_recoverable(text);
    // Not TOML at all: the first error in the text (the parser may report a later one first,
    // e.g. the line after an unclosed string). toml's own description names no value, only
    // what it expected.
    if let Some(syntax) = syntax_errors
        .iter()
        .min_by_key(|e| e.span().map_or(usize::MAX, |s| s.start))
    {
        let span = syntax.span().or_else(|| error.span());
        return ConfigError {
            key: "config file".into(),
            value: path.display().to_string(),
            expected: format!("valid TOML ({})", syntax.message()),
            line: span.map(|s| line_of(text, s.start)),
            file: None,
        };
    }
    let table = table.into_inner();
    let at = error.span().map(|s| s.start);
    let refused = table
        .iter()
        .find(|(k, v)| at.is_some_and(|at| k.span().contains(&at) || v.span().contains(&at)));
    let Some((key, value)) = refused else {
        // Every refusal of a flat table carries the span of its key or value; just in case.
        return ConfigError {
            key: "config file".into(),
            value: path.display().to_string(),
            expected: "only the keys and value types listed in the README".into(),
            line: at.map(|at| line_of(text, at)),
            file: None,
        };
    };
    let name = key.get_ref().as_ref();
    let known = super::file_keys();
    if !known.contains(&name.to_owned()) {
        // A misspelt `client_secret` is still a secret: an unknown key's value is not shown.
        return ConfigError {
            key: name.to_owned(),
            value: shown(text, value.span(), value.get_ref(), true),
            expected: format!("one of the known keys: {}", known.join(", ")),
            line: Some(line_of(text, key.span().start)),
            file: Some(path.to_path_buf()),
        };
    }
    ConfigError {
        key: name.to_owned(),
        value: shown(text, value.span(), value.get_ref(), is_secret(name)),
        expected: expected_type(name).to_owned(),
        line: Some(line_of(text, value.span().start)),
        file: Some(path.to_path_buf()),
    }
}

fn is_secret(key: &str) -> bool {
    key == "client_secret"
}

/// The value at `span` as an error shows it: a string's contents, anything else as written,
/// a table made by dotted keys or a `[section]` header (which has no text of its own) as
/// `<a table>`. With `hide`, only its length (of the string, or of the text as written).
fn shown(text: &str, span: Range<usize>, value: &DeValue<'_>, hide: bool) -> String {
    let written = written(text, span);
    match value {
        DeValue::Table(_) if !written.starts_with('{') => "<a table>".into(),
        DeValue::String(s) if hide => redacted(s),
        DeValue::String(s) => s.to_string(),
        _ if hide => redacted(written),
        _ => written.to_owned(),
    }
}

/// The text at `span`, as written in the file.
fn written(text: &str, span: Range<usize>) -> &str {
    text.get(span).unwrap_or("").trim()
}

/// The 1-based line holding byte `offset` of `text` (the last line for an offset past its end).
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{file_keys, KEYS};
    use std::collections::BTreeMap;

    const PATH: &str = "/cfg/config.toml";

    fn ok(text: &str) -> BTreeMap<&'static str, FileValue> {
        read(text, Path::new(PATH))
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .into_iter()
            .map(|v| (v.key, v))
            .collect()
    }

    fn err(text: &str) -> ConfigError {
        read(text, Path::new(PATH)).expect_err(text)
    }

    #[test]
    fn the_readme_example() {
        let text = "# Kakao app\nclient_id = \"0123abcd\"\nredirect_ports = [53682, 53683]\n\
                    keyring_service = 'kakao-signin'  # trailing comment\r\n";
        let v = ok(text);
        assert_eq!(v.len(), 3);
        assert_eq!(v["client_id"].text, "0123abcd");
        assert_eq!(v["client_id"].env_key, "KAKAO_SIGNIN_CLIENT_ID");
        assert_eq!(v["client_id"].line, 2);
        assert_eq!(v["redirect_ports"].text, "53682,53683");
        assert_eq!(v["redirect_ports"].shown, "[53682, 53683]");
        assert_eq!(v["redirect_ports"].line, 3);
        assert_eq!(v["keyring_service"].text, "kakao-signin");
        assert_eq!(v["keyring_service"].line, 4);
    }

    /// TOML the old hand-written subset refused (multi-line strings, hexadecimal integers) is
    /// read as TOML reads it.
    #[test]
    fn toml_outside_the_old_subset_is_read() {
        let text = "browser = \"\"\"\nchromium \\\n    --new-window\"\"\"\n\
                    keyring_service = '''ks'''\n\
                    redirect_ports = [\n  0xD1B2, # 53682\n  5_3_683,\n]\n\
                    \"client_id\" = \"abc\" # a quoted key\n";
        let v = ok(text);
        assert_eq!(v["browser"].text, "chromium --new-window");
        assert_eq!(v["browser"].line, 1);
        assert_eq!(v["keyring_service"].text, "ks");
        assert_eq!(v["keyring_service"].line, 4);
        assert_eq!(v["redirect_ports"].text, "53682,53683");
        assert_eq!(v["redirect_ports"].line, 5);
        assert_eq!(v["client_id"].text, "abc");
        assert_eq!(v["client_id"].line, 9);
    }

    #[test]
    fn strings_follow_the_spec() {
        for (text, want) in [
            (r#"data_dir = "C:\\Users\\me""#, "C:\\Users\\me"),
            (r"data_dir = 'C:\Users\me'", "C:\\Users\\me"),
            (
                r#"browser = "tab\there \"q\" \u00e9 \U0001F600""#,
                "tab\there \"q\" é 😀",
            ),
            ("keyring_service = \"카카오 로그인\"", "카카오 로그인"),
            ("client_id = \"\"", ""),
        ] {
            let v = ok(text);
            let value = v.values().next().unwrap();
            assert_eq!(value.text, want, "{text}");
            assert_eq!(value.shown, want, "{text}");
        }
    }

    #[test]
    fn ports_as_a_list_a_number_or_the_environment_string() {
        for (text, want, shown) in [
            (
                "redirect_ports = [53682, 53683]",
                "53682,53683",
                "[53682, 53683]",
            ),
            ("redirect_ports = 53682", "53682", "53682"),
            (
                "redirect_ports = \"53682, 53683\"",
                "53682, 53683",
                "53682, 53683",
            ),
            // Refused later, like the environment's "[]": 1 to 10 ports are needed.
            ("redirect_ports = []", "[]", "[]"),
        ] {
            let v = &ok(text)["redirect_ports"];
            assert_eq!((v.text.as_str(), v.shown.as_str()), (want, shown), "{text}");
            assert_eq!(v.env_key, "KAKAO_SIGNIN_REDIRECT_PORTS");
        }
    }

    /// The struct serde reads into has a field for every key in [`KEYS`], under its name.
    #[test]
    fn every_key_can_be_set_in_the_file() {
        let text = "client_id = 'a'\nclient_secret = 'b'\nredirect_ports = [53682]\n\
                    auth_url = 'https://a.test'\napi_url = 'https://b.test'\nbrowser = 'x'\n\
                    keyring_service = 'k'\ndata_dir = '/d'\n";
        let v = ok(text);
        let mut env_keys: Vec<_> = v.values().map(|v| v.env_key).collect();
        env_keys.sort();
        let mut want = KEYS.to_vec();
        want.sort();
        assert_eq!(env_keys, want);
        for value in v.values() {
            assert_eq!(
                format!("KAKAO_SIGNIN_{}", value.key.to_ascii_uppercase()),
                value.env_key
            );
        }
        let mut keys: Vec<_> = v.keys().map(|k| k.to_string()).collect();
        keys.sort();
        let mut want = file_keys();
        want.sort();
        assert_eq!(keys, want);
    }

    #[test]
    fn wrong_types_name_the_key_the_value_and_the_line() {
        for (text, key, value, line) in [
            (
                "client_id = \"a\"\n\nkeyring_service = 5",
                "keyring_service",
                "5",
                3,
            ),
            ("browser = true", "browser", "true", 1),
            ("# d\ndata_dir = 1979-05-27", "data_dir", "1979-05-27", 2),
            ("auth_url = 3.14", "auth_url", "3.14", 1),
            ("api_url = { a = 1 }", "api_url", "{ a = 1 }", 1),
            ("client_id.x = 1", "client_id", "<a table>", 1),
            ("x = 1\n[client_id]\n", "client_id", "<a table>", 2),
            (
                "redirect_ports = [\"53682\"]",
                "redirect_ports",
                "[\"53682\"]",
                1,
            ),
            ("redirect_ports = 1.5", "redirect_ports", "1.5", 1),
            // TOML, but beyond the integers it defines (64-bit).
            (
                "redirect_ports = 99999999999999999999",
                "redirect_ports",
                "99999999999999999999",
                1,
            ),
            (
                "\nredirect_ports = [\n  53682,\n  true,\n]",
                "redirect_ports",
                "[\n  53682,\n  true,\n]",
                2,
            ),
        ] {
            let e = err(text);
            assert_eq!(
                (e.key.as_str(), e.value.as_str(), e.line),
                (key, value, Some(line)),
                "{text:?}: {e}"
            );
            assert_eq!(e.file.as_deref(), Some(Path::new(PATH)));
            let want = if key == "redirect_ports" {
                "port numbers"
            } else {
                "string"
            };
            assert!(e.expected.contains(want), "{text:?}: {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("{PATH}, line {line}: {key} = ")),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_tables_are_refused_with_the_line() {
        for (text, key, line) in [
            ("clientid = \"typo\"", "clientid", 1),
            ("client_id = 'x'\n[section]\nb = 1", "section", 2),
            ("\n\na.b = 1", "a", 3),
            ("\"client id\" = 1", "client id", 1),
            ("client_id = 'x'\n[[list]]\n", "list", 2),
        ] {
            let e = err(text);
            assert_eq!((e.key.as_str(), e.line), (key, Some(line)), "{text:?}: {e}");
            assert_eq!(e.file.as_deref(), Some(Path::new(PATH)));
            for known in file_keys() {
                assert!(e.expected.contains(&known), "{text:?}: {e}");
            }
        }
    }

    #[test]
    fn text_that_is_not_toml_is_refused_with_the_line() {
        for (text, line) in [
            ("\n\nclient_id = 'a'\nclient_id = 'b'", 4),
            ("client_id = 'a'\n\"client_id\" = 'b'\n", 2),
            ("client_id = \"open", 1),
            ("client_id = \"line\nbreak\"", 1),
            ("redirect_ports = [1, 2", 1),
            ("redirect_ports = [1 2]", 1),
            ("client_id = 'a' browser = 'b'", 1),
            ("client_id = bare", 1),
            ("redirect_ports = 012", 1),
            ("redirect_ports = 1__0", 1),
            ("client_id = \"\\q\"", 1),
            ("client_id = \"\\uD800\"", 1),
            ("client_id = \"bell\u{7}\"", 1),
            ("client_id =", 1),
            ("# ok\n= 1", 2),
            ("client_id 1", 1),
            ("# bad \u{1} comment", 1),
        ] {
            let e = err(text);
            assert_eq!(e.key, "config file", "{text:?}: {e}");
            assert_eq!(e.value, PATH);
            assert_eq!(e.line, Some(line), "{text:?}: {e}");
            assert_eq!(e.file, None);
            assert!(e.expected.starts_with("valid TOML ("), "{text:?}: {e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
        }
    }

    #[test]
    fn blank_files_comments_and_a_byte_order_mark() {
        for text in [
            "",
            "\n\n",
            "# only a comment",
            "  \t\r\n# x\r\n",
            "\u{feff}",
        ] {
            assert!(ok(text).is_empty(), "{text:?}");
        }
        assert_eq!(ok("\u{feff}client_id = 'a'")["client_id"].text, "a");
        assert_eq!(err("\u{feff}\nclient_id = 5").line, Some(2));
    }

    #[test]
    fn the_client_secret_is_shown_only_by_its_length() {
        assert_eq!(
            ok("client_secret = 's3cr3t'")["client_secret"].shown,
            "<6 characters, not shown>"
        );
        for (text, shown) in [
            ("client_secret = 123456", "<6 characters, not shown>"),
            ("client_secret = ['s3cr3t']", "<10 characters, not shown>"),
            (
                "client_secret = { v = 's3cr3t' }",
                "<16 characters, not shown>",
            ),
            ("client_secret.v = 's3cr3t'", "<a table>"),
            // A misspelt key might be the secret's: an unknown key's value is not shown either.
            ("client_secre = 's3cr3t'", "<6 characters, not shown>"),
            ("secret = 123456", "<6 characters, not shown>"),
            ("[s3cr3t]", "<a table>"),
        ] {
            let e = err(text);
            assert_eq!(e.value, shown, "{text:?}: {e}");
            assert_eq!(e.line, Some(1));
        }
        for text in ["client_secret = 's3cr3t", "client_secret = \"s3cr3t\" x"] {
            let e = err(text);
            assert!(!format!("{e} {e:?}").contains("s3cr3t"), "{e:?}");
        }
    }

    /// Every prefix and every one-byte change of a realistic file: each is read, or refused
    /// with a line number, and the client secret never appears in what is shown.
    #[test]
    fn every_mutation_is_read_or_refused_with_a_line_and_hides_the_secret() {
        let base = "client_secret = 'x-secret-value-42'\nclient_id = \"0123abcd\"\n\
                    redirect_ports = [53682, 53_683]\n\
                    browser = \"chromium --new-window\" # note\n\"data_dir\" = \"/home/me/ks\"\n";
        let bytes = base.as_bytes();
        let check = |text: &str| match read(text, Path::new(PATH)) {
            Ok(values) => {
                for v in values {
                    assert!(!v.shown.contains("secret-"), "{text:?}: {v:?}");
                }
            }
            Err(e) => {
                assert!(e.line.is_some(), "{text:?}: {e}");
                let all = format!("{e} {e:?}");
                // One byte changed at most, so one of the two halves is intact.
                assert!(
                    !all.contains("x-secret") && !all.contains("value-42"),
                    "{text:?}: {e}"
                );
            }
        };
        let mut checked = 0;
        for cut in 0..=bytes.len() {
            if let Ok(prefix) = std::str::from_utf8(&bytes[..cut]) {
                check(prefix);
                checked += 1;
            }
        }
        for i in 0..bytes.len() {
            for replacement in [
                b'"', b'\'', b'[', b']', b',', b'=', b'#', b'\n', b' ', b'.', b'\\', b'0', b'_',
                b'{',
            ] {
                let mut m = bytes.to_vec();
                m[i] = replacement;
                if let Ok(text) = std::str::from_utf8(&m) {
                    check(text);
                    checked += 1;
                }
            }
        }
        assert!(checked > 1500, "{checked}");
    }
}
