//! The conformance cases, one module per area of compose-go's test suite, and the harness that
//! runs a case through berth's loader. Every case names the compose-go test it was written
//! from; each area's file lists at its top the compose-go tests it skips and why.

pub mod attributes;
pub mod dotenv;
pub mod extends_include;
pub mod loader;
pub mod merge;
pub mod normalize;
pub mod template;
pub mod types;
pub mod validate;

use std::path::{Path, PathBuf};

use berth::planner::ServiceGraph;
use berth::spec::load::{load, select_services, LoadError, LoadOptions};

/// Written as a model value: the pointer must not resolve at all (not even to null).
pub const ABSENT: &str = "<absent>";

/// What a case expects of loading.
#[derive(Clone)]
pub enum Expect {
    /// Loads; each JSON pointer into `berth config`'s model has this JSON value (as text;
    /// `<dir>` is the project directory, `<tmp>` its parent). Absent, `[]`, `{}` and `false` all read as
    /// compose-go's zero value.
    Model(Vec<(String, String)>),
    /// Loads with a warning containing this text, and these model values.
    Warns(String, Vec<(String, String)>),
    /// Fails with an error containing this text.
    Fails(String),
}

/// One case: files in a fresh project directory, options, and what compose-go does with them.
#[derive(Clone)]
pub struct Case {
    /// The compose-go test this case came from.
    pub source: String,
    /// Every file written (stack files, env files, anything else), relative to the project dir.
    pub files: Vec<(String, String)>,
    /// The files given with `-f`, in order (empty: discovered as `berth` does).
    pub stack: Vec<String>,
    /// The process environment.
    pub env: Vec<(String, String)>,
    /// `-p`.
    pub project: Option<String>,
    /// `--project-directory` (relative to the working directory).
    pub project_dir: Option<String>,
    /// `--env-file` (relative to the working directory).
    pub env_files: Vec<String>,
    /// Services named on the command line (`config SERVICE…`).
    pub services: Vec<String>,
    /// `--profile`.
    pub profiles: Vec<String>,
    /// `config --no-interpolate`.
    pub no_interpolate: bool,
    /// The project directory's name (the default project name comes from it).
    pub dir_name: String,
    /// No warning at all is expected (compose-go logs none).
    pub quiet: bool,
    pub expect: Expect,
    /// A documented, deliberate difference (README's compatibility section): the case states
    /// what compose-go does, berth does otherwise, and the runner counts it as a disagreement.
    pub differs: Option<String>,
}

/// A case named after the compose-go test it was written from.
pub fn case(source: &str) -> Case {
    Case {
        source: source.to_string(),
        files: Vec::new(),
        stack: Vec::new(),
        env: Vec::new(),
        project: None,
        project_dir: None,
        env_files: Vec::new(),
        services: Vec::new(),
        profiles: Vec::new(),
        no_interpolate: false,
        dir_name: "proj".to_string(),
        quiet: false,
        expect: Expect::Model(Vec::new()),
        differs: None,
    }
}

/// Text that starts with a newline is an indented block: drop that newline and the common
/// indentation, so cases can be written as indented raw strings.
pub fn dedent(text: &str) -> String {
    let Some(body) = text.strip_prefix('\n') else { return text.to_string() };
    let indent = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out: String =
        body.lines().map(|l| l.get(indent..).unwrap_or("").trim_end_matches(' ')).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

impl Case {
    /// `compose.yaml`, loaded with `-f`.
    pub fn yaml(self, text: &str) -> Case {
        self.stack_file("compose.yaml", text)
    }

    /// A stack file loaded with `-f`, after the ones before it.
    pub fn stack_file(mut self, name: &str, text: &str) -> Case {
        self.files.push((name.to_string(), dedent(text)));
        self.stack.push(name.to_string());
        self
    }

    /// Any other file (env files, included or extended files, …).
    pub fn file(mut self, name: &str, text: &str) -> Case {
        self.files.push((name.to_string(), dedent(text)));
        self
    }

    /// A file written byte for byte (no dedenting).
    pub fn raw_file(mut self, name: &str, text: &str) -> Case {
        self.files.push((name.to_string(), text.to_string()));
        self
    }

    pub fn env(mut self, env: &[(&str, &str)]) -> Case {
        self.env.extend(pairs(env));
        self
    }

    pub fn project(mut self, name: &str) -> Case {
        self.project = Some(name.to_string());
        self
    }

    pub fn project_dir(mut self, dir: &str) -> Case {
        self.project_dir = Some(dir.to_string());
        self
    }

    pub fn env_file(mut self, path: &str) -> Case {
        self.env_files.push(path.to_string());
        self
    }

    pub fn select(mut self, services: &[&str]) -> Case {
        self.services = services.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn profiles(mut self, profiles: &[&str]) -> Case {
        self.profiles = profiles.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn no_interpolate(mut self) -> Case {
        self.no_interpolate = true;
        self
    }

    pub fn dir_name(mut self, name: &str) -> Case {
        self.dir_name = name.to_string();
        self
    }

    pub fn quiet(mut self) -> Case {
        self.quiet = true;
        self
    }

    pub fn model(mut self, checks: &[(&str, &str)]) -> Case {
        self.expect = Expect::Model(pairs(checks));
        self
    }

    /// One more model check: the JSON value at `pointer`.
    pub fn at(mut self, pointer: &str, json: impl AsRef<str>) -> Case {
        let item = (pointer.to_string(), json.as_ref().to_string());
        match &mut self.expect {
            Expect::Model(c) | Expect::Warns(_, c) => c.push(item),
            Expect::Fails(_) => self.expect = Expect::Model(vec![item]),
        }
        self
    }

    /// One more model check: the text at `pointer`.
    pub fn text(self, pointer: &str, value: &str) -> Case {
        self.at(pointer, js(value))
    }

    pub fn warns(mut self, warning: &str, checks: &[(&str, &str)]) -> Case {
        self.expect = Expect::Warns(warning.to_string(), pairs(checks));
        self
    }

    pub fn fails(mut self, error: &str) -> Case {
        self.expect = Expect::Fails(error.to_string());
        self
    }

    /// Loads (whatever the model).
    pub fn loads(self) -> Case {
        self.model(&[])
    }

    pub fn differs(mut self, reason: &str) -> Case {
        self.differs = Some(reason.to_string());
        self
    }

    /// Ok(()) when berth agrees with compose-go on this case, else what differs.
    pub fn run(&self) -> Result<(), String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let work = tmp.path().join(&self.dir_name);
        for (name, text) in &self.files {
            let path = work.join(name);
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new("/"))).map_err(|e| e.to_string())?;
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
        }
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let opts = LoadOptions {
            files: self.stack.iter().map(|f| work.join(f)).collect(),
            project_name: self.project.clone(),
            project_dir: self.project_dir.as_ref().map(PathBuf::from),
            env_files: self.env_files.iter().map(PathBuf::from).collect(),
            profiles: self.profiles.clone(),
            enabled_services: self.services.clone(),
            working_dir: work.clone(),
            environ: self.env.iter().cloned().collect(),
            no_interpolate: self.no_interpolate,
            no_normalize: false,
            no_consistency: false,
            no_env_resolution: false,
            no_path_resolution: false,
            compatibility: false,
        };
        // As `berth config` does: a dependency cycle is an error, and the model printed holds
        // the selected services and what they need.
        let result = load(&opts).map_err(|e| message(&e)).and_then(|mut l| {
            ServiceGraph::new(&l.stack).map_err(|e| e.to_string())?;
            select_services(&mut l.stack, &self.services);
            Ok(l)
        });
        let (checks, want_warning, loaded) = match (&self.expect, result) {
            (Expect::Fails(want), Err(msg)) => {
                return msg.contains(want.as_str()).then_some(()).ok_or(format!("error `{msg}` lacks `{want}`"));
            }
            (Expect::Fails(want), Ok(_)) => return Err(format!("loaded, but compose-go fails with `{want}`")),
            (_, Err(msg)) => return Err(format!("failed: {msg}")),
            (Expect::Model(checks), Ok(l)) => (checks, None, l),
            (Expect::Warns(w, checks), Ok(l)) => (checks, Some(w), l),
        };
        let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        if let Some(w) = want_warning {
            if !warnings.iter().any(|m| m.contains(w.as_str())) {
                return Err(format!("no warning containing `{w}` in {warnings:?}"));
            }
        }
        if self.quiet && !warnings.is_empty() {
            return Err(format!("compose-go loads this without a warning; berth warns {warnings:?}"));
        }
        let model = serde_json::to_value(&loaded.stack).map_err(|e| e.to_string())?;
        let dir = work.display().to_string();
        let tmp_dir = tmp.path().display().to_string();
        for (pointer, want) in checks {
            check(&model, pointer, &want.replace("<dir>", &dir).replace("<tmp>", &tmp_dir))?;
        }
        Ok(())
    }
}

fn check(model: &serde_json::Value, pointer: &str, want: &str) -> Result<(), String> {
    let got = model.pointer(pointer);
    if want == ABSENT {
        return match got {
            None => Ok(()),
            Some(v) => Err(format!("{pointer}: got {v}, compose-go has no such entry")),
        };
    }
    let got = got.cloned().unwrap_or(serde_json::Value::Null);
    let want: serde_json::Value = serde_json::from_str(want).map_err(|e| format!("bad case JSON {want}: {e}"))?;
    let zero = is_empty(&want) || want == serde_json::Value::Bool(false);
    if got != want && !(zero && is_empty(&got)) {
        return Err(format!("{pointer}: got {got}, compose-go has {want}"));
    }
    Ok(())
}

/// Absent, empty lists and empty maps all read as compose-go's zero value.
fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn message(e: &LoadError) -> String {
    e.to_string()
}

/// A JSON string literal (for model checks of text values).
pub fn js(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Every area's cases, with the area's name.
pub fn all() -> Vec<(&'static str, Vec<Case>)> {
    vec![
        ("template", template::cases()),
        ("dotenv", dotenv::cases()),
        ("loader", loader::cases()),
        ("attributes", attributes::cases()),
        ("merge", merge::cases()),
        ("extends/include", extends_include::cases()),
        ("validate", validate::cases()),
        ("types/format", types::cases()),
        ("normalize", normalize::cases()),
    ]
}
