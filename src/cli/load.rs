//! Loading the stack for a command: global options → [`LoadOptions`] → [`load`], with the
//! diagnostics printed the one way every command prints them.

use std::io::Write as _;

use crate::spec::diag::{Diagnostic, Severity};
use crate::spec::load::{load, LoadError, LoadOptions, Loaded};

use super::GlobalOpts;

/// Build the loader's options from the global flags, the process environment and the
/// current directory.
pub(crate) fn load_options(g: &GlobalOpts, services: &[String]) -> anyhow::Result<LoadOptions> {
    let working_dir = std::env::current_dir()?;
    Ok(LoadOptions {
        files: g.files.clone(),
        project_name: g.project_name.clone(),
        project_dir: g.project_directory.clone(),
        env_files: g.env_files.clone(),
        profiles: g.profiles.clone(),
        enabled_services: services.to_vec(),
        working_dir,
        environ: std::env::vars().collect(),
        no_interpolate: false,
        no_normalize: false,
        no_consistency: false,
        no_env_resolution: false,
        no_path_resolution: false,
        compatibility: g.compatibility || g.compatibility_env,
    })
}

/// Load the stack named by the global options, for any command that needs it (`berth plan`,
/// `berth up`, …): call this rather than `spec::load::load` so every command reports problems
/// alike. Warnings go to stderr as `warning: FILE:LINE:COL: …`; when the stack is invalid,
/// every diagnostic is printed, one per line, and the returned error is only a one-line
/// summary (print it as `error: …` and exit 1).
// Until `berth plan` switches to it, nothing else calls it.
#[allow(dead_code)]
pub(crate) fn load_stack(g: &GlobalOpts) -> anyhow::Result<Loaded> {
    load_with(load_options(g, &[])?)
}

/// [`load_stack`] with explicit options (services named on the command line, no interpolation…).
pub(crate) fn load_with(opts: LoadOptions) -> anyhow::Result<Loaded> {
    match load(&opts) {
        Ok(loaded) => {
            print_diagnostics(&loaded.warnings);
            Ok(loaded)
        }
        Err(LoadError::Invalid(diags)) => {
            print_diagnostics(&diags.items);
            let n = diags.errors().count();
            anyhow::bail!("the stack is invalid: {n} error{}", if n == 1 { "" } else { "s" })
        }
        Err(other) => Err(other.into()),
    }
}

/// `severity: FILE:LINE:COL: path: message (hint)`, one per line, on stderr.
pub(crate) fn print_diagnostics(items: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for d in items {
        let _ = writeln!(err, "{}", render(d));
    }
}

/// One diagnostic as a line: the severity first, so it greps well.
pub(crate) fn render(d: &Diagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let plain = Diagnostic { severity: Severity::Error, ..d.clone() };
    format!("{severity}: {plain}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::diag::Pos;

    #[test]
    fn renders_severity_first() {
        let pos = Pos::new("compose.yaml".into(), 2, 3);
        let w = Diagnostic::warning(Some(&pos), "services.web", "`isolation` is accepted but not honoured");
        assert_eq!(render(&w), "warning: compose.yaml:2:3: services.web: `isolation` is accepted but not honoured");
        let e = Diagnostic::error(None, "", "boom").with_hint("fix it");
        assert_eq!(render(&e), "error: boom (fix it)");
    }
}
