//! The project around the stack files: which files to load (Compose's discovery rules), the
//! project directory, the variables used for interpolation (`.env` / `--env-file`, with the
//! process environment winning, as in Compose) and the project name.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::diag::{Diagnostic, Diagnostics};

/// Stack file names looked for in the working directory and its parents, in order of preference.
pub const STACK_FILE_NAMES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/// Override files merged automatically over a discovered stack file (never with `-f`).
pub const OVERRIDE_FILE_NAMES: [&str; 4] =
    ["compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"];

/// The name `-f -` gives to the standard input.
pub const STDIN: &str = "-";

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "no stack file found in {dir} (or its parents): looked for compose.yaml, compose.yml, \
         docker-compose.yaml, docker-compose.yml; use -f FILE"
    )]
    NoStackFile { dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// The stack files to load, in merge order, plus warnings met while choosing them.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSet {
    pub files: Vec<PathBuf>,
    pub warnings: Vec<Diagnostic>,
}

/// Choose the stack files. Explicit files (relative to `working_dir`) are used as given; without
/// them the first directory from the project directory (`--project-directory`, relative to
/// `working_dir`; else `working_dir`) up to `/` holding a stack file wins, as compose-go's
/// default config path, and its override file, when present, is merged over it.
pub fn resolve_files(
    explicit: &[PathBuf],
    project_dir: Option<&Path>,
    working_dir: &Path,
) -> Result<FileSet, ProjectError> {
    let start = project_dir.map(|d| working_dir.join(d));
    let working_dir = start.as_deref().filter(|_| explicit.is_empty()).unwrap_or(working_dir);
    if !explicit.is_empty() {
        let files =
            explicit.iter().map(|f| if f.as_os_str() == STDIN { f.clone() } else { working_dir.join(f) }).collect();
        return Ok(FileSet { files, warnings: Vec::new() });
    }
    let mut warnings = Vec::new();
    for dir in working_dir.ancestors() {
        let found: Vec<PathBuf> = STACK_FILE_NAMES.iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect();
        let Some(first) = found.first().cloned() else { continue };
        if found.len() > 1 {
            let others: Vec<String> = found[1..].iter().map(|p| p.display().to_string()).collect();
            warnings.push(Diagnostic::warning(
                None,
                "",
                format!(
                    "found several stack files in {}: using {}, ignoring {}",
                    dir.display(),
                    first.display(),
                    others.join(", ")
                ),
            ));
        }
        let mut files = vec![first];
        if let Some(ov) = OVERRIDE_FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
            files.push(ov);
        }
        return Ok(FileSet { files, warnings });
    }
    Err(ProjectError::NoStackFile { dir: working_dir.to_path_buf() })
}

/// The project directory: `--project-directory` (relative to the working dir), else the first
/// file's directory (the working directory for stdin).
pub fn project_dir(explicit: Option<&Path>, files: &[PathBuf], working_dir: &Path) -> PathBuf {
    if let Some(dir) = explicit {
        return working_dir.join(dir);
    }
    files
        .first()
        .filter(|f| f.as_os_str() != STDIN)
        .and_then(|f| f.parent())
        .map_or_else(|| working_dir.to_path_buf(), Path::to_path_buf)
}

/// The variables for interpolation: the env files' values, with the process environment over
/// them (Compose's precedence). Explicit env files (relative to `working_dir`) must exist;
/// without them `.env` in the project directory is read when present.
pub fn environment(
    env_files: &[PathBuf],
    project_dir: &Path,
    working_dir: &Path,
    environ: &IndexMap<String, String>,
    warnings: &mut Diagnostics,
) -> Result<IndexMap<String, String>, ProjectError> {
    let mut vars: IndexMap<String, String> = IndexMap::new();
    let explicit = !env_files.is_empty();
    let files: Vec<PathBuf> =
        if explicit { env_files.iter().map(|f| working_dir.join(f)).collect() } else { vec![project_dir.join(".env")] };
    for path in files {
        if !explicit && !path.is_file() {
            continue;
        }
        vars = read_env_file(&path, environ, vars, warnings)?;
    }
    vars.extend(environ.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(vars)
}

/// Read one env file over `earlier` (the files read before it); `${VAR}` inside it sees the
/// process environment, then the values read so far, this file's own included (compose-go
/// dotenv.GetEnvFromFile).
pub fn read_env_file(
    path: &Path,
    environ: &IndexMap<String, String>,
    earlier: IndexMap<String, String>,
    warnings: &mut Diagnostics,
) -> Result<IndexMap<String, String>, ProjectError> {
    let text = super::envfile::read(path).map_err(|source| ProjectError::Io { path: path.to_path_buf(), source })?;
    let lookup = |k: &str| environ.get(k).cloned();
    super::envfile::parse_over(&text, &path.display().to_string(), &lookup, earlier, warnings)
        .map_err(ProjectError::Invalid)
}

/// Where the project name came from; an explicit name must already be valid, a derived one
/// is normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    Flag,
    Env,
    File,
    Directory,
}

/// The project name: `-p`, then BERTH_PROJECT_NAME / COMPOSE_PROJECT_NAME (process env or
/// `.env`), then the files' top-level `name:` (normalized; when nothing is left of it, the
/// next source is used), then the project directory's base name.
pub fn project_name(
    flag: Option<&str>,
    vars: &IndexMap<String, String>,
    top_level: Option<&str>,
    project_dir: &Path,
) -> Result<String, String> {
    let env = ["BERTH_PROJECT_NAME", "COMPOSE_PROJECT_NAME"]
        .iter()
        .find_map(|k| vars.get(*k).filter(|v| !v.is_empty()).map(|v| (v.as_str(), NameSource::Env)));
    let dir_name = project_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // compose-go normalizes a `name:` from the files instead of rejecting it (loader.go
    // projectName); an explicit `-p` or environment name must already be valid.
    let file_name = top_level.map(normalize_name);
    let (name, source) = flag
        .filter(|f| !f.is_empty())
        .map(|f| (f, NameSource::Flag))
        .or(env)
        .or(file_name.as_deref().filter(|n| !n.is_empty()).map(|n| (n, NameSource::File)))
        .unwrap_or((dir_name.as_str(), NameSource::Directory));
    checked_name(name, source)
}

fn checked_name(name: &str, source: NameSource) -> Result<String, String> {
    let normalized = normalize_name(name);
    if source != NameSource::Directory && normalized != name {
        let from = match source {
            NameSource::Flag => "-p",
            NameSource::Env => "the environment",
            _ => "the top-level `name:`",
        };
        return Err(format!(
            "invalid project name `{name}` (from {from}): use only lower-case letters, digits, `-` and `_`, \
             starting with a letter or digit"
        ));
    }
    if normalized.is_empty() {
        return Err(format!(
            "cannot derive a project name from the directory name `{name}`; set one with -p or a top-level `name:`"
        ));
    }
    Ok(normalized)
}

/// Compose's normalization: lower-case, keep only `[a-z0-9_-]`, drop leading `_`/`-`.
pub fn normalize_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn normalizes_like_compose() {
        assert_eq!(normalize_name("My App.v2"), "myappv2");
        assert_eq!(normalize_name("__x-Y_z"), "x-y_z");
        assert_eq!(normalize_name("..."), "");
    }

    #[test]
    fn name_precedence_flag_env_file_dir() {
        let dir = Path::new("/src/My Project");
        let env = vars(&[("COMPOSE_PROJECT_NAME", "fromenv")]);
        assert_eq!(project_name(Some("flag"), &env, Some("file"), dir).unwrap(), "flag");
        assert_eq!(project_name(None, &env, Some("file"), dir).unwrap(), "fromenv");
        let berth = vars(&[("COMPOSE_PROJECT_NAME", "c"), ("BERTH_PROJECT_NAME", "b")]);
        assert_eq!(project_name(None, &berth, None, dir).unwrap(), "b");
        assert_eq!(project_name(None, &vars(&[]), Some("file"), dir).unwrap(), "file");
        assert_eq!(project_name(None, &vars(&[]), None, dir).unwrap(), "myproject");
    }

    #[test]
    fn explicit_invalid_name_is_an_error() {
        let err = project_name(Some("My App"), &vars(&[]), None, Path::new("/x")).unwrap_err();
        assert!(err.contains("invalid project name `My App` (from -p)"), "{err}");
        // A top-level `name:` is normalized instead (compose-go loader.go projectName/NormalizeProjectName).
        assert_eq!(project_name(None, &vars(&[]), Some("-My_App.v2"), Path::new("/x")).unwrap(), "my_appv2");
        assert_eq!(project_name(None, &vars(&[]), Some("..."), Path::new("/x/dir")).unwrap(), "dir");
        assert!(project_name(None, &vars(&[]), None, Path::new("/...")).is_err());
    }

    #[test]
    fn discovery_prefers_compose_yaml_walks_up_and_adds_override() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("compose.yaml"), "services: {}\n").unwrap();
        std::fs::write(root.join("docker-compose.yml"), "services: {}\n").unwrap();
        std::fs::write(root.join("compose.override.yaml"), "services: {}\n").unwrap();
        let sub = root.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let set = resolve_files(&[], None, &sub).unwrap();
        assert_eq!(set.files, vec![root.join("compose.yaml"), root.join("compose.override.yaml")]);
        assert_eq!(set.warnings.len(), 1);
        assert!(set.warnings[0].message.contains("ignoring"), "{:?}", set.warnings);
    }

    #[test]
    fn explicit_files_are_relative_to_working_dir_and_skip_override() {
        let set = resolve_files(&[PathBuf::from("x.yaml"), PathBuf::from("-")], None, Path::new("/w")).unwrap();
        assert_eq!(set.files, vec![PathBuf::from("/w/x.yaml"), PathBuf::from("-")]);
        assert_eq!(project_dir(None, &set.files, Path::new("/w")), PathBuf::from("/w"));
        assert_eq!(project_dir(Some(Path::new("p")), &set.files, Path::new("/w")), PathBuf::from("/w/p"));
        let stdin_only = [PathBuf::from("-")];
        assert_eq!(project_dir(None, &stdin_only, Path::new("/w")), PathBuf::from("/w"));
    }

    #[test]
    fn missing_stack_file_names_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        // The temp dir's parents (/tmp, /) hold no stack file on a sane machine.
        if let Err(ProjectError::NoStackFile { dir }) = resolve_files(&[], None, tmp.path()) {
            assert_eq!(dir, tmp.path());
        }
    }
}
