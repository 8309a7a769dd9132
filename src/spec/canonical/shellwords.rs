//! Split a command string into words the way Compose does (mattn/go-shellwords), without a
//! shell: whitespace separates words; single quotes keep everything literally; double quotes
//! group words and a backslash in them (or outside quotes) makes the next character literal.
//! No variable expansion, globbing or operators: `a && b` is the four words a, &&, b (the
//! string is exec'd, not run by sh; use `sh -c '…'` for shell syntax).

/// Split `text` into words; an unterminated quote or a trailing backslash is an error.
pub fn split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut buf = String::new();
    // `in_word` is set by quotes too, so `''` yields an empty word.
    let mut in_word = false;
    let (mut single, mut double, mut escaped) = (false, false, false);
    for c in text.chars() {
        if escaped {
            buf.push(c);
            escaped = false;
            in_word = true;
            continue;
        }
        match c {
            '\\' if !single => escaped = true,
            '\'' if !double => {
                single = !single;
                in_word = true;
            }
            '"' if !single => {
                double = !double;
                in_word = true;
            }
            ' ' | '\t' | '\r' | '\n' if !single && !double => {
                if in_word {
                    words.push(std::mem::take(&mut buf));
                    in_word = false;
                }
            }
            _ => {
                buf.push(c);
                in_word = true;
            }
        }
    }
    if single || double {
        return Err("unterminated quote".into());
    }
    if escaped {
        return Err("trailing backslash".into());
    }
    if in_word {
        words.push(buf);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    fn ok(s: &str) -> Vec<String> {
        split(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn plain_words_and_whitespace() {
        assert_eq!(ok("  echo   hello\tworld\n"), ["echo", "hello", "world"]);
        assert!(ok("").is_empty());
    }

    #[test]
    fn quotes_group_and_keep_literals() {
        assert_eq!(ok(r#"sh -c "echo $HOME && ls""#), ["sh", "-c", "echo $HOME && ls"]);
        assert_eq!(ok("echo 'a \"b\" \\n'"), ["echo", "a \"b\" \\n"]);
        assert_eq!(ok(r#"a"b c"d"#), ["ab cd"]);
        assert_eq!(ok("x '' \"\""), ["x", "", ""]);
    }

    #[test]
    fn backslash_escapes() {
        assert_eq!(ok(r"a\ b c"), ["a b", "c"]);
        assert_eq!(ok(r#""a \" b""#), ["a \" b"]);
        assert_eq!(ok(r"\'x"), ["'x"]);
    }

    #[test]
    fn operators_are_plain_words() {
        assert_eq!(ok("a && b; c"), ["a", "&&", "b;", "c"]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("echo 'oops").unwrap_err(), "unterminated quote");
        assert_eq!(split("echo \"oops").unwrap_err(), "unterminated quote");
        assert_eq!(split("echo \\").unwrap_err(), "trailing backslash");
    }
}
