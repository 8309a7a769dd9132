//! Running a parsed Dockerfile: the stages the target needs, in order; each instruction turns
//! the stage's [`ImageState`] into the next one (metadata instructions directly, RUN and
//! COPY/ADD through the cache, see `steps`); the target stage is committed to the store.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use super::cache::Cache;
use super::commit::commit;
use super::error::{io_err, BuildError, Loc, Result};
use super::ignore::Ignore;
use super::instruction::{parse, Dockerfile, Form, HealthSpec, Instruction, Kind, Stage};
use super::interrupt;
use super::state::ImageState;
use super::words;
use super::{BuildLog, Outcome, Request};
use crate::image::{ImageError, ImageStore};
use crate::paths::Roots;
use crate::runtime::Runtime;

/// Build `req` into the image store under `roots`.
pub fn build(roots: &Roots, req: &Request, log: &dyn BuildLog) -> Result<Outcome> {
    let (text, file, path) = dockerfile_text(req)?;
    let df = parse(&text, &file)?;
    let store = ImageStore::open(roots)?;
    // Shared gc lock for the whole build: an `image rm` elsewhere must not collect the layers
    // this build has stored but not tagged yet.
    let _gc = store.layout.gc_lock(false)?;
    let _signals = interrupt::SignalGuard::install();
    let mut rt = Runtime::new(roots);
    if let Some(h) = &req.helper {
        rt = rt.with_helper(h);
    }
    interrupt::sweep_stale(roots, &rt, &store.layout.tmp_dir());
    let mut ex = Executor {
        store: &store,
        rt,
        cache: Cache::new(roots, !req.no_cache),
        df: &df,
        req,
        log,
        ignore: super::ignore::load(&req.context, path.as_deref())?,
        context: vec![req.context.clone()],
        built: vec![None; df.stages.len()],
        globals: BTreeMap::new(),
        used_args: HashSet::new(),
        steps: 0,
        cached: 0,
    };
    ex.global_args()?;
    let target = match &req.target {
        Some(t) => {
            df.stage_index(t).ok_or_else(|| BuildError::Invalid(format!("target stage `{t}` not found in {file}")))?
        }
        None => df.stages.len() - 1,
    };
    for i in ex.needed(target) {
        ex.stage(i)?;
    }
    let unused: Vec<&String> = req.args.keys().filter(|k| !ex.used_args.contains(*k)).collect();
    if !unused.is_empty() {
        log.warn(&format!(
            "build args not consumed by any ARG: {}",
            unused.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let Some((mut state, _)) = ex.built[target].take() else {
        return Err(BuildError::Invalid(format!("stage {target} was not built")));
    };
    state.config.labels.extend(req.labels.clone());
    let id = commit(&store, &state, &req.tags)?;
    Ok(Outcome { id, tags: req.tags.clone(), steps: ex.steps, cached: ex.cached })
}

/// `build --check`: read and parse `req`'s Dockerfile and find its target stage, building
/// nothing: what a build would stop at before its first step (berth's own rules: an
/// instruction or flag its builder does not take is an error here too). Returns the number of
/// stages.
pub fn check(req: &Request) -> Result<usize> {
    let (text, file, _) = dockerfile_text(req)?;
    let df = parse(&text, &file)?;
    if let Some(t) = &req.target {
        df.stage_index(t).ok_or_else(|| BuildError::Invalid(format!("target stage `{t}` not found in {file}")))?;
    }
    Ok(df.stages.len())
}

/// The Dockerfile's text, the name errors use for it, and its path (None: inline).
fn dockerfile_text(req: &Request) -> Result<(String, String, Option<PathBuf>)> {
    if let Some(inline) = &req.dockerfile_inline {
        return Ok((inline.clone(), "Dockerfile (inline)".into(), None));
    }
    let rel = req.dockerfile.clone().unwrap_or_else(|| PathBuf::from("Dockerfile"));
    let path = req.dockerfile_path().unwrap_or_default();
    if !req.context.is_dir() {
        return Err(BuildError::Invalid(format!("build context {} is not a directory", req.context.display())));
    }
    let text = super::dockerfile::read(&path).map_err(io_err(&path))?;
    Ok((text, rel.display().to_string(), Some(path)))
}

pub(super) struct Executor<'a> {
    pub store: &'a ImageStore,
    pub rt: Runtime,
    pub cache: Cache,
    pub df: &'a Dockerfile,
    pub req: &'a Request,
    pub log: &'a dyn BuildLog,
    pub ignore: Ignore,
    pub context: Vec<PathBuf>,
    /// Each built stage's final state and cache key.
    pub built: Vec<Option<(ImageState, String)>>,
    /// ARGs declared before the first FROM, with their values.
    globals: BTreeMap<String, Option<String>>,
    used_args: HashSet<String>,
    pub steps: usize,
    pub cached: usize,
}

/// One stage in progress.
pub(super) struct StageRun {
    pub index: usize,
    pub label: String,
    pub state: ImageState,
    pub key: String,
    /// ARGs declared in this stage.
    pub args: BTreeMap<String, Option<String>>,
    /// CMD set in this stage (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
}

impl StageRun {
    /// A variable as the stage's instructions see it: ENV wins over ARG.
    pub fn var(&self, name: &str) -> Option<String> {
        self.state.env(name).or_else(|| self.args.get(name).cloned().flatten())
    }

    /// ARG values in effect that ENV does not override (RUN sees them in its environment).
    pub fn arg_env(&self) -> Vec<String> {
        self.args
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .filter(|(k, _)| self.state.env(k).is_none())
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }
}

impl Executor<'_> {
    fn global_args(&mut self) -> Result<()> {
        // BuildKit's automatic platform ARGs: in the global scope (FROM may use them); a stage
        // sees them after `ARG TARGETARCH` etc. Builds are always for this machine.
        let (os, arch) = ("linux", super::state::go_arch());
        for (k, v) in [("PLATFORM", format!("{os}/{arch}")), ("OS", os.into()), ("ARCH", arch.into())]
            .into_iter()
            .chain([("VARIANT", String::new())])
        {
            for side in ["BUILD", "TARGET"] {
                self.globals.insert(format!("{side}{k}"), Some(v.clone()));
            }
        }
        for (line, text) in &self.df.global_args {
            let loc = Loc::new(&self.df.file, *line);
            let globals = self.globals.clone();
            let lookup = move |n: &str| globals.get(n).cloned().flatten();
            for (name, default) in
                words::pairs(text, self.df.escape, &lookup).map_err(|e| loc.err(format!("ARG: {e}")))?
            {
                let value = self.arg_value(&name, default);
                self.globals.insert(name, value);
            }
        }
        Ok(())
    }

    fn arg_value(&mut self, name: &str, default: Option<String>) -> Option<String> {
        match self.req.args.get(name) {
            Some(v) => {
                self.used_args.insert(name.to_string());
                Some(v.clone())
            }
            None => default,
        }
    }

    /// The FROM of stage `i`, variables substituted with the global ARGs.
    fn base_of(&self, stage: &Stage) -> Result<String> {
        let lookup = |n: &str| self.globals.get(n).cloned().flatten();
        words::word(&stage.base, self.df.escape, &lookup)
            .map_err(|e| Loc::new(&self.df.file, stage.line).err(format!("FROM: {e}")))
    }

    /// The stages `target` needs (itself, its base stages, COPY --from stages), in order.
    fn needed(&self, target: usize) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if !out.insert(i) {
                continue;
            }
            let st = &self.df.stages[i];
            let mut deps: Vec<String> = self.base_of(st).into_iter().collect();
            deps.extend(st.instructions.iter().filter_map(|ins| match &ins.kind {
                Kind::Copy(c) => c.from.clone(),
                _ => None,
            }));
            todo.extend(deps.iter().filter_map(|d| self.df.stage_index(d)).filter(|j| *j < i));
        }
        out
    }

    fn stage(&mut self, i: usize) -> Result<()> {
        let st = &self.df.stages[i];
        let loc = Loc::new(&self.df.file, st.line);
        let base = self.base_of(st)?;
        let state = if base.eq_ignore_ascii_case("scratch") {
            ImageState::scratch()
        } else if let Some(j) = self.df.stage_index(&base).filter(|j| *j < i) {
            let (s, key) = self.built[j].clone().ok_or_else(|| loc.err(format!("stage `{base}` was not built")))?;
            ImageState { origin: key, ..s }
        } else {
            if self.req.pull {
                self.log.step(&format!("[{}]", i + 1), &format!("pulling {base}"));
                crate::image::registry::pull(self.store, &base, &|_| {})
                    .map_err(|e| loc.err(format!("FROM {base}: --pull: {}", crate::errchain::chain(&e))))?;
            }
            ImageState::from_store(self.store, &base).map_err(|e| match e {
                BuildError::Image(ImageError::NotFound { .. }) => loc.err(format!(
                    "FROM {base}: image not found in the local store; import or pull it first (berth image import)"
                )),
                e => loc.wrap(&format!("FROM {base}"), e),
            })?
        };
        let label = st.name.clone().unwrap_or_else(|| format!("stage-{i}"));
        self.steps += 1;
        self.log.step(&format!("#{}", self.steps), &format!("[{label} 1/{}] {}", st.instructions.len() + 1, st.text));
        let key = state.origin.clone();
        let mut run = StageRun { index: i, label, state, key, args: BTreeMap::new(), cmd_set: false };
        for (n, ins) in st.instructions.iter().enumerate() {
            interrupt::check()?;
            self.steps += 1;
            let prefix = format!("#{}", self.steps);
            self.log.step(&prefix, &format!("[{} {}/{}] {}", run.label, n + 2, st.instructions.len() + 1, ins.text));
            self.instruction(&mut run, ins, &prefix)?;
        }
        self.built[i] = Some((run.state, run.key));
        Ok(())
    }

    fn instruction(&mut self, run: &mut StageRun, ins: &Instruction, prefix: &str) -> Result<()> {
        let loc = Loc::new(&self.df.file, ins.line);
        let esc = self.df.escape;
        match &ins.kind {
            Kind::Run { cmd, network } => return self.run_step(run, ins, cmd, network.as_deref(), prefix),
            Kind::Copy(spec) => return self.copy_step(run, ins, spec, prefix),
            Kind::Arg(text) => {
                let pairs = words::pairs(text, esc, &|n| run.var(n)).map_err(|e| loc.err(e))?;
                for (name, default) in pairs {
                    let default = default.or_else(|| self.globals.get(&name).cloned().flatten());
                    let value = self.arg_value(&name, default);
                    run.key = Cache::key(&run.key, &["ARG", &name, value.as_deref().unwrap_or("\0unset")]);
                    run.args.insert(name, value);
                }
                return Ok(());
            }
            Kind::Workdir(t) => {
                let w = words::word(t, esc, &|n| run.var(n)).map_err(|e| loc.err(e))?;
                run.state.config.working_dir = absolute(&run.state.config.working_dir, &w);
                if self.workdir_layer(run, ins, prefix)? {
                    return Ok(());
                }
            }
            Kind::Ignored(k) => {
                self.log
                    .warn(&format!("{}:{}: {k} is not supported by berth's builder; ignored", self.df.file, ins.line));
                return Ok(());
            }
            kind => apply_config(run, kind, esc, &loc)?,
        }
        let config = serde_json::to_string(&run.state.config).unwrap_or_default();
        run.key = Cache::key(&run.key, &[&ins.text, &config]);
        run.state.record(&ins.text, None, None);
        Ok(())
    }
}

/// `commit -c`: Dockerfile instructions that only change the image config (CMD, ENTRYPOINT,
/// ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK, SHELL), applied to
/// `state` in order, as `docker commit --change` does; any other instruction is an error
/// naming it.
pub fn apply_changes(state: ImageState, changes: &[String]) -> Result<ImageState> {
    let mut run =
        StageRun { index: 0, label: String::new(), state, key: String::new(), args: BTreeMap::new(), cmd_set: false };
    for change in changes {
        let loc = Loc::new("--change", 1);
        let df = super::instruction::parse(&format!("FROM scratch\n{change}\n"), "--change")?;
        let instructions = df.stages.into_iter().flat_map(|s| s.instructions);
        for ins in instructions {
            match &ins.kind {
                Kind::Workdir(t) => {
                    let w = words::word(t, df.escape, &|n| run.var(n)).map_err(|e| loc.err(e))?;
                    run.state.config.working_dir = absolute(&run.state.config.working_dir, &w);
                }
                Kind::Run { .. } | Kind::Copy(_) | Kind::Arg(_) | Kind::Ignored(_) => {
                    return Err(
                        loc.err(format!("`{change}`: only instructions that change the image config can be applied"))
                    );
                }
                kind => apply_config(&mut run, kind, df.escape, &loc)?,
            }
        }
    }
    Ok(run.state)
}

/// The instructions that only change the image config (variables substituted as Docker does).
fn apply_config(run: &mut StageRun, kind: &Kind, esc: char, loc: &Loc) -> Result<()> {
    let word = |run: &StageRun, t: &str| words::word(t, esc, &|n| run.var(n)).map_err(|e| loc.err(e));
    let wordlist = |run: &StageRun, t: &str| words::words(t, esc, &|n| run.var(n)).map_err(|e| loc.err(e));
    let pairs = |run: &StageRun, t: &str| words::pairs(t, esc, &|n| run.var(n)).map_err(|e| loc.err(e));
    match kind {
        // Every pair sees the values from before the instruction (`ENV A=2 B=$A`: B gets the old A).
        Kind::Env(text) => {
            for (k, v) in pairs(run, text)? {
                run.state.set_env(&k, &v.unwrap_or_default());
            }
        }
        Kind::Label(text) => {
            for (k, v) in pairs(run, text)? {
                run.state.config.labels.insert(k, v.unwrap_or_default());
            }
        }
        Kind::User(t) => run.state.config.user = word(run, t)?,
        Kind::StopSignal(t) => {
            let sig = word(run, t)?;
            crate::runtime::stop::parse_signal(&sig).map_err(|e| loc.err(format!("STOPSIGNAL: {e}")))?;
            run.state.config.stop_signal = Some(sig);
        }
        Kind::Expose(t) => {
            for p in wordlist(run, t)? {
                run.state.add_port(&p).map_err(|e| loc.err(e))?;
            }
        }
        Kind::Volume(f) => {
            let paths = match f {
                Form::Exec(v) => v.iter().map(|p| word(run, p)).collect::<Result<Vec<_>>>()?,
                Form::Shell(s) => wordlist(run, s)?,
            };
            for p in paths {
                run.state.add_volume(&p);
            }
        }
        Kind::Cmd(f) => {
            run.state.config.cmd = Some(command(run, f));
            run.cmd_set = true;
        }
        Kind::Entrypoint(f) => {
            run.state.config.entrypoint = Some(command(run, f));
            if !run.cmd_set {
                run.state.config.cmd = None; // Docker: a new ENTRYPOINT drops the base image's CMD
            }
        }
        Kind::Healthcheck(h) => run.state.config.healthcheck = Some(healthcheck_json(h.as_ref())),
        Kind::Shell(v) => run.state.config.shell = Some(v.clone()),
        Kind::Run { .. } | Kind::Copy(_) | Kind::Arg(_) | Kind::Workdir(_) | Kind::Ignored(_) => {}
    }
    Ok(())
}

/// A CMD/ENTRYPOINT as an argv: exec form as is, shell form through the stage's SHELL.
fn command(run: &StageRun, f: &Form) -> Vec<String> {
    match f {
        Form::Exec(v) => v.clone(),
        Form::Shell(s) => run.state.shell().into_iter().chain([s.clone()]).collect(),
    }
}

/// WORKDIR: a relative path continues the current one.
pub(super) fn absolute(current: &str, path: &str) -> String {
    let joined =
        if path.starts_with('/') { path.to_string() } else { format!("{}/{path}", current.trim_end_matches('/')) };
    let mut out: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

fn healthcheck_json(h: Option<&HealthSpec>) -> serde_json::Value {
    let Some(h) = h else { return serde_json::json!({ "Test": ["NONE"] }) };
    let ns = |d: Option<std::time::Duration>| d.map(|d| d.as_nanos() as u64);
    let mut v = serde_json::json!({ "Test": h.test });
    for (k, d) in [
        ("Interval", h.interval),
        ("Timeout", h.timeout),
        ("StartPeriod", h.start_period),
        ("StartInterval", h.start_interval),
    ] {
        if let Some(n) = ns(d) {
            v[k] = n.into();
        }
    }
    if let Some(r) = h.retries {
        v["Retries"] = r.into();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workdir_paths() {
        assert_eq!(absolute("", "app"), "/app");
        assert_eq!(absolute("/app", "sub/../x"), "/app/x");
        assert_eq!(absolute("/app", "/srv"), "/srv");
    }

    #[test]
    fn healthcheck_in_docker_json() {
        let v = healthcheck_json(Some(&HealthSpec {
            test: vec!["CMD".into(), "true".into()],
            interval: Some(std::time::Duration::from_secs(2)),
            timeout: None,
            start_period: None,
            start_interval: None,
            retries: Some(3),
        }));
        assert_eq!(v, serde_json::json!({"Test": ["CMD", "true"], "Interval": 2_000_000_000u64, "Retries": 3}));
        assert_eq!(healthcheck_json(None)["Test"][0], "NONE");
    }
}
