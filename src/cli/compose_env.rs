//! Compose's environment variables, read as Compose reads them: from the process environment,
//! else from the `.env` file of the project directory (`--project-directory`, else the working
//! directory; the `--env-file` files instead when given). A flag on the command line wins over
//! both. BERTH_PROJECT_NAME and BERTH_ROOT stay as berth's own names (clap reads those).
//!
//! - COMPOSE_FILE: stack files, separated by COMPOSE_PATH_SEPARATOR (default `:`, the OS's)
//! - COMPOSE_PROJECT_NAME, COMPOSE_PROFILES (`,`), COMPOSE_ENV_FILES (`,`)
//! - COMPOSE_PARALLEL_LIMIT (as `--parallel`), COMPOSE_ANSI (as `--ansi`), COMPOSE_PROGRESS
//!   (as `--progress`), COMPOSE_COMPATIBILITY (as `--compatibility`)

use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum as _;
use indexmap::IndexMap;

use super::GlobalOpts;
use crate::term::{Ansi, ProgressMode};

/// What the global options resolve to once the environment is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub ansi: Ansi,
    pub progress: ProgressMode,
    /// Actions at once; None: the executor's default.
    pub parallel: Option<usize>,
}

/// Fill the unset global options from the environment and `.env`; returns the output modes.
pub fn apply(g: &mut GlobalOpts) -> anyhow::Result<Output> {
    let environ: IndexMap<String, String> = std::env::vars().collect();
    // First: it names the files the other variables are read from.
    env_files_from(g, &environ);
    let dotenv = dotenv(g, &environ)?;
    apply_with(g, &environ, &dotenv)
}

/// `--env-file`, else COMPOSE_ENV_FILES (comma-separated; from the environment only, as it
/// names the files `.env` would otherwise be).
fn env_files_from(g: &mut GlobalOpts, environ: &IndexMap<String, String>) {
    if g.env_files.is_empty() {
        let v = environ.get("COMPOSE_ENV_FILES").map(String::as_str).unwrap_or_default();
        g.env_files = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(PathBuf::from).collect();
    }
}

/// The variables of the `.env` file (or the `--env-file` files), empty when there is none.
fn dotenv(g: &GlobalOpts, environ: &IndexMap<String, String>) -> anyhow::Result<IndexMap<String, String>> {
    let cwd = std::env::current_dir().context("the working directory")?;
    let dir = g.project_directory.as_ref().map(|d| cwd.join(d)).unwrap_or_else(|| cwd.clone());
    let mut files: Vec<PathBuf> = g.env_files.iter().map(|f| cwd.join(f)).collect();
    if files.is_empty() {
        files.push(dir.join(".env"));
    }
    let mut vars = IndexMap::new();
    for f in files.iter().filter(|f| f.is_file()) {
        // Its warnings are reported when the stack is loaded, which reads the file again.
        let mut warnings = crate::spec::Diagnostics::new();
        vars = crate::spec::project::read_env_file(f, environ, vars, &mut warnings)
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
    }
    Ok(vars)
}

/// [`apply`] with the environment and `.env` given (unit-testable).
fn apply_with(
    g: &mut GlobalOpts,
    environ: &IndexMap<String, String>,
    dotenv: &IndexMap<String, String>,
) -> anyhow::Result<Output> {
    let lookup =
        |k: &str| environ.get(k).filter(|v| !v.is_empty()).or_else(|| dotenv.get(k).filter(|v| !v.is_empty())).cloned();
    let list = |v: String, sep: &str| -> Vec<String> {
        v.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    if g.files.is_empty() {
        if let Some(v) = lookup("COMPOSE_FILE") {
            let sep = lookup("COMPOSE_PATH_SEPARATOR").unwrap_or_else(|| ":".into());
            g.files = list(v, &sep).into_iter().map(PathBuf::from).collect::<Vec<PathBuf>>();
        }
    }
    if g.project_name.is_none() {
        g.project_name = lookup("COMPOSE_PROJECT_NAME");
    }
    if g.profiles.is_empty() {
        g.profiles = lookup("COMPOSE_PROFILES").map(|v| list(v, ",")).unwrap_or_default();
    }
    env_files_from(g, environ);
    // From the environment only, as Compose reads it (os.Getenv, not the project's `.env`).
    g.remove_orphans_env = environ.get("COMPOSE_REMOVE_ORPHANS").is_some_and(|v| truthy(v));
    // From the environment or `.env`, as Compose (the project options' environment).
    g.compatibility_env = lookup("COMPOSE_COMPATIBILITY").is_some_and(|v| truthy(&v));
    let parallel = match g.parallel {
        Some(n) => Some(n),
        None => match lookup("COMPOSE_PARALLEL_LIMIT") {
            Some(v) => {
                Some(v.trim().parse::<i64>().with_context(|| format!("COMPOSE_PARALLEL_LIMIT={v:?} is not a number"))?)
            }
            None => None,
        },
    };
    let parallel = match parallel {
        None => None,
        // Compose: -1 is unlimited.
        Some(-1) => Some(usize::MAX),
        Some(n) if n > 0 => Some(n as usize),
        Some(n) => anyhow::bail!("--parallel {n}: give a positive number of actions at once, or -1 for no limit"),
    };
    let ansi = match g.ansi {
        Some(a) => a,
        None => match lookup("COMPOSE_ANSI") {
            Some(v) => Ansi::from_str(&v, true)
                .map_err(|_| anyhow::anyhow!("COMPOSE_ANSI={v:?}: use never, always or auto"))?,
            None => Ansi::Auto,
        },
    };
    let progress = match g.progress {
        Some(p) => p,
        None => match lookup("COMPOSE_PROGRESS") {
            Some(v) => ProgressMode::from_str(&v, true)
                .map_err(|_| anyhow::anyhow!("COMPOSE_PROGRESS={v:?}: use auto, tty, plain, json or quiet"))?,
            None => ProgressMode::Auto,
        },
    };
    Ok(Output { ansi, progress, parallel })
}

/// A boolean variable as Compose's StringToBool reads it (Go's ParseBool, and `y`).
fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "t" | "true" | "y")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_read_as_compose_reads_them() {
        for yes in ["1", "t", "TRUE", "True", "y", " true "] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["0", "false", "no", "", "yes", "on"] {
            assert!(!truthy(no), "{no}");
        }
    }
    use clap::Parser as _;

    fn vars(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn global(args: &[&str]) -> GlobalOpts {
        let mut argv = vec!["berth"];
        argv.extend(args);
        argv.push("ps");
        super::super::Cli::try_parse_from(argv).expect("parses").global
    }

    #[test]
    fn environment_wins_over_dotenv_and_flags_over_both() {
        let env = vars(&[("COMPOSE_PROJECT_NAME", "fromenv"), ("COMPOSE_FILE", "a.yaml:b.yaml")]);
        let dot =
            vars(&[("COMPOSE_PROJECT_NAME", "fromdot"), ("COMPOSE_PROFILES", "x, y"), ("COMPOSE_PARALLEL_LIMIT", "2")]);
        let mut g = global(&[]);
        let out = apply_with(&mut g, &env, &dot).unwrap();
        assert_eq!(g.project_name.as_deref(), Some("fromenv"));
        assert_eq!(g.files, vec![PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]);
        assert_eq!(g.profiles, vec!["x".to_string(), "y".to_string()]);
        assert_eq!(out.parallel, Some(2));
        let mut g =
            global(&["-p", "flag", "-f", "c.yaml", "--parallel", "-1", "--ansi", "never", "--progress", "json"]);
        let out = apply_with(&mut g, &env, &dot).unwrap();
        assert_eq!((g.project_name.as_deref(), g.files.len()), (Some("flag"), 1));
        assert_eq!(out, Output { ansi: Ansi::Never, progress: ProgressMode::Json, parallel: Some(usize::MAX) });
    }

    #[test]
    fn path_separator_env_files_and_bad_values() {
        let dot = vars(&[("COMPOSE_FILE", "a.yaml;b.yaml"), ("COMPOSE_PATH_SEPARATOR", ";")]);
        let env = vars(&[("COMPOSE_ENV_FILES", "one.env,two.env"), ("COMPOSE_ANSI", "always")]);
        let mut g = global(&[]);
        let out = apply_with(&mut g, &env, &dot).unwrap();
        assert_eq!(g.files.len(), 2);
        assert_eq!(g.env_files, vec![PathBuf::from("one.env"), PathBuf::from("two.env")]);
        assert_eq!(out.ansi, Ansi::Always);
        let bad = apply_with(&mut global(&[]), &vars(&[("COMPOSE_PROGRESS", "fancy")]), &IndexMap::new());
        assert!(bad.unwrap_err().to_string().contains("COMPOSE_PROGRESS=\"fancy\""));
        let zero = apply_with(&mut global(&["--parallel", "0"]), &IndexMap::new(), &IndexMap::new());
        assert!(zero.unwrap_err().to_string().contains("--parallel 0"));
    }
}
