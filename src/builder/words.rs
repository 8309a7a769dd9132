//! Docker's word processing for the instructions it substitutes variables in (ADD, COPY, ENV,
//! EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults): `$VAR`, `${VAR}`,
//! `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`; single quotes are literal, double
//! quotes group and still expand, the escape character (`\` or the `# escape=` one) makes the
//! next character literal. RUN, CMD and ENTRYPOINT are left to the shell, as Docker does.

/// Looks up a variable: `None` when unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Process `text` as one word: quotes removed, variables expanded, whitespace kept.
pub fn word(text: &str, escape: char, env: Lookup<'_>) -> Result<String, String> {
    let mut out = Lexer { chars: text.chars().collect(), pos: 0, escape, env, split: false }.run()?;
    Ok(out.pop().unwrap_or_default())
}

/// Process `text` into words split on unquoted whitespace (an expansion does not split).
pub fn words(text: &str, escape: char, env: Lookup<'_>) -> Result<Vec<String>, String> {
    Lexer { chars: text.chars().collect(), pos: 0, escape, env, split: true }.run()
}

/// `KEY=value KEY2="a b"` pairs (ENV, LABEL, ARG); `KEY value with spaces` (one pair, the old
/// form) when the first word has no `=`. A bare `KEY` (ARG only) has no value.
pub fn pairs(text: &str, escape: char, env: Lookup<'_>) -> Result<Vec<(String, Option<String>)>, String> {
    let first = text.split_whitespace().next().unwrap_or("");
    if !first.is_empty() && !first.contains('=') && text.trim() != first {
        let rest = text.trim_start()[first.len()..].trim();
        return Ok(vec![(first.to_string(), Some(word(rest, escape, env)?))]);
    }
    let mut out = Vec::new();
    for w in words(text, escape, env)? {
        match w.split_once('=') {
            Some(("", _)) => return Err(format!("`{w}`: missing name before `=`")),
            Some((k, v)) => out.push((k.to_string(), Some(v.to_string()))),
            None => out.push((w, None)),
        }
    }
    Ok(out)
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    env: Lookup<'a>,
    split: bool,
}

impl Lexer<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        self.pos += 1;
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn run(&mut self) -> Result<Vec<String>, String> {
        let (mut words, mut cur, mut have) = (Vec::new(), String::new(), false);
        while let Some(c) = self.next() {
            if self.split && c.is_whitespace() {
                if have {
                    words.push(std::mem::take(&mut cur));
                    have = false;
                }
                continue;
            }
            have = true;
            match c {
                c if c == self.escape => match self.next() {
                    Some(n) => cur.push(n),
                    None => cur.push(c),
                },
                '\'' => cur.push_str(&self.single_quoted()?),
                '"' => cur.push_str(&self.double_quoted()?),
                '$' => cur.push_str(&self.expand()?),
                c => cur.push(c),
            }
        }
        if have || !self.split {
            words.push(cur);
        }
        Ok(words)
    }

    fn single_quoted(&mut self) -> Result<String, String> {
        let mut s = String::new();
        loop {
            match self.next() {
                Some('\'') => return Ok(s),
                Some(c) => s.push(c),
                None => return Err("unterminated single quote".into()),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, String> {
        let mut s = String::new();
        loop {
            match self.next() {
                Some('"') => return Ok(s),
                Some(c) if c == self.escape => match self.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        s.push(n);
                    }
                    _ => s.push(c),
                },
                Some('$') => s.push_str(&self.expand()?),
                Some(c) => s.push(c),
                None => return Err("unterminated double quote".into()),
            }
        }
    }

    /// After a `$`: a variable reference, or a literal `$`.
    fn expand(&mut self) -> Result<String, String> {
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                self.braced()
            }
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                let mut name = String::new();
                while let Some(c) = self.peek().filter(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    name.push(c);
                    self.pos += 1;
                }
                Ok((self.env)(&name).unwrap_or_default())
            }
            _ => Ok("$".into()),
        }
    }

    /// `${NAME}`, `${NAME:-w}`, `${NAME-w}`, `${NAME:+w}`, `${NAME+w}`.
    fn braced(&mut self) -> Result<String, String> {
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_ascii_alphanumeric() || *c == '_') {
            name.push(c);
            self.pos += 1;
        }
        if name.is_empty() {
            return Err("bad substitution: `${` must be followed by a variable name".into());
        }
        let value = (self.env)(&name);
        let op = match self.next() {
            Some('}') => return Ok(value.unwrap_or_default()),
            Some(':') => match self.next() {
                Some(c @ ('-' | '+')) => format!(":{c}"),
                other => return Err(format!("unsupported modifier `:{}` in ${{{name}…}}", other.unwrap_or(' '))),
            },
            Some(c @ ('-' | '+')) => c.to_string(),
            other => return Err(format!("unsupported modifier `{}` in ${{{name}…}}", other.unwrap_or(' '))),
        };
        let arg = self.braced_word()?;
        let set = value.is_some();
        let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
        Ok(match op.as_str() {
            ":-" if non_empty => value.unwrap_or_default(),
            "-" if set => value.unwrap_or_default(),
            ":-" | "-" => arg,
            ":+" if non_empty => arg,
            "+" if set => arg,
            _ => String::new(),
        })
    }

    /// The word of a modifier, up to the matching `}`, itself processed (it may hold `$X`).
    fn braced_word(&mut self) -> Result<String, String> {
        let (mut raw, mut depth) = (String::new(), 0usize);
        loop {
            match self.next() {
                Some('}') if depth == 0 => break,
                Some('}') => {
                    depth -= 1;
                    raw.push('}');
                }
                Some('$') if self.peek() == Some('{') => {
                    depth += 1;
                    raw.push('$');
                }
                Some(c) => raw.push(c),
                None => return Err("unterminated `${`".into()),
            }
        }
        word(&raw, self.escape, self.env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("apple".into()),
            "E" => Some(String::new()),
            "SP" => Some("a b".into()),
            _ => None,
        }
    }

    #[test]
    fn expansions() {
        let w = |s: &str| word(s, '\\', &env).unwrap();
        assert_eq!(w("$A/${A}x"), "apple/applex");
        assert_eq!(w("${U:-def} ${E:-def} ${E-def} ${A:+alt} ${E:+alt} ${E+alt} ${U+alt}."), "def def  alt  alt .");
        assert_eq!(w("${U:-${A}-x}"), "apple-x");
        assert_eq!(w(r#"\$A '$A' \"$A\""#), "$A $A \"apple\"");
        assert_eq!(w("cost $ 5"), "cost $ 5");
        assert_eq!(word("`$A", '`', &env).unwrap(), "$A");
        assert!(word("${A:?x}", '\\', &env).is_err());
        assert!(word("'open", '\\', &env).is_err());
    }

    #[test]
    fn splitting_and_pairs() {
        assert_eq!(words(r#"a "b c" $SP 'd e'"#, '\\', &env).unwrap(), ["a", "b c", "a b", "d e"]);
        let p = pairs(r#"K=1 L="x y" M"#, '\\', &env).unwrap();
        assert_eq!(p, [("K".into(), Some("1".into())), ("L".into(), Some("x y".into())), ("M".into(), None)]);
        assert_eq!(pairs("OLD some value $A", '\\', &env).unwrap(), [("OLD".into(), Some("some value apple".into()))]);
        assert!(pairs("=x", '\\', &env).is_err());
    }
}
