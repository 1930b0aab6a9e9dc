//! `config.toml` as the app uses it: a flat list of `key = value` lines whose values are
//! strings, integers or arrays of them. That is a strict subset of TOML 1.0, parsed here to
//! the letter of the spec; everything outside it (tables, dotted keys, multi-line strings,
//! inline tables) is refused with a message naming the line, never guessed at. A general TOML
//! parser would be the largest thing in the binary after the HTTP stack, for eight settings.
//!
//! The unit tests compare this parser with the `toml` crate on every accepted input.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Value {
    String(String),
    Integer(i64),
    Array(Vec<Value>),
    /// A valid TOML scalar the app has no use for (boolean, float, date), kept as written so
    /// the caller can say "expected a string".
    Other(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Other(raw) => f.write_str(raw),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The `key = value` pairs in file order. A key given twice is an error, as in TOML.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, Value)>, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let mut out: Vec<(String, Value)> = Vec::new();
    // A UTF-8 byte order mark is allowed at the start.
    if text.starts_with('\u{feff}') {
        p.i = 3;
    }
    loop {
        p.skip_blank_lines()?;
        let Some(c) = p.peek() else { break };
        if c == b'[' {
            return Err(
                p.err("tables ([...]) are not used in config.toml: write key = value lines")
            );
        }
        let line = p.line();
        let key = p.key()?;
        p.skip_ws();
        match p.peek() {
            Some(b'.') => return Err(p.err("dotted keys are not used in config.toml")),
            Some(b'=') => p.i += 1,
            _ => return Err(p.err("expected = after the key")),
        }
        p.skip_ws();
        let value = p.value()?;
        p.end_of_line()?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err(ParseError {
                line,
                message: "this key was already given above",
            });
        }
        out.push((key, value));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn line(&self) -> usize {
        1 + self.s[..self.i.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    fn err(&self, message: &'static str) -> ParseError {
        ParseError {
            line: self.line(),
            message,
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// A comment runs to the end of the line; control characters other than tab are invalid
    /// in it, as everywhere in TOML.
    fn skip_comment(&mut self) -> Result<(), ParseError> {
        if self.peek() == Some(b'#') {
            while let Some(c) = self.peek() {
                if c == b'\n' || (c == b'\r' && self.s.get(self.i + 1) == Some(&b'\n')) {
                    break;
                }
                if (c < 0x20 && c != b'\t') || c == 0x7f {
                    return Err(self.err("a control character in a comment"));
                }
                self.i += 1;
            }
        }
        Ok(())
    }

    fn newline(&mut self) -> bool {
        match (self.peek(), self.s.get(self.i + 1)) {
            (Some(b'\n'), _) => {
                self.i += 1;
                true
            }
            (Some(b'\r'), Some(b'\n')) => {
                self.i += 2;
                true
            }
            _ => false,
        }
    }

    fn skip_blank_lines(&mut self) -> Result<(), ParseError> {
        loop {
            self.skip_ws();
            self.skip_comment()?;
            if !self.newline() {
                return Ok(());
            }
        }
    }

    /// Whitespace, comments and newlines, as allowed between array elements.
    fn skip_array_space(&mut self) -> Result<(), ParseError> {
        self.skip_blank_lines()
    }

    fn end_of_line(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        self.skip_comment()?;
        if self.peek().is_none() || self.newline() {
            Ok(())
        } else {
            Err(self.err("expected the end of the line after the value"))
        }
    }

    fn key(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(b'"') => self.basic_string(),
            Some(b'\'') => self.literal_string(),
            _ => {
                let start = self.i;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                {
                    self.i += 1;
                }
                if start == self.i {
                    return Err(self.err("expected a key (letters, digits, _ or -)"));
                }
                Ok(self.text[start..self.i].to_owned())
            }
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            Some(b'"') => self.basic_string().map(Value::String),
            Some(b'\'') => self.literal_string().map(Value::String),
            Some(b'[') => self.array(),
            Some(b'{') => Err(self.err("inline tables ({...}) are not used in config.toml")),
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-') => self.scalar(),
            _ => Err(self.err("expected a value: a \"string\", a number or a [list]")),
        }
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.i += 1; // [
        let mut items = Vec::new();
        loop {
            self.skip_array_space()?;
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(Value::Array(items));
            }
            if self.peek().is_none() {
                return Err(self.err("a list ([...]) is not closed"));
            }
            items.push(self.value()?);
            self.skip_array_space()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {}
                None => return Err(self.err("a list ([...]) is not closed")),
                _ => return Err(self.err("expected , or ] in the list")),
            }
        }
    }

    /// Integers per TOML (decimal, `_` only between digits, no leading zeros); any other bare
    /// word that TOML allows as a value (true, false, floats, dates) becomes [`Value::Other`].
    fn scalar(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        // A date-time may hold one space between date and time ("1979-05-27 07:32:00").
        while let Some(c) = self.peek() {
            let date_space = c == b' '
                && self.i - start == 10
                && self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit);
            if c.is_ascii_alphanumeric()
                || matches!(c, b'+' | b'-' | b'_' | b'.' | b':')
                || date_space
            {
                self.i += 1;
            } else {
                break;
            }
        }
        let raw = &self.text[start..self.i];
        if let Some(i) = decimal_integer(raw) {
            return Ok(Value::Integer(i));
        }
        if is_other_scalar(raw) {
            return Ok(Value::Other(raw.to_owned()));
        }
        Err(ParseError {
            line: self.line(),
            message:
                "not a TOML value (a string needs \"quotes\"; a number is a whole decimal number)",
        })
    }

    fn basic_string(&mut self) -> Result<String, ParseError> {
        if self.s[self.i..].starts_with(b"\"\"\"") {
            return Err(self.err("multi-line strings (\"\"\") are not used in config.toml"));
        }
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("a string is not closed"));
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    let e = self.peek();
                    self.i += 1;
                    match e {
                        Some(b'b') => out.push('\u{8}'),
                        Some(b't') => out.push('\t'),
                        Some(b'n') => out.push('\n'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'r') => out.push('\r'),
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'u') => out.push(self.unicode_escape(4)?),
                        Some(b'U') => out.push(self.unicode_escape(8)?),
                        _ => return Err(self.err("an unknown escape (\\) in a string")),
                    }
                }
                b'\n' | b'\r' => return Err(self.err("a string is not closed on its line")),
                c if (c < 0x20 && c != b'\t') || c == 0x7f => {
                    return Err(self.err("a control character in a string"))
                }
                _ => {
                    let ch = self.text[self.i..].chars().next().expect("in bounds");
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }

    fn unicode_escape(&mut self, digits: usize) -> Result<char, ParseError> {
        let hex = self
            .text
            .get(self.i..self.i + digits)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let c = hex
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .ok_or_else(|| self.err("a \\u escape that is not a Unicode scalar value"))?;
        self.i += digits;
        Ok(c)
    }

    fn literal_string(&mut self) -> Result<String, ParseError> {
        if self.s[self.i..].starts_with(b"'''") {
            return Err(self.err("multi-line strings (''') are not used in config.toml"));
        }
        self.i += 1;
        let start = self.i;
        loop {
            match self.peek() {
                None => return Err(self.err("a string is not closed")),
                Some(b'\'') => {
                    let s = self.text[start..self.i].to_owned();
                    self.i += 1;
                    return Ok(s);
                }
                Some(b'\n' | b'\r') => return Err(self.err("a string is not closed on its line")),
                Some(c) if (c < 0x20 && c != b'\t') || c == 0x7f => {
                    return Err(self.err("a control character in a string"))
                }
                Some(_) => self.i += 1,
            }
        }
    }
}

/// `[+-]?(0|[1-9](_?[0-9])*)` within i64.
fn decimal_integer(raw: &str) -> Option<i64> {
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let b = digits.as_bytes();
    let well_formed = !b.is_empty()
        && b[0].is_ascii_digit()
        && b[b.len() - 1].is_ascii_digit()
        && !(b[0] == b'0' && b.len() > 1)
        && b.iter().all(|c| c.is_ascii_digit() || *c == b'_')
        && !digits.contains("__");
    if !well_formed {
        return None;
    }
    raw.replace('_', "").parse().ok()
}

/// Booleans, floats (incl. inf/nan) and date-times, roughly: enough to tell "a value of the
/// wrong type" from "not TOML at all". The caller refuses these either way.
fn is_other_scalar(raw: &str) -> bool {
    let unsigned = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    matches!(raw, "true" | "false")
        || matches!(unsigned, "inf" | "nan")
        || (unsigned.starts_with(|c: char| c.is_ascii_digit())
            && unsigned[1..].contains(['.', 'e', 'E', '-', ':'])
            && unsigned
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+-_.: ".contains(&c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<(String, Value)> {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> ParseError {
        parse(text).expect_err(text)
    }

    fn has_other(v: &Value) -> bool {
        match v {
            Value::Other(_) => true,
            Value::Array(a) => a.iter().any(has_other),
            _ => false,
        }
    }

    /// What the `toml` crate makes of the same text, in our terms (None if it refuses).
    fn reference(text: &str) -> Option<Vec<(String, Value)>> {
        fn conv(v: &toml::Value) -> Value {
            match v {
                toml::Value::String(s) => Value::String(s.clone()),
                toml::Value::Integer(i) => Value::Integer(*i),
                toml::Value::Array(a) => Value::Array(a.iter().map(conv).collect()),
                other => Value::Other(other.to_string()),
            }
        }
        let table: toml::Table = text.parse().ok()?;
        let mut pairs: Vec<_> = table.iter().map(|(k, v)| (k.clone(), conv(v))).collect();
        pairs.sort();
        Some(pairs)
    }

    /// Wherever ours accepts without `Other` values, toml agrees exactly; wherever toml
    /// refuses, ours refuses too, or keeps the odd value as `Other` (which the caller refuses
    /// as "expected a string").
    fn agrees_with_toml(text: &str) {
        let ours = parse(text);
        match (&ours, reference(text)) {
            (Ok(pairs), Some(theirs)) => {
                if !pairs.iter().any(|(_, v)| has_other(v)) {
                    let mut sorted = pairs.clone();
                    sorted.sort();
                    assert_eq!(sorted, theirs, "{text:?}");
                }
            }
            (Ok(pairs), None) => assert!(
                pairs.iter().any(|(_, v)| has_other(v)),
                "{text:?}: accepted as {pairs:?}, but it is not TOML"
            ),
            (Err(_), _) => {}
        }
    }

    #[test]
    fn the_readme_example() {
        let text = "# Kakao app\nclient_id = \"0123abcd\"\nredirect_ports = [53682, 53683]\n\
                    keyring_service = 'kakao-signin'  # trailing comment\r\n";
        assert_eq!(
            ok(text),
            vec![
                ("client_id".into(), Value::String("0123abcd".into())),
                (
                    "redirect_ports".into(),
                    Value::Array(vec![Value::Integer(53682), Value::Integer(53683)])
                ),
                (
                    "keyring_service".into(),
                    Value::String("kakao-signin".into())
                ),
            ]
        );
        agrees_with_toml(text);
    }

    #[test]
    fn strings_follow_the_spec() {
        let cases = [
            (r#"a = "C:\\Users\\me""#, "C:\\Users\\me"),
            (r"a = 'C:\Users\me'", "C:\\Users\\me"),
            (
                r#"a = "tab\there \"q\" \u00e9 \U0001F600""#,
                "tab\there \"q\" é 😀",
            ),
            ("a = \"카카오 로그인\"", "카카오 로그인"),
            ("a = \"\"", ""),
            ("\"quoted key\" = \"v\"", "v"),
        ];
        for (text, want) in cases {
            let pairs = ok(text);
            assert_eq!(pairs[0].1, Value::String(want.into()), "{text}");
            agrees_with_toml(text);
        }
        assert_eq!(ok("\"quoted key\" = 1")[0].0, "quoted key");
    }

    #[test]
    fn integers_and_lists() {
        for (text, want) in [
            ("a = 0", Value::Integer(0)),
            ("a = -17", Value::Integer(-17)),
            ("a = +5_3_682", Value::Integer(53682)),
            (
                "a = [\n  53682, # first\n  53683,\n]",
                Value::Array(vec![Value::Integer(53682), Value::Integer(53683)]),
            ),
            ("a = []", Value::Array(vec![])),
            (
                "a = [[1], ['x']]",
                Value::Array(vec![
                    Value::Array(vec![Value::Integer(1)]),
                    Value::Array(vec![Value::String("x".into())]),
                ]),
            ),
        ] {
            assert_eq!(ok(text)[0].1, want, "{text}");
            agrees_with_toml(text);
        }
    }

    #[test]
    fn other_scalars_are_kept_as_written() {
        for text in [
            "a = true",
            "a = 3.14",
            "a = 1979-05-27",
            "a = 1979-05-27 07:32:00Z",
            "a = -inf",
        ] {
            assert!(matches!(ok(text)[0].1, Value::Other(_)), "{text}");
            assert!(reference(text).is_some(), "{text} is TOML");
        }
    }

    #[test]
    fn what_is_not_used_is_refused_with_the_line() {
        for (text, line, needle) in [
            ("a = 1\n[section]\nb = 2", 2, "tables"),
            ("a.b = 1", 1, "dotted"),
            ("a = \"\"\"x\"\"\"", 1, "multi-line"),
            ("a = '''x'''", 1, "multi-line"),
            ("a = { b = 1 }", 1, "inline tables"),
            ("\n\na = 1\na = 2", 4, "already given"),
            ("a = 1\n\"a\" = 2\n", 2, "already given"),
            ("a = \"open", 1, "not closed"),
            ("a = \"line\nbreak\"", 1, "not closed on its line"),
            ("a = [1, 2", 1, "not closed"),
            ("a = [1 2]", 1, "expected , or ]"),
            ("a = 1 b = 2", 1, "end of the line"),
            ("a = bare", 1, "quotes"),
            ("a = 012", 1, "quotes"),
            ("a = 1__0", 1, "quotes"),
            ("a = 99999999999999999999", 1, "quotes"),
            ("a = \"\\x41\"", 1, "unknown escape"),
            ("a = \"\\uD800\"", 1, "Unicode scalar"),
            ("a = \"bell\u{7}\"", 1, "control character"),
            ("a =", 1, "expected a value"),
            ("= 1", 1, "expected a key"),
            ("a 1", 1, "expected ="),
            ("# bad \u{1} comment", 1, "control character"),
        ] {
            let e = err(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
            agrees_with_toml(text);
        }
    }

    #[test]
    fn blank_files_and_comments_only() {
        for text in [
            "",
            "\n\n",
            "# only a comment",
            "\u{feff}a = 1",
            "  \t\r\n# x\r\n",
        ] {
            assert!(parse(text).is_ok(), "{text:?}");
            agrees_with_toml(text);
        }
    }

    /// Every prefix and every one-byte change of a realistic file: ours never accepts what
    /// TOML refuses, and agrees on what both accept.
    #[test]
    fn mutations_of_a_real_file_agree_with_the_toml_crate() {
        let base =
            "client_id = \"0123abcd\"\nclient_secret = 'x\\y'\nredirect_ports = [53682, 53_683]\n\
                    browser = \"chromium --new-window\" # note\n\"data_dir\" = \"/home/me/ks\"\n";
        let bytes = base.as_bytes();
        let mut checked = 0;
        for cut in 0..=bytes.len() {
            if let Ok(prefix) = std::str::from_utf8(&bytes[..cut]) {
                agrees_with_toml(prefix);
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
                    agrees_with_toml(text);
                    checked += 1;
                }
            }
        }
        assert!(checked > 1500, "{checked}");
    }
}
