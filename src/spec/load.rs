//! The whole loading pipeline, from stack files on disk to a validated [`Stack`]:
//!
//! 1. [`project`]: which files, which project directory, which variables (`.env`, process env).
//! 2. Per file: [`yaml::parse`] → [`interpolate`] → [`schema::validate_file`] (each `---` document; merged in order) →
//!    [`canonical::canonicalize`] → [`include`] → [`extends`].
//! 3. [`merge`] the files in order (`!reset`/`!override` honoured); required keys are checked
//!    on the merged tree ([`schema::validate_required`]), as compose-go validates merged files.
//!    The project name is found before step 2, so `${COMPOSE_PROJECT_NAME}` resolves to it.
//! 4. [`convert::stack`] → [`semantic::check`] → profiles.
//!
//! Every error of every file is collected into one [`Diagnostics`]: a broken file does not
//! hide the problems of the next one. Only a file that cannot be read or parsed at all stops
//! the later, cross-file stages (they would only report noise). Loading is pure apart from
//! reading files (and stdin for `-f -`): no kernel, no network.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::fsutil;

use super::diag::{did_you_mean, Diagnostic, Diagnostics, Pos};
use super::model::Stack;
use super::project::{self, ProjectError, STDIN};
use super::yaml::{self, Node};
use super::{canonical, cast, consistency, convert, extends, include, interpolate, merge, normalize, schema, semantic};

/// What to load and with which settings (the CLI builds it from its global options).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f` files in merge order (relative to `working_dir`; `-` is stdin). Empty: discover.
    pub files: Vec<PathBuf>,
    /// `-p`: must be a valid name when given.
    pub project_name: Option<String>,
    /// `--project-directory` (default: the first file's directory).
    pub project_dir: Option<PathBuf>,
    /// `--env-file` (repeatable; default `.env` in the project directory).
    pub env_files: Vec<PathBuf>,
    /// `--profile` (repeatable; `*` enables every profile).
    pub profiles: Vec<String>,
    /// Services named on the command line: their profiles are enabled too, as in Compose.
    pub enabled_services: Vec<String>,
    /// The directory relative paths on the command line resolve against.
    pub working_dir: PathBuf,
    /// The process environment (it wins over `.env`).
    pub environ: IndexMap<String, String>,
    /// Skip interpolation (`berth config --no-interpolate`).
    pub no_interpolate: bool,
    /// Skip what Compose's normalization adds (`berth config --no-normalize`): see
    /// [`normalize::implicit_default_network`].
    pub no_normalize: bool,
    /// Skip the consistency checks ([`consistency::check`], compose-go's checkConsistency):
    /// `berth config --no-consistency`, whose output may then be an invalid stack.
    pub no_consistency: bool,
    /// Do not merge the `env_file:` contents into each service's `environment`
    /// (`berth config --no-env-resolution`).
    pub no_env_resolution: bool,
    /// Keep relative paths as written (`berth config --no-path-resolution`); those of included
    /// and extended files become relative to the project directory, as compose-go has them.
    pub no_path_resolution: bool,
    /// Names joined with `_` (`--compatibility`): [`Stack::compatibility`].
    pub compatibility: bool,
}

/// A loaded stack and the warnings met on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub stack: Stack,
    pub warnings: Vec<Diagnostic>,
    /// Every profile named by any service of the files (enabled or not), sorted.
    pub profiles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// All problems of all files (errors and warnings), sorted by position.
    #[error("{0}")]
    Invalid(Diagnostics),
    #[error(
        "no stack file found in {} (or its parents): looked for compose.yaml, compose.yml, \
         docker-compose.yaml, docker-compose.yml; use -f FILE",
        dir.display()
    )]
    NoStackFile { dir: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<ProjectError> for LoadError {
    fn from(e: ProjectError) -> Self {
        match e {
            ProjectError::NoStackFile { dir } => LoadError::NoStackFile { dir },
            ProjectError::Io { path, source } => LoadError::Io { path, source },
            ProjectError::Invalid(d) => LoadError::Invalid(d),
        }
    }
}

pub type Result<T, E = LoadError> = std::result::Result<T, E>;

type Vars = IndexMap<String, String>;

/// Include nesting deeper than this is certainly a mistake (or a cycle through symlinks).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Largest stack file read (top-level, included or extended; stdin too). The biggest real
/// Compose files are a few hundred KiB; 32 MiB leaves room for generated ones while keeping
/// the parsed tree (several times the text) well within memory. Reads stop at the limit, so
/// `-f /dev/zero` or an endless pipe fails too.
pub const MAX_STACK_FILE: u64 = 32 << 20;

/// Load, validate and normalize the stack described by `opts`.
pub fn load(opts: &LoadOptions) -> Result<Loaded> {
    let set = project::resolve_files(&opts.files, opts.project_dir.as_deref(), &opts.working_dir)?;
    let project_dir = project::project_dir(opts.project_dir.as_deref(), &set.files, &opts.working_dir);
    let mut diags = Diagnostics { items: set.warnings };
    let mut vars = project::environment(&opts.env_files, &project_dir, &opts.working_dir, &opts.environ, &mut diags)?;
    let texts = set.files.iter().map(|f| read_top(f)).collect::<Result<Vec<String>>>()?;
    // The name comes first: `${COMPOSE_PROJECT_NAME}` in the files resolves to it, as in
    // compose-go (loader.go projectName).
    let name = name(opts, &vars, &texts, &project_dir, &mut diags);
    vars.insert("COMPOSE_PROJECT_NAME".to_string(), name.clone());
    let mut loader = Loader {
        opts,
        include_stack: Vec::new(),
        extended: HashMap::new(),
        extended_diags: HashMap::new(),
        extended_used: HashSet::new(),
    };
    let mut trees = Vec::new();
    for (file, text) in set.files.iter().zip(&texts) {
        let path = loader.key_path(file);
        // On the include stack too, so a file including itself is a cycle at once.
        loader.include_stack.push(path.clone());
        trees.push(loader.file(text, &path, &project_dir, &vars, &mut diags));
        loader.include_stack.pop();
    }
    let trees: Vec<Node> = trees.into_iter().flatten().collect();
    if trees.len() < set.files.len() {
        return Err(invalid(diags));
    }
    let mut root = trees.into_iter().reduce(|mut a, b| {
        merge::merge(&mut a, b);
        a
    });
    let Some(mut root) = root.take() else { return Err(invalid(diags)) };
    merge::strip_tags(&mut root);
    merge::enforce_unicity(&mut root);
    if root.as_map().is_none_or(|m| m.is_empty()) {
        let names: Vec<String> = set.files.iter().map(|f| loader.display(f)).collect();
        // compose-go: "empty compose file" (unless the cause is an error already reported).
        if !diags.has_errors() {
            diags.error(None, "", format!("empty stack file: {} holds no configuration", names.join(", ")));
        }
        return Err(invalid(diags));
    }
    // Required keys on the merged files, as compose-go validates them (an override may give
    // part of an entry whose other keys an earlier file set).
    schema::validate_required(&root, &mut diags);
    let before = diags.items.len();
    let lookup = |k: &str| vars.get(k).cloned();
    let ctx = convert::ConvertContext {
        project_name: name.clone(),
        project_dir: project_dir.clone(),
        lookup: &lookup,
        read_env_files: !opts.no_env_resolution,
        resolve_paths: !opts.no_path_resolution,
    };
    let mut stack = convert::stack(&root, &ctx, &mut diags);
    stack.name = name;
    stack.compatibility = opts.compatibility;
    stack.project_dir = project_dir;
    stack.files = set.files.clone();
    semantic::check(&stack, &root, &mut diags);
    if !opts.no_consistency {
        consistency::check(&stack, &root, &mut diags);
    }
    if opts.no_normalize {
        normalize::without_implicit_default_network(&mut stack, &root);
    } else {
        normalize::normalize(&mut stack);
    }
    drop_echoes(&mut diags, before);
    drop_unselected(&stack, opts, &mut diags, before);
    let profiles = all_profiles(&stack);
    apply_profiles(&mut stack, &root, &enabled_profiles(opts, &vars), opts, &mut diags);
    if diags.has_errors() {
        return Err(invalid(diags));
    }
    Ok(Loaded { stack, warnings: diags.items, profiles })
}

/// What [`load`] interpolates: the stack files (name and text, in merge order) and the
/// variables (the process environment over the env files, and `COMPOSE_PROJECT_NAME`), for
/// `config --variables` and `config --environment`.
pub fn interpolation_inputs(opts: &LoadOptions) -> Result<(Vec<(PathBuf, String)>, Vars)> {
    let set = project::resolve_files(&opts.files, opts.project_dir.as_deref(), &opts.working_dir)?;
    let project_dir = project::project_dir(opts.project_dir.as_deref(), &set.files, &opts.working_dir);
    let mut diags = Diagnostics { items: set.warnings };
    let mut vars = project::environment(&opts.env_files, &project_dir, &opts.working_dir, &opts.environ, &mut diags)?;
    let texts = set.files.iter().map(|f| read_top(f)).collect::<Result<Vec<String>>>()?;
    let name = name(opts, &vars, &texts, &project_dir, &mut diags);
    vars.insert("COMPOSE_PROJECT_NAME".to_string(), name);
    Ok((set.files.into_iter().zip(texts).collect(), vars))
}

fn invalid(mut diags: Diagnostics) -> LoadError {
    diags.sort();
    diags.items.dedup();
    LoadError::Invalid(diags)
}

/// Read a file named with `-f` (or discovered); `-` is stdin.
fn read_top(file: &Path) -> Result<String> {
    if file.as_os_str() == STDIN {
        return fsutil::read_reader_string_limited(std::io::stdin().lock(), MAX_STACK_FILE, "stack file")
            .map_err(|source| LoadError::Io { path: PathBuf::from("stdin"), source });
    }
    fsutil::read_string_limited(file, MAX_STACK_FILE, "stack file")
        .map_err(|source| LoadError::Io { path: file.to_path_buf(), source })
}

/// The project name; an invalid explicit one is an error. A top-level `name:` is taken from
/// the last document of the last file that sets it, interpolated, before anything else is
/// loaded (a file that does not parse is reported later).
fn name(opts: &LoadOptions, vars: &Vars, texts: &[String], dir: &Path, diags: &mut Diagnostics) -> String {
    let mut top_name: Option<String> = None;
    for text in texts.iter().filter(|t| t.contains("name")) {
        let docs = yaml::parse_all(text, "").unwrap_or_default();
        let mut names = docs.iter().filter_map(|d| d.as_map()?.get("name")?.scalar_string());
        if let Some(n) = names.rfind(|n| !n.is_empty()) {
            top_name = Some(n);
        }
    }
    if let (Some(n), false) = (top_name.as_mut(), opts.no_interpolate) {
        let lookup = |k: &str| vars.get(k).cloned();
        let mut ignored = Diagnostics::new(); // reported when the file itself is interpolated
        *n = interpolate::interpolate_str(n, &lookup, None, "name", &mut ignored);
    }
    match project::project_name(opts.project_name.as_deref(), vars, top_name.as_deref(), dir) {
        Ok(n) => n,
        Err(msg) => {
            diags.error(None, "", msg);
            String::from("invalid")
        }
    }
}

/// When a file already has errors, convert and semantic checks may report the same broken
/// node again in other words (an unknown key is also "not honoured"); keep only the first
/// report of each position that already has an error.
fn drop_echoes(diags: &mut Diagnostics, before: usize) {
    let seen: HashSet<Pos> =
        diags.items[..before].iter().filter(|d| d.is_error()).filter_map(|d| d.pos.clone()).collect();
    if seen.is_empty() {
        return;
    }
    // One pass (not a remove per echo: a file with thousands of errors would make it quadratic).
    let mut i = 0;
    diags.items.retain(|d| {
        i += 1;
        i <= before || !d.pos.as_ref().is_some_and(|p| seen.contains(p))
    });
}

/// Reads and prepares files; remembers what it is including (cycle detection) and the files
/// read for `extends` (each read and reported once).
struct Loader<'o> {
    opts: &'o LoadOptions,
    include_stack: Vec<PathBuf>,
    extended: HashMap<PathBuf, Option<Node>>,
    /// The problems found in each extended file, reported per service when it is used.
    extended_diags: HashMap<PathBuf, Vec<Diagnostic>>,
    /// (file, service) bases whose problems were reported.
    extended_used: HashSet<(PathBuf, String)>,
}

impl Loader<'_> {
    /// The path used as the file's identity: stdin gets a name in the working directory.
    fn key_path(&self, file: &Path) -> PathBuf {
        if file.as_os_str() == STDIN {
            self.opts.working_dir.join("stdin")
        } else {
            file.to_path_buf()
        }
    }

    /// How a file is named in diagnostics: relative to the working directory when under it.
    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.opts.working_dir).unwrap_or(path).display().to_string()
    }

    /// One file through every per-file stage, its includes and extends resolved. `workdir` is
    /// the directory its `include` and `extends.file` paths are relative to: the project
    /// directory (an included file: its include's project directory), as compose-go resolves
    /// them through its resource loader.
    fn file(&mut self, text: &str, path: &Path, workdir: &Path, vars: &Vars, diags: &mut Diagnostics) -> Option<Node> {
        let mut tree = self.stage(text, path, vars, diags)?;
        include::apply(&mut tree, workdir, &mut IncludeSource { loader: self, vars }, diags);
        extends::resolve(&mut tree, path, workdir, &mut ExtendsSource { loader: self, vars }, diags);
        Some(tree)
    }

    /// parse → interpolate → validate → canonicalize. None when the YAML is unreadable.
    /// Several `---` documents are merged in order, as compose-go reads them; empty documents
    /// are skipped, and a file with none gives an empty mapping.
    fn stage(&mut self, text: &str, path: &Path, vars: &Vars, diags: &mut Diagnostics) -> Option<Node> {
        let docs = match yaml::parse_all(text, &self.display(path)) {
            Ok(t) => t,
            Err(d) => {
                diags.extend(d);
                return None;
            }
        };
        let mut merged: Option<Node> = None;
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            let tree = self.stage_doc(doc, vars, diags);
            match merged.as_mut() {
                Some(m) => merge::merge(m, tree),
                None => merged = Some(tree),
            }
        }
        let file = Arc::from(self.display(path));
        Some(merged.unwrap_or_else(|| Node::new(yaml::Value::Map(yaml::Map::default()), Pos::new(file, 1, 1))))
    }

    fn stage_doc(&mut self, mut tree: Node, vars: &Vars, diags: &mut Diagnostics) -> Node {
        if !self.opts.no_interpolate {
            let lookup = |k: &str| vars.get(k).cloned();
            interpolate::interpolate(&mut tree, &lookup, diags);
            cast::cast(&mut tree);
        }
        let resets = merge::take_resets(&mut tree);
        schema::validate_file(&tree, diags);
        canonical::canonicalize(&mut tree, diags);
        merge::enforce_unicity(&mut tree);
        merge::put_resets(&mut tree, resets);
        tree
    }

    fn read(&self, path: &Path, at: &Pos, diags: &mut Diagnostics) -> Option<String> {
        match fsutil::read_string_limited(path, MAX_STACK_FILE, "stack file") {
            Ok(t) => Some(t),
            Err(e) => {
                diags.error(Some(at), "", format!("cannot read {}: {e}", path.display()));
                None
            }
        }
    }

    /// The variables of an included project: the includer's variables (its process
    /// environment and `.env` included), and the include's env files for the variables those
    /// leave unset (compose-go include.go: `environment.Clone().Merge(envFromFile)`).
    fn include_vars(&self, req: &include::Request, parent: &Vars, diags: &mut Diagnostics) -> Vars {
        let files = if req.env_files.is_empty() {
            vec![req.project_dir.join(".env")].into_iter().filter(|p| p.is_file()).collect()
        } else {
            req.env_files.clone()
        };
        let mut from_files = Vars::new();
        for f in files {
            match project::read_env_file(&f, parent, std::mem::take(&mut from_files), diags) {
                Ok(v) => from_files = v,
                Err(ProjectError::Invalid(d)) => diags.extend(d),
                Err(e) => diags.error(Some(&req.pos), "", e.to_string()),
            }
        }
        let mut vars = parent.clone();
        for (k, v) in from_files {
            vars.entry(k).or_insert(v);
        }
        vars
    }
}

struct ExtendsSource<'l, 'o> {
    loader: &'l mut Loader<'o>,
    vars: &'l Vars,
}

impl extends::Source for ExtendsSource<'_, '_> {
    fn tree(&mut self, path: &Path, at: &Pos, diags: &mut Diagnostics) -> Option<Node> {
        if let Some(done) = self.loader.extended.get(path) {
            return done.clone();
        }
        // Checked only where used (see `used`); a file that cannot be read or parsed is
        // reported at once.
        let mut own = Diagnostics::new();
        let tree = self.loader.read(path, at, diags).and_then(|t| self.loader.stage(&t, path, self.vars, &mut own));
        if tree.is_none() {
            diags.extend(own);
        } else {
            self.loader.extended_diags.insert(path.to_path_buf(), own.items);
        }
        self.loader.extended.insert(path.to_path_buf(), tree.clone());
        tree
    }

    fn keep_relative_paths(&self) -> bool {
        self.loader.opts.no_path_resolution
    }

    fn used(&mut self, path: &Path, service: &str, diags: &mut Diagnostics) {
        if !self.loader.extended_used.insert((path.to_path_buf(), service.to_string())) {
            return;
        }
        let prefix = format!("services.{service}");
        let own = self.loader.extended_diags.get(path).map(Vec::as_slice).unwrap_or_default();
        for d in own {
            let rest = d.path.strip_prefix(&prefix);
            let in_service = rest.is_some_and(|r| r.is_empty() || r.starts_with(['.', '[']));
            // An empty base (`nil:`) is fine: compose-go validates only the merged result.
            let empty_base = rest == Some("") && d.message.ends_with("found null");
            if (in_service || d.path == "services") && !empty_base {
                diags.push(d.clone());
            }
        }
    }
}

struct IncludeSource<'l, 'o> {
    loader: &'l mut Loader<'o>,
    vars: &'l Vars,
}

impl include::Source for IncludeSource<'_, '_> {
    fn include(&mut self, req: &include::Request, diags: &mut Diagnostics) -> Option<Node> {
        let stack = &self.loader.include_stack;
        if let Some(again) = req.paths.iter().find(|p| stack.contains(p)) {
            let chain: Vec<String> = stack.iter().chain([again]).map(|p| p.display().to_string()).collect();
            diags.error(Some(&req.pos), "include", format!("include cycle: {}", chain.join(" -> ")));
            return None;
        }
        if stack.len() >= MAX_INCLUDE_DEPTH {
            diags.error(Some(&req.pos), "include", format!("includes nested deeper than {MAX_INCLUDE_DEPTH} levels"));
            return None;
        }
        let vars = self.loader.include_vars(req, self.vars, diags);
        let mut merged: Option<Node> = None;
        for path in &req.paths {
            let text = self.loader.read(path, &req.pos, diags)?;
            self.loader.include_stack.push(path.clone());
            let tree = self.loader.file(&text, path, &req.project_dir, &vars, diags);
            self.loader.include_stack.pop();
            let mut tree = tree?;
            // `config --no-path-resolution`: relative to the including file, as compose-go.
            let to = if self.loader.opts.no_path_resolution {
                super::relpath::relative(&req.project_dir, &req.from_dir)
            } else {
                req.project_dir.clone()
            };
            absolutize_tree(&mut tree, &to);
            match merged.as_mut() {
                Some(m) => merge::merge(m, tree),
                None => merged = Some(tree),
            }
        }
        if let Some(tree) = merged.as_mut() {
            resolve_bare_environment(tree, &vars);
        }
        merged
    }
}

/// `environment: [VAR]` entries (null values) of an included project take their value from
/// that project's variables (its `env_file`s over the includer's), as in Compose; left null
/// when unset, for the usual resolution later.
fn resolve_bare_environment(tree: &mut Node, vars: &Vars) {
    let Some(services) = tree.as_map_mut().and_then(|m| m.get_mut("services")).and_then(Node::as_map_mut) else {
        return;
    };
    for (_, svc) in services.iter_mut() {
        let Some(env) = svc.as_map_mut().and_then(|m| m.get_mut("environment")).and_then(Node::as_map_mut) else {
            continue;
        };
        for (key, value) in env.iter_mut() {
            if let (true, Some(v)) = (value.is_null(), vars.get(&key.name)) {
                value.value = yaml::Value::Str(v.clone());
            }
        }
    }
}

/// Make an included project's relative paths absolute against its own project directory
/// (or, given a relative `dir`, relative to the including file's).
fn absolutize_tree(tree: &mut Node, dir: &Path) {
    let Some(top) = tree.as_map_mut() else { return };
    if let Some(services) = top.get_mut("services").and_then(Node::as_map_mut) {
        for (_, svc) in services.iter_mut() {
            // A build without a context builds in the include's project directory
            // (compose-go sets the default before resolving the included project's paths).
            let build = svc.as_map_mut().and_then(|m| m.get_mut("build")).and_then(Node::as_map_mut);
            if let Some(b) = build.filter(|b| !b.contains_key("context")) {
                let pos = b.iter().next().map(|(k, _)| k.pos.clone()).unwrap_or_else(|| Pos::synthetic("include"));
                b.insert(
                    yaml::Key { name: "context".into(), pos: pos.clone() },
                    Node::new(yaml::Value::Str(".".into()), pos),
                );
            }
            extends::absolutize_service_paths(svc, dir);
        }
    }
    for section in ["configs", "secrets"] {
        let Some(entries) = top.get_mut(section).and_then(Node::as_map_mut) else { continue };
        for (_, obj) in entries.iter_mut() {
            if let Some(file) = obj.as_map_mut().and_then(|o| o.get_mut("file")) {
                if let Some(s) = file.as_str().filter(|s| !s.starts_with('/') && !s.starts_with('~')) {
                    file.value = yaml::Value::Str(super::relpath::join(dir, Path::new(s)).display().to_string());
                }
            }
        }
    }
}

/// Keep only the services named on the command line and the ones they need (`config SERVICE`,
/// as compose-go's `WithSelectedServices`); no names keeps every service.
pub fn select_services(stack: &mut Stack, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let keep = super::deps::with_dependencies(stack, names);
    stack.services.retain(|name, _| keep.contains(name));
}

/// `config SERVICE`, `up SERVICE`: problems that only matter to a service that will run (an
/// env_file that cannot be read, a container_name clash) are not reported for services
/// outside the selection, as docker compose resolves them only for the selected services.
fn drop_unselected(stack: &Stack, opts: &LoadOptions, diags: &mut Diagnostics, from: usize) {
    if opts.enabled_services.is_empty() {
        return;
    }
    let selected = super::deps::with_dependencies(stack, &opts.enabled_services);
    let unselected = |name: &str| stack.services.contains_key(name) && !selected.contains(name);
    let mut i = 0;
    diags.items.retain(|d| {
        i += 1;
        if i <= from {
            return true;
        }
        let Some(rest) = d.path.strip_prefix("services.") else { return true };
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (service, key) = rest.split_at(end);
        if key.starts_with(".env_file") {
            return !unselected(service);
        }
        if key == ".container_name" {
            let other = d.message.split("already used by service `").nth(1).and_then(|t| t.split('`').next());
            return !(unselected(service) || other.is_some_and(unselected));
        }
        true
    });
}

/// COMPOSE_PROFILES from `.env`, as Compose reads it there too.
fn enabled_profiles(opts: &LoadOptions, vars: &Vars) -> Vec<String> {
    if !opts.profiles.is_empty() {
        return opts.profiles.clone();
    }
    let from_env = vars.get("COMPOSE_PROFILES").map(String::as_str).unwrap_or_default();
    from_env.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

fn all_profiles(stack: &Stack) -> Vec<String> {
    let mut all: Vec<String> = stack.services.values().flat_map(|s| s.profiles.iter().cloned()).collect();
    all.sort();
    all.dedup();
    all
}

/// Drop services whose profiles are all disabled. A service with no profile is always active;
/// `*` enables every profile; a service named on the command line enables its own profiles.
/// An active service that requires (`required: true`) a dropped one is an error naming both.
fn apply_profiles(stack: &mut Stack, root: &Node, profiles: &[String], opts: &LoadOptions, diags: &mut Diagnostics) {
    let mut enabled: HashSet<&str> = profiles.iter().map(String::as_str).filter(|p| !p.is_empty()).collect();
    for wanted in &opts.enabled_services {
        match stack.services.get(wanted) {
            Some(svc) => enabled.extend(svc.profiles.iter().map(String::as_str)),
            None => {
                let mut d = Diagnostic::error(None, "", format!("no such service: `{wanted}`"));
                if let Some(s) = did_you_mean(wanted, stack.services.keys().map(String::as_str)) {
                    d = d.with_hint(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
        }
    }
    let all = enabled.contains("*");
    let inactive: HashSet<String> = stack
        .services
        .iter()
        .filter(|(_, s)| !(s.profiles.is_empty() || all || s.profiles.iter().any(|p| enabled.contains(p.as_str()))))
        .map(|(n, _)| n.clone())
        .collect();
    let mut problems = Vec::new();
    for (name, svc) in stack.services.iter_mut().filter(|(n, _)| !inactive.contains(*n)) {
        svc.depends_on.retain(|dep, d| {
            if inactive.contains(dep) && d.required {
                problems.push((name.clone(), dep.clone()));
            }
            !inactive.contains(dep)
        });
    }
    for (name, dep) in problems {
        let profiles = stack.services.get(&dep).map(|s| s.profiles.join(", ")).unwrap_or_default();
        let pos = node_at(root, &["services", &name, "depends_on", &dep]).map(|n| n.pos.clone());
        let first = stack.services.get(&dep).and_then(|s| s.profiles.first()).cloned().unwrap_or_default();
        diags.push(
            Diagnostic::error(
                pos.as_ref(),
                format!("services.{name}.depends_on"),
                format!("service `{name}` depends on `{dep}`, which is not enabled (its profiles: {profiles})"),
            )
            .with_hint(format!("enable it with --profile {first}, or set `required: false`")),
        );
    }
    stack.services.retain(|n, _| !inactive.contains(n));
}

/// The node at a key path, for positions of diagnostics found on the typed model.
fn node_at<'a>(root: &'a Node, path: &[&str]) -> Option<&'a Node> {
    path.iter().try_fold(root, |node, key| node.as_map()?.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    fn opts(dir: &Path) -> LoadOptions {
        LoadOptions { working_dir: dir.to_path_buf(), ..LoadOptions::default() }
    }

    fn messages(err: LoadError) -> Vec<String> {
        match err {
            LoadError::Invalid(d) => d.items.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }

    #[test]
    fn loads_merges_and_names() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            &[
                ("compose.yaml", "name: demo\nservices:\n  a: {image: x}\n"),
                ("compose.override.yaml", "services:\n  a: {image: y}\n"),
            ],
        );
        let loaded = load(&opts(tmp.path())).unwrap();
        assert_eq!(loaded.stack.name, "demo");
        assert_eq!(loaded.stack.services["a"].image.as_deref(), Some("y"));
        assert_eq!(loaded.stack.files.len(), 2);
    }

    #[test]
    fn process_env_wins_over_dot_env() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), &[("compose.yaml", "services:\n  a: {image: \"x:${TAG}\"}\n"), (".env", "TAG=fromfile\n")]);
        let mut o = opts(tmp.path());
        assert_eq!(load(&o).unwrap().stack.services["a"].image.as_deref(), Some("x:fromfile"));
        o.environ.insert("TAG".into(), "fromenv".into());
        assert_eq!(load(&o).unwrap().stack.services["a"].image.as_deref(), Some("x:fromenv"));
    }

    #[test]
    fn profiles_filter_and_enabled_services() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            &[(
                "compose.yaml",
                "services:\n  a: {image: x}\n  b: {image: x, profiles: [p]}\n  c: {image: x, profiles: [q]}\n",
            )],
        );
        let mut o = opts(tmp.path());
        let names = |o: &LoadOptions| load(o).unwrap().stack.services.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&o), ["a"]);
        o.enabled_services = vec!["b".into()];
        assert_eq!(names(&o), ["a", "b"]);
        o.enabled_services.clear();
        o.profiles = vec!["*".into()];
        assert_eq!(names(&o), ["a", "b", "c"]);
        assert_eq!(load(&o).unwrap().profiles, ["p", "q"]);
        o.profiles.clear();
        write(tmp.path(), &[(".env", "COMPOSE_PROFILES=q, p\n")]);
        assert_eq!(names(&o), ["a", "b", "c"]);
        std::fs::remove_file(tmp.path().join(".env")).unwrap();
        o.profiles.clear();
        o.enabled_services = vec!["bb".into()];
        assert_eq!(messages(load(&o).unwrap_err()), ["no such service: `bb` (did you mean `b`?)"]);
    }

    #[test]
    fn include_cycle_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            &[
                ("compose.yaml", "include: [sub/x.yaml]\nservices: {}\n"),
                ("sub/x.yaml", "include: [../compose.yaml]\n"),
            ],
        );
        let msgs = messages(load(&opts(tmp.path())).unwrap_err());
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].starts_with("sub/x.yaml:1:"), "{msgs:?}");
        assert!(msgs[0].contains("include cycle:") && msgs[0].ends_with("compose.yaml"), "{msgs:?}");
    }

    #[test]
    fn every_file_is_checked_before_failing() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), &[("a.yaml", "services: [\n"), ("b.yaml", "services:\n  a: {imgae: x}\n")]);
        let mut o = opts(tmp.path());
        o.files = vec!["a.yaml".into(), "b.yaml".into()];
        let msgs = messages(load(&o).unwrap_err());
        assert!(msgs.iter().any(|m| m.starts_with("a.yaml:")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.starts_with("b.yaml:2:")), "{msgs:?}");
    }

    #[test]
    fn no_stack_file_and_unreadable_file() {
        let tmp = tempfile::tempdir().unwrap();
        let mut o = opts(tmp.path());
        o.files = vec!["missing.yaml".into()];
        assert!(matches!(load(&o), Err(LoadError::Io { .. })));
    }

    #[test]
    fn echoes_of_an_error_position_are_dropped() {
        let pos = Pos::new("f".into(), 1, 1);
        let mut d = Diagnostics::new();
        d.error(Some(&pos), "", "first");
        d.warning(Some(&pos), "", "echo");
        d.error(Some(&Pos::new("f".into(), 2, 1)), "", "other");
        drop_echoes(&mut d, 1);
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.items[1].message, "other");
    }

    #[test]
    fn oversized_stack_and_env_files_are_refused_naming_them() {
        let tmp = tempfile::tempdir().unwrap();
        let big = tmp.path().join("big.yaml");
        // Sparse files: the size check needs no data.
        std::fs::File::create(&big).unwrap().set_len(MAX_STACK_FILE + 1).unwrap();
        let mut o = opts(tmp.path());
        o.files = vec!["big.yaml".into()];
        let msg = messages(load(&o).unwrap_err()).join("\n");
        assert!(msg.contains("big.yaml: larger than 32 MiB (stack files are limited to that size)"), "{msg}");
        write(tmp.path(), &[("compose.yaml", "services:\n  a: {image: x}\n"), ("inc.yaml", "include: [big.yaml]\n")]);
        o.files = vec!["inc.yaml".into()];
        let msg = messages(load(&o).unwrap_err()).join("\n");
        assert!(msg.starts_with("inc.yaml:1:") && msg.contains("larger than 32 MiB"), "{msg}");
        std::fs::File::create(tmp.path().join(".env")).unwrap().set_len(16 << 20 | 1).unwrap();
        o.files.clear();
        let msg = messages(load(&o).unwrap_err()).join("\n");
        assert!(msg.contains(".env: larger than 16 MiB (env files are limited to that size)"), "{msg}");
    }

    #[test]
    fn billion_laughs_fails_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let text = format!("{}services:\n  a: {{image: x}}\n", yaml::tests::billion_laughs());
        write(tmp.path(), &[("compose.yaml", &text)]);
        let msgs = messages(load(&opts(tmp.path())).unwrap_err());
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].starts_with("compose.yaml:") && msgs[0].contains("excessive aliasing"), "{msgs:?}");
    }
}
