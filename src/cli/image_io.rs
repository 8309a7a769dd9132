//! `berth image tag|save|load`: names for stored images, and images moved between hosts as
//! `docker save` archives (see image/save.rs for the format).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Args;

use super::GlobalOpts;
use crate::image::ImageStore;
use crate::paths::Roots;

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to this file (else to stdout, which must not be a terminal).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Images (references or ids).
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from this archive (else from stdin).
    #[arg(short = 'i', long)]
    pub input: Option<PathBuf>,
    /// Print nothing.
    #[arg(short, long)]
    pub quiet: bool,
}

fn store(g: &GlobalOpts) -> anyhow::Result<ImageStore> {
    let roots = Roots::new(g.root.as_deref());
    ImageStore::open(&roots).with_context(|| format!("opening the image store in {}", roots.images().display()))
}

pub fn tag(g: &GlobalOpts, source: &str, target: &str) -> anyhow::Result<ExitCode> {
    store(g)?.tag(source, target).with_context(|| format!("tagging {source} as {target}"))?;
    Ok(ExitCode::SUCCESS)
}

pub fn save(g: &GlobalOpts, a: &SaveArgs) -> anyhow::Result<ExitCode> {
    let store = store(g)?;
    match &a.output {
        Some(path) => crate::image::save_to_file(&store, &a.images, path)
            .with_context(|| format!("saving {} to {}", a.images.join(", "), path.display()))?,
        None => {
            if std::io::stdout().is_terminal() {
                bail!("cowardly refusing to write an image archive to a terminal: use -o FILE or a redirect");
            }
            store.save(&a.images, &mut std::io::stdout().lock()).context("saving to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn load(g: &GlobalOpts, a: &LoadArgs) -> anyhow::Result<ExitCode> {
    let store = store(g)?;
    let ids = match &a.input {
        Some(path) => store.load_archive(path).with_context(|| format!("loading {}", path.display()))?,
        None => {
            if std::io::stdin().is_terminal() {
                bail!("nothing to load: give -i FILE or pipe an archive to stdin");
            }
            store.load_stream(&mut std::io::stdin().lock()).context("loading from stdin")?
        }
    };
    if !a.quiet {
        let images = store.list()?;
        for id in &ids {
            let refs = images.iter().find(|i| &i.id == id).map(|i| i.references.clone()).unwrap_or_default();
            if refs.is_empty() {
                println!("Loaded image ID: {id}");
            }
            for r in refs {
                println!("Loaded image: {r}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
