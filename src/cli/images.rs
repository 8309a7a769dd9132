//! `berth images` and `berth image import|rm|inspect|ls`: the local image store from the shell.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::GlobalOpts;
use crate::image::{ImageStore, ImageSummary, Reference};
use crate::paths::Roots;

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only print image ids.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Import a rootfs tar (gzip or plain), a `docker save` archive, or an OCI image layout.
    Import {
        /// The file or directory to import.
        file: PathBuf,
        /// Name for the image (required for a rootfs tar; overrides an archive's own tags).
        name: Option<String>,
    },
    /// Remove images (untag; delete blobs and layers no image uses any more).
    #[command(alias = "remove")]
    Rm {
        /// Remove even if the image has several tags or a container uses it (then only untag).
        #[arg(short = 'f', long)]
        force: bool,
        /// Image references or ids.
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Show an image's id, tags, layers and config defaults as JSON.
    Inspect { image: String },
    /// Build an image from a Dockerfile (docker build).
    Build(super::build::ImageBuildArgs),
    /// Pull an image from its registry (e.g. `registry:5000/ns/app:1`, `busybox`).
    Pull {
        reference: String,
        /// Print only the reference.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Push an image of the store to its registry.
    Push {
        reference: String,
        /// Print only the digest line.
        #[arg(short, long)]
        quiet: bool,
    },
    /// List images (same as `berth images`).
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Give an image another name: `berth image tag SOURCE TARGET`.
    Tag { source: String, target: String },
    /// Write images to a `docker save` archive (manifest.json and an OCI layout).
    Save(super::image_io::SaveArgs),
    /// Load images from a `docker save` or OCI archive, keeping their names.
    Load(super::image_io::LoadArgs),
}

fn open_store(g: &GlobalOpts) -> anyhow::Result<(Roots, ImageStore)> {
    let roots = Roots::new(g.root.as_deref());
    let store =
        ImageStore::open(&roots).with_context(|| format!("opening the image store in {}", roots.images().display()))?;
    Ok((roots, store))
}

pub fn run_images(g: &GlobalOpts, a: &ImagesArgs) -> anyhow::Result<ExitCode> {
    let (_, store) = open_store(g)?;
    let images = store.list()?;
    if a.quiet {
        for img in &images {
            println!("{}", short_id(&img.id));
        }
    } else {
        match a.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&images)?),
            Format::Table => print!("{}", render_table(&images, store.disk_usage()?)),
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_image(g: &GlobalOpts, a: &ImageArgs) -> anyhow::Result<ExitCode> {
    match &a.command {
        ImageCommand::Import { file, name } => {
            let (_, store) = open_store(g)?;
            let ids = store.import(file, name.as_deref()).with_context(|| format!("importing {}", file.display()))?;
            for id in ids {
                println!("{id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ImageCommand::Rm { force, images } => remove(g, *force, images),
        ImageCommand::Inspect { image } => {
            let (_, store) = open_store(g)?;
            let r = store.resolve(image)?;
            let out = serde_json::json!({
                "Id": r.id, "RepoTags": r.references, "ManifestDigest": r.manifest_digest,
                "Layers": r.layers, "Config": r.config,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        ImageCommand::Pull { reference, quiet } => super::pull::image_pull(g, reference, *quiet),
        ImageCommand::Push { reference, quiet } => super::pull::image_push(g, reference, *quiet),
        ImageCommand::Build(args) => super::build::run_image_build(g, args),
        ImageCommand::Ls(args) => run_images(g, args),
        ImageCommand::Tag { source, target } => super::image_io::tag(g, source, target),
        ImageCommand::Save(args) => super::image_io::save(g, args),
        ImageCommand::Load(args) => super::image_io::load(g, args),
    }
}

/// Remove each image, reporting every failure and carrying on (teardown keeps going).
fn remove(g: &GlobalOpts, force: bool, images: &[String]) -> anyhow::Result<ExitCode> {
    let (roots, store) = open_store(g)?;
    let in_use = |id: &str| image_in_use(&roots, id);
    let mut code = ExitCode::SUCCESS;
    for image in images {
        match store.remove(image, force, &in_use) {
            Ok(report) => {
                for t in &report.untagged {
                    println!("Untagged: {t}");
                }
                for d in &report.deleted {
                    println!("Deleted: {d}");
                }
            }
            Err(e) => {
                eprintln!("error: {:#}", anyhow::Error::new(e));
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}

/// Whether any container record under the state root names this image id. A conservative
/// text search of each container's top-level JSON files, so it holds whatever the record's
/// exact shape; a false positive only means `rm` asks for --force.
fn image_in_use(roots: &Roots, id: &str) -> bool {
    let dir = roots.state.join("containers");
    let Ok(rd) = fs::read_dir(&dir) else { return false };
    rd.flatten().any(|c| json_files_mention(&c.path(), id))
}

fn json_files_mention(dir: &Path, needle: &str) -> bool {
    let Ok(rd) = fs::read_dir(dir) else { return false };
    rd.flatten()
        .filter(|f| f.path().extension().is_some_and(|e| e == "json"))
        .any(|f| fs::read_to_string(f.path()).is_ok_and(|s| s.contains(needle)))
}

fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// Docker's units: decimal (kB, MB, GB), three significant digits.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes}B")
    } else {
        format!("{:.3}", v).trim_end_matches('0').trim_end_matches('.').to_string() + UNITS[i]
    }
}

/// REPOSITORY TAG IMAGE ID SIZE, one row per tag (`<none>` for untagged), then the total with
/// shared layers counted once.
pub fn render_table(images: &[ImageSummary], total: u64) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for img in images {
        let size = human_size(img.size);
        let id = short_id(&img.id).to_string();
        if img.references.is_empty() {
            rows.push(vec!["<none>".into(), "<none>".into(), id.clone(), size.clone()]);
        }
        for r in &img.references {
            let (repo, tag) = match Reference::parse(r) {
                Ok(p) => (p.familiar_repository(), p.tag.unwrap_or_else(|| "<none>".into())),
                Err(_) => (r.clone(), "<none>".into()),
            };
            rows.push(vec![repo, tag, id.clone(), size.clone()]);
        }
    }
    let mut out = crate::reconciler::ops::table::render(&["REPOSITORY", "TAG", "IMAGE ID", "SIZE"], &rows);
    out.push_str(&format!("Total: {} in {} images (shared layers counted once)\n", human_size(total), images.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(4_261_888), "4.262MB");
        assert_eq!(human_size(2_000_000), "2MB");
    }

    #[test]
    fn table_lists_every_tag_and_the_total() {
        let img = ImageSummary {
            id: format!("sha256:{}", "ab".repeat(32)),
            references: vec!["busybox:latest".into(), "registry:5000/ns/app:1".into()],
            created: None,
            imported: None,
            size: 2_000_000,
            layers: vec![],
            manifest_digests: vec![],
        };
        let t = render_table(&[img], 2_000_000);
        assert!(t.starts_with("REPOSITORY"));
        assert!(t.contains("busybox                latest   abababababab   2MB"), "{t}");
        assert!(t.contains("registry:5000/ns/app   1"));
        assert!(t.ends_with("Total: 2MB in 1 images (shared layers counted once)\n"));
    }
}
