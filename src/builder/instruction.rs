//! The instruction model: lexed lines checked and typed, grouped into stages. Arguments that
//! Docker substitutes variables in stay raw here (their values depend on build args and the
//! base image's ENV, known only while building); their shape is checked now, with every
//! variable empty, so syntax errors surface before anything runs.

use std::time::Duration;

use super::dockerfile::{lex, RawLine};
use super::error::{Loc, Result};
use super::words;

/// Exec form (`["a","b"]`) or shell form (`a b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    Exec(Vec<String>),
    Shell(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    /// Sources then destination, raw words (or the exec-form list).
    pub args: Form,
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    /// ADD: local tar archives are extracted.
    pub add: bool,
}

/// HEALTHCHECK's settings: the image config's own type (`CMD` exec form → `["CMD", …]`; shell
/// form → `["CMD-SHELL", cmd]`).
pub use crate::image::Healthcheck as HealthSpec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Run {
        cmd: Form,
        network: Option<String>,
    },
    Copy(CopySpec),
    Env(String),
    Arg(String),
    Workdir(String),
    User(String),
    Cmd(Form),
    Entrypoint(Form),
    Expose(String),
    Label(String),
    Volume(Form),
    /// None: `HEALTHCHECK NONE`.
    Healthcheck(Option<HealthSpec>),
    StopSignal(String),
    Shell(Vec<String>),
    /// ONBUILD and MAINTAINER: recorded nowhere, warned about.
    Ignored(String),
}

#[derive(Debug, Clone)]
pub struct Instruction {
    pub line: usize,
    pub text: String,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    /// `FROM x AS name`, lower-cased.
    pub name: Option<String>,
    pub line: usize,
    /// The FROM argument, raw (may use global ARGs).
    pub base: String,
    pub text: String,
    pub instructions: Vec<Instruction>,
}

#[derive(Debug, Clone)]
pub struct Dockerfile {
    pub file: String,
    pub escape: char,
    /// ARGs before the first FROM: (line, raw `NAME[=default]` text).
    pub global_args: Vec<(usize, String)>,
    pub stages: Vec<Stage>,
}

/// Parse a Dockerfile; `file` names it in errors (`Dockerfile:12: …`).
pub fn parse(text: &str, file: &str) -> Result<Dockerfile> {
    let lexed = lex(text, file)?;
    let mut df =
        Dockerfile { file: file.to_string(), escape: lexed.escape, global_args: Vec::new(), stages: Vec::new() };
    for raw in &lexed.lines {
        let loc = Loc::new(file, raw.line);
        if raw.keyword == "FROM" {
            let stage = from(raw, &loc, df.stages.len(), lexed.escape)?;
            if let Some(n) = &stage.name {
                if df.stages.iter().any(|s| s.name.as_ref() == Some(n)) {
                    return Err(loc.err(format!("duplicate stage name `{n}`")));
                }
            }
            df.stages.push(stage);
            continue;
        }
        let kind = kind(raw, &loc, lexed.escape)?;
        match df.stages.last_mut() {
            Some(stage) => stage.instructions.push(Instruction { line: raw.line, text: raw.text.clone(), kind }),
            None if matches!(kind, Kind::Arg(_)) => {
                if let Kind::Arg(a) = kind {
                    df.global_args.push((raw.line, a));
                }
            }
            None => return Err(loc.err(format!("{} before the first FROM (only ARG may come first)", raw.keyword))),
        }
    }
    if df.stages.is_empty() {
        return Err(Loc::new(file, lexed.lines.last().map_or(1, |l| l.line)).err("no FROM instruction"));
    }
    Ok(df)
}

fn empty_env(_: &str) -> Option<String> {
    None
}

fn from(raw: &RawLine, loc: &Loc, index: usize, escape: char) -> Result<Stage> {
    flags(raw, loc, &["platform"])?;
    let w = words::words(&raw.args, escape, &empty_env).map_err(|e| loc.err(format!("FROM: {e}")))?;
    let parts: Vec<&str> = raw.args.split_whitespace().collect();
    let name = match parts.as_slice() {
        [_] => None,
        [_, as_, name] if as_.eq_ignore_ascii_case("as") => {
            let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !ok {
                return Err(loc.err(format!("invalid stage name `{name}`")));
            }
            Some(name.to_ascii_lowercase())
        }
        _ => return Err(loc.err("FROM takes an image and an optional `AS name`".to_string())),
    };
    if w.is_empty() {
        return Err(loc.err("FROM needs an image"));
    }
    Ok(Stage {
        index,
        name,
        line: raw.line,
        base: parts[0].to_string(),
        text: raw.text.clone(),
        instructions: Vec::new(),
    })
}

/// Check that only `allowed` flags are given.
fn flags(raw: &RawLine, loc: &Loc, allowed: &[&str]) -> Result<()> {
    match raw.flags.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
        Some((n, _)) => Err(loc.err(format!("{}: unknown or unsupported flag --{n}", raw.keyword))),
        None => Ok(()),
    }
}

fn flag(raw: &RawLine, name: &str) -> Option<String> {
    raw.flags.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone().unwrap_or_default())
}

/// `["a","b"]` → exec form; anything else → shell form.
fn form(args: &str) -> Form {
    let t = args.trim();
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
            return Form::Exec(v);
        }
    }
    Form::Shell(t.to_string())
}

fn kind(raw: &RawLine, loc: &Loc, escape: char) -> Result<Kind> {
    let args = raw.args.as_str();
    let need = |what: &str| -> Result<()> {
        if args.trim().is_empty() {
            Err(loc.err(format!("{} needs {what}", raw.keyword)))
        } else {
            Ok(())
        }
    };
    let check_words = |what: &str| -> Result<Vec<String>> {
        words::words(args, escape, &empty_env).map_err(|e| loc.err(format!("{what}: {e}")))
    };
    let no_flags = |raw: &RawLine| flags(raw, loc, &[]);
    let k = match raw.keyword.as_str() {
        "RUN" => {
            flags(raw, loc, &["network"])?;
            need("a command")?;
            let network = flag(raw, "network");
            if let Some(n) = network.as_deref().filter(|n| !["default", "none", "host"].contains(n)) {
                return Err(loc.err(format!("RUN --network={n}: expected default, none or host")));
            }
            Kind::Run { cmd: run_command(raw, loc)?, network }
        }
        "COPY" | "ADD" => copy(raw, loc, escape)?,
        "ENV" | "LABEL" | "ARG" => {
            no_flags(raw)?;
            need("a name")?;
            let pairs = words::pairs(args, escape, &empty_env).map_err(|e| loc.err(format!("{}: {e}", raw.keyword)))?;
            if raw.keyword != "ARG" && pairs.iter().any(|(_, v)| v.is_none()) {
                return Err(loc.err(format!("{} needs NAME=VALUE (or NAME VALUE)", raw.keyword)));
            }
            match raw.keyword.as_str() {
                "ENV" => Kind::Env(args.to_string()),
                "LABEL" => Kind::Label(args.to_string()),
                _ => Kind::Arg(args.to_string()),
            }
        }
        "WORKDIR" | "USER" | "STOPSIGNAL" => {
            no_flags(raw)?;
            need("an argument")?;
            check_words(&raw.keyword)?;
            match raw.keyword.as_str() {
                "WORKDIR" => Kind::Workdir(args.to_string()),
                "USER" => Kind::User(args.to_string()),
                _ => Kind::StopSignal(args.to_string()),
            }
        }
        "CMD" | "ENTRYPOINT" => {
            no_flags(raw)?;
            let f = form(args);
            if raw.keyword == "CMD" {
                Kind::Cmd(f)
            } else {
                Kind::Entrypoint(f)
            }
        }
        "EXPOSE" => {
            no_flags(raw)?;
            need("a port")?;
            check_words("EXPOSE")?;
            Kind::Expose(args.to_string())
        }
        "VOLUME" => {
            no_flags(raw)?;
            need("a path")?;
            check_words("VOLUME")?;
            Kind::Volume(form(args))
        }
        "SHELL" => match form(args) {
            Form::Exec(v) if !v.is_empty() => Kind::Shell(v),
            _ => return Err(loc.err("SHELL must be a JSON array, e.g. SHELL [\"/bin/sh\", \"-c\"]")),
        },
        "HEALTHCHECK" => Kind::Healthcheck(healthcheck(raw, loc)?),
        "ONBUILD" | "MAINTAINER" => Kind::Ignored(raw.keyword.clone()),
        other => return Err(loc.err(format!("unknown instruction `{other}`"))),
    };
    Ok(k)
}

/// RUN's command. With here-documents (BuildKit's forms): `RUN <<EOF` alone runs the body as
/// a shell script; `RUN cmd <<EOF` hands the command and the bodies to the shell, which feeds
/// them to the command (quoting and `<<-` are the shell's business, as in BuildKit).
fn run_command(raw: &RawLine, loc: &Loc) -> Result<Form> {
    let f = form(&raw.args);
    if raw.heredocs.is_empty() {
        return Ok(f);
    }
    if matches!(f, Form::Exec(_)) {
        return Err(loc.err("RUN: heredocs need the shell form (RUN cmd <<EOF)"));
    }
    let marker = raw.args.trim().trim_start_matches("<<").trim_start_matches('-').trim_matches(['"', '\'']);
    if let [only] = raw.heredocs.as_slice() {
        if marker == only.name {
            if only.body.starts_with("#!") {
                return Err(loc.err(
                    "RUN: a heredoc script with a #! line is not supported by berth's builder; name the interpreter (RUN python3 <<EOF)",
                ));
            }
            return Ok(Form::Shell(only.body.clone()));
        }
    }
    let mut text = raw.args.clone();
    for h in &raw.heredocs {
        text.push('\n');
        text.push_str(&h.body);
        text.push_str(&h.name);
    }
    Ok(Form::Shell(text))
}

fn copy(raw: &RawLine, loc: &Loc, escape: char) -> Result<Kind> {
    let add = raw.keyword == "ADD";
    let allowed: &[&str] = if add { &["chown", "chmod", "link"] } else { &["from", "chown", "chmod", "link"] };
    flags(raw, loc, allowed)?;
    if !raw.heredocs.is_empty() {
        return Err(loc.err(format!("{}: heredocs are supported in RUN only by berth's builder", raw.keyword)));
    }
    let args = form(&raw.args);
    let n = match &args {
        Form::Exec(v) => v.len(),
        Form::Shell(s) => {
            words::words(s, escape, &empty_env).map_err(|e| loc.err(format!("{}: {e}", raw.keyword)))?.len()
        }
    };
    if n < 2 {
        return Err(loc.err(format!("{} needs at least one source and a destination", raw.keyword)));
    }
    if let Some(m) = flag(raw, "chmod").filter(|m| u32::from_str_radix(m, 8).is_err()) {
        return Err(loc.err(format!("{} --chmod={m}: expected an octal mode such as 755", raw.keyword)));
    }
    Ok(Kind::Copy(CopySpec {
        args,
        from: flag(raw, "from"),
        chown: flag(raw, "chown"),
        chmod: flag(raw, "chmod"),
        add,
    }))
}

fn healthcheck(raw: &RawLine, loc: &Loc) -> Result<Option<HealthSpec>> {
    flags(raw, loc, &["interval", "timeout", "start-period", "start-interval", "retries"])?;
    let args = raw.args.trim();
    let (word, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if word.eq_ignore_ascii_case("NONE") {
        return Ok(None);
    }
    if !word.eq_ignore_ascii_case("CMD") || rest.trim().is_empty() {
        return Err(loc.err("HEALTHCHECK takes NONE or [flags] CMD command"));
    }
    let test = match form(rest) {
        Form::Exec(v) => std::iter::once("CMD".to_string()).chain(v).collect(),
        Form::Shell(s) => vec!["CMD-SHELL".to_string(), s],
    };
    let dur = |name: &str| -> Result<Option<Duration>> {
        flag(raw, name)
            .map(|v| parse_duration(&v).ok_or_else(|| loc.err(format!("HEALTHCHECK --{name}={v}: bad duration"))))
            .transpose()
    };
    let retries = flag(raw, "retries")
        .map(|v| v.parse().map_err(|_| loc.err(format!("HEALTHCHECK --retries={v}: expected a number"))))
        .transpose()?;
    Ok(Some(HealthSpec {
        test,
        interval: dur("interval")?,
        timeout: dur("timeout")?,
        start_period: dur("start-period")?,
        start_interval: dur("start-interval")?,
        retries,
    }))
}

/// Go durations as Docker accepts them: `30s`, `1m30s`, `500ms`, `1h`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += num * mult;
        rest = &rest[u..];
    }
    Some(Duration::from_secs_f64(total))
}

impl Dockerfile {
    /// The index of the stage `name` (a stage name or a number), if it is one.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        self.stages
            .iter()
            .position(|s| s.name.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok().filter(|i| *i < self.stages.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_and_instructions() {
        let df = parse(
            "ARG V=1\nFROM busybox:$V AS build\nRUN [\"sh\",\"-c\",\"echo\"]\nCOPY --from=0 a b\nFROM scratch\nCOPY --from=build /x /\nHEALTHCHECK --interval=5s --retries=2 CMD true\nCMD echo hi\n",
            "Dockerfile",
        )
        .unwrap();
        assert_eq!(df.global_args, [(1, "V=1".to_string())]);
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
        assert_eq!(df.stages[0].base, "busybox:$V");
        assert!(matches!(&df.stages[0].instructions[0].kind, Kind::Run { cmd: Form::Exec(v), .. } if v.len() == 3));
        let Kind::Healthcheck(Some(h)) = &df.stages[1].instructions[1].kind else { panic!() };
        assert_eq!((h.interval, h.retries), (Some(Duration::from_secs(5)), Some(2)));
        assert_eq!(h.test, ["CMD-SHELL", "true"]);
        assert_eq!(df.stage_index("build"), Some(0));
        assert_eq!(df.stage_index("1"), Some(1));
        assert_eq!(df.stages[1].instructions[2].kind, Kind::Cmd(Form::Shell("echo hi".into())));
    }

    #[test]
    fn run_heredocs() {
        let df = parse("FROM a\nRUN <<EOF\nset -e\necho a\nEOF\nRUN cat <<A > /f\nx\nA\n", "D").unwrap();
        let cmds: Vec<&Kind> = df.stages[0].instructions.iter().map(|i| &i.kind).collect();
        assert_eq!(cmds[0], &Kind::Run { cmd: Form::Shell("set -e\necho a\n".into()), network: None });
        assert_eq!(cmds[1], &Kind::Run { cmd: Form::Shell("cat <<A > /f\nx\nA".into()), network: None });
    }

    #[track_caller]
    fn err(text: &str) -> String {
        parse(text, "Dockerfile").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(err("RUN x\n"), "Dockerfile:1: RUN before the first FROM (only ARG may come first)");
        assert_eq!(err("FROM a\nFOO bar\n"), "Dockerfile:2: unknown instruction `FOO`");
        assert_eq!(err("FROM a\n\nCOPY onlyone\n"), "Dockerfile:3: COPY needs at least one source and a destination");
        assert_eq!(err("FROM a\nENV\n"), "Dockerfile:2: ENV needs a name");
        assert_eq!(err("FROM a\nENV A=\"x\n"), "Dockerfile:2: ENV: unterminated double quote");
        assert_eq!(err("FROM a\nRUN --mount=type=cache x\n"), "Dockerfile:2: RUN: unknown or unsupported flag --mount");
        assert_eq!(
            err("FROM a\nSHELL sh -c\n"),
            "Dockerfile:2: SHELL must be a JSON array, e.g. SHELL [\"/bin/sh\", \"-c\"]"
        );
        assert_eq!(err("FROM a AS x\nFROM b AS X\n"), "Dockerfile:2: duplicate stage name `x`");
        assert_eq!(err("FROM a b\n"), "Dockerfile:1: FROM takes an image and an optional `AS name`");
        assert_eq!(err("FROM a\nRUN cat <<EOF\n"), "Dockerfile:2: RUN: unterminated heredoc `EOF`");
        assert_eq!(
            err("FROM a\nCOPY <<EOF /x\nhi\nEOF\n"),
            "Dockerfile:2: COPY: heredocs are supported in RUN only by berth's builder"
        );
        assert!(err("FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nEOF\n").contains("#! line is not supported"));
        assert_eq!(err("# only a comment\n"), "Dockerfile:1: no FROM instruction");
        assert_eq!(
            err("FROM a\nHEALTHCHECK --interval=5x CMD true\n"),
            "Dockerfile:2: HEALTHCHECK --interval=5x: bad duration"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5"), None);
    }
}
