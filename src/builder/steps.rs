//! The steps that make layers, RUN and COPY/ADD, each through the build cache: the key is the
//! previous key plus everything that decides the result; a hit takes the cached state, a miss
//! runs the step, stores its layer and caches the new state.

use std::path::PathBuf;

use super::cache::Cache;
use super::copy::{self, Attrs};
use super::error::{BuildError, Loc, Result};
use super::executor::{absolute, Executor, StageRun};
use super::instruction::{CopySpec, Form, Instruction};
use super::layer::{commit_dir, LayerRef};
use super::runstep::{self, RunSpec};
use super::state::{now, ImageState, DEFAULT_PATH};
use super::tree::Tree;
use super::words;
use super::BuildNetwork;

impl Executor<'_> {
    fn cached(&mut self, run: &mut StageRun, key: String, prefix: &str) -> bool {
        match self.cache.get(self.store, &key) {
            Some(state) => {
                self.log.step(prefix, "CACHED");
                self.cached += 1;
                run.state = ImageState { origin: run.state.origin.clone(), ..state };
                run.key = key;
                true
            }
            None => false,
        }
    }

    fn layer_dirs(&self, state: &ImageState) -> Vec<PathBuf> {
        state.layers.iter().map(|l| l.dir(self.store)).collect()
    }

    pub(super) fn run_step(
        &mut self,
        run: &mut StageRun,
        ins: &Instruction,
        cmd: &Form,
        network: Option<&str>,
        prefix: &str,
    ) -> Result<()> {
        let loc = Loc::new(&self.df.file, ins.line);
        let args = match cmd {
            Form::Exec(v) => v.clone(),
            Form::Shell(s) => run.state.shell().into_iter().chain([s.clone()]).collect(),
        };
        let mut env = run.state.config.env.clone();
        env.extend(run.arg_env());
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.push(DEFAULT_PATH.into());
        }
        // `RUN --network=` over the build's own (parsed and checked by the instruction parser).
        let network = network.and_then(BuildNetwork::parse).unwrap_or(self.req.network);
        let user = Some(run.state.config.user.clone()).filter(|u| !u.is_empty());
        let cwd = Some(run.state.config.working_dir.clone()).filter(|w| !w.is_empty());
        let key = Cache::key(
            &run.key,
            &[
                "RUN",
                &args.join("\0"),
                &env.join("\0"),
                user.as_deref().unwrap_or(""),
                cwd.as_deref().unwrap_or(""),
                network.as_str(),
            ],
        );
        if self.cached(run, key.clone(), prefix) {
            return Ok(());
        }
        if run.state.layers.is_empty() {
            return Err(loc.err("RUN needs a base image with a shell (this stage is FROM scratch with no files)"));
        }
        let memory = self.req.memory;
        let spec = RunSpec { layers: self.layer_dirs(&run.state), args, env, cwd, user, network, memory, prefix };
        let runstep::Finished { container, code, resolution_failed } =
            runstep::run(&self.rt, &spec, self.log).map_err(|e| loc.wrap("RUN", e))?;
        if code != 0 {
            return Err(BuildError::RunFailed {
                file: self.df.file.clone(),
                line: ins.line,
                command: ins.text.clone(),
                code,
                hint: if resolution_failed {
                    format!("\n{}", runstep::resolution_hint(network))
                } else {
                    String::new()
                },
            });
        }
        let layer = commit_dir(self.store, &container.upper()).map_err(|e| loc.wrap("RUN: store the layer", e))?;
        drop(container);
        self.finish(run, ins, layer, key);
        Ok(())
    }

    fn finish(&mut self, run: &mut StageRun, ins: &Instruction, layer: Option<LayerRef>, key: String) {
        run.state.record(&ins.text, layer, Some(now()));
        self.cache.put(&key, &run.state);
        run.key = key;
    }

    pub(super) fn copy_step(
        &mut self,
        run: &mut StageRun,
        ins: &Instruction,
        spec: &CopySpec,
        prefix: &str,
    ) -> Result<()> {
        let loc = Loc::new(&self.df.file, ins.line);
        let what = if spec.add { "ADD" } else { "COPY" };
        let esc = self.df.escape;
        let mut all = match &spec.args {
            Form::Exec(v) => {
                v.iter().map(|w| words::word(w, esc, &|n| run.var(n))).collect::<std::result::Result<Vec<_>, _>>()
            }
            Form::Shell(s) => words::words(s, esc, &|n| run.var(n)),
        }
        .map_err(|e| loc.err(format!("{what}: {e}")))?;
        let dest_raw = all.pop().unwrap_or_default();
        let (src_layers, from_context, from_key) = self.copy_source(run, spec, &loc)?;
        let image_layers = self.layer_dirs(&run.state);
        let image = Tree::new(&image_layers);
        let dest = destination(&image, &run.state.config.working_dir, &dest_raw);
        let ignore = self.ignore.clone();
        let src = if from_context { Tree::with_ignore(&src_layers, &ignore) } else { Tree::new(&src_layers) };
        let plan = copy::plan(&src, &image, &all, &dest, spec.add).map_err(|e| loc.err(format!("{what}: {e}")))?;
        let owner = spec
            .chown
            .as_deref()
            .map(|c| copy::resolve_chown(c, &image))
            .transpose()
            .map_err(|e| loc.err(format!("{what}: {e}")))?;
        let chmod = spec.chmod.as_deref().and_then(|m| u32::from_str_radix(m, 8).ok());
        let hash = if from_context { copy::content_hash(&src, &plan) } else { from_key };
        let key = Cache::key(
            &run.key,
            &[
                what,
                &all.join("\0"),
                &dest,
                &hash,
                spec.chown.as_deref().unwrap_or(""),
                spec.chmod.as_deref().unwrap_or(""),
            ],
        );
        if self.cached(run, key.clone(), prefix) {
            return Ok(());
        }
        let dir = self.store.layout.tmp_path("build-copy");
        let attrs = Attrs { owner, reset_owner: from_context, chmod };
        let result = std::fs::create_dir(&dir)
            .and_then(|_| copy::apply(&src, &image, &plan, attrs, &dir, &self.store.layout.tmp_path("build-add")))
            .map_err(|e| loc.err(format!("{what}: {e}")))
            .and_then(|_| commit_dir(self.store, &dir).map_err(|e| loc.wrap(what, e)));
        let _ = std::fs::remove_dir_all(&dir);
        self.finish(run, ins, result?, key);
        Ok(())
    }

    /// WORKDIR creates its directory when the image lacks it (a layer of its own, through the
    /// cache), with mode 0755 and, as BuildKit (moby/buildkit#1002), owned by the current
    /// USER, else root. Returns false when there is nothing to create.
    pub(super) fn workdir_layer(&mut self, run: &mut StageRun, ins: &Instruction, prefix: &str) -> Result<bool> {
        let loc = Loc::new(&self.df.file, ins.line);
        let image_layers = self.layer_dirs(&run.state);
        let image = Tree::new(&image_layers);
        let path = image.resolve(&run.state.config.working_dir);
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let missing = !segs.is_empty() && image.lookup(&path).is_none();
        if !missing {
            return Ok(false); // exists (a file there is the RUN's problem, as in Docker)
        }
        let user = run.state.config.user.clone();
        let key = Cache::key(&run.key, &["WORKDIR", &path, &user]);
        if self.cached(run, key.clone(), prefix) {
            return Ok(true);
        }
        let owner = if user.is_empty() {
            (0, 0)
        } else {
            copy::resolve_user(&user, &image).map_err(|e| loc.err(format!("WORKDIR: {e}")))?
        };
        let dir = self.store.layout.tmp_path("build-workdir");
        let result = std::fs::create_dir(&dir)
            .and_then(|_| copy::make_dirs(&image, &dir, &segs, owner))
            .map_err(|e| loc.err(format!("WORKDIR: {e}")))
            .and_then(|_| commit_dir(self.store, &dir).map_err(|e| loc.wrap("WORKDIR", e)));
        let _ = std::fs::remove_dir_all(&dir);
        self.finish(run, ins, result?, key);
        Ok(true)
    }

    /// The layers COPY reads from: the context, an earlier stage, or an image; whether it is
    /// the context; and (not the context) a key that identifies the source's content.
    fn copy_source(&self, run: &StageRun, spec: &CopySpec, loc: &Loc) -> Result<(Vec<PathBuf>, bool, String)> {
        let Some(from) = &spec.from else { return Ok((self.context.clone(), true, String::new())) };
        let from = words::word(from, self.df.escape, &|n| run.var(n)).map_err(|e| loc.err(e))?;
        if let Some(j) = self.df.stage_index(&from) {
            if j >= run.index {
                return Err(loc.err(format!("COPY --from={from}: a stage can only copy from an earlier stage")));
            }
            let (state, key) =
                self.built[j].as_ref().ok_or_else(|| loc.err(format!("COPY --from={from}: stage not built")))?;
            return Ok((self.layer_dirs(state), false, key.clone()));
        }
        let state =
            ImageState::from_store(self.store, &from).map_err(|e| loc.wrap(&format!("COPY --from={from}"), e))?;
        Ok((self.layer_dirs(&state), false, state.origin))
    }
}

/// The absolute COPY/ADD destination: relative to WORKDIR, symlinks on the way followed
/// inside the image, and a trailing `/` when the Dockerfile's destination names a directory
/// (`dir/`, `.`, `dir/.`, as BuildKit reads them).
pub(super) fn destination(image: &Tree<'_>, workdir: &str, raw: &str) -> String {
    let dir_form = raw.ends_with('/') || raw == "." || raw.ends_with("/.") || raw.is_empty();
    let resolved = image.resolve(&absolute(workdir, raw));
    if resolved.is_empty() {
        "/".to_string()
    } else if dir_form {
        format!("/{resolved}/")
    } else {
        format!("/{resolved}")
    }
}
