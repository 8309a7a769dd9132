//! `image tag` and `image save`: a new name for a stored image, and images written out as a
//! `docker save` archive that `docker load`, `podman load` and `berth image load` read.
//!
//! The archive is Docker's (25+) form: `manifest.json` (Config, RepoTags, Layers as paths) and
//! an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) over the same blobs, which
//! are the store's own, byte for byte (layers stay compressed: every loader decompresses, and
//! checks each layer's diff id against the config). Written to a temp file next to the target
//! and renamed over it once complete, so a failed save leaves no half archive.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use oci_spec::image::{Descriptor, ImageIndexBuilder, MediaType};

use super::error::{io_err, json_err, ImageError, Result};
use super::index::{self, ref_name};
use super::reference::Reference;
use super::store::ImageStore;

const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// One image to save: what the user named it and its stored manifest.
struct Saved {
    repo_tags: Vec<String>,
    manifest_digest: String,
    config_digest: String,
    layers: Vec<String>,
}

impl ImageStore {
    /// Give the image `source` (a reference or id) the name `target` as well.
    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        let r = Reference::parse(target)?;
        let _gc = self.layout.gc_lock(false)?;
        let idx = self.layout.read_index()?;
        let digest = self.find(idx.manifests(), source)?;
        let d = idx
            .manifests()
            .iter()
            .find(|d| d.digest().to_string() == digest)
            .ok_or_else(|| ImageError::NotFound { reference: source.to_string() })?;
        self.tag_manifest(d.media_type(), &digest, d.size(), &[r])
    }

    /// Write `images` (references or ids) as a docker-save archive to `out`.
    pub fn save(&self, images: &[String], out: &mut dyn Write) -> Result<()> {
        let _gc = self.layout.gc_lock(false)?;
        let idx = self.layout.read_index()?;
        let mut saved: Vec<Saved> = Vec::new();
        for wanted in images {
            let digest = self.find(idx.manifests(), wanted)?;
            let stored = self.load(&digest)?;
            // Saved by name: that name; by id: no name (as Docker).
            let by_name = idx
                .manifests()
                .iter()
                .filter(|d| d.digest().to_string() == digest)
                .filter_map(ref_name)
                .filter_map(|n| Reference::parse(n).ok())
                .find(|r| Reference::parse(wanted).is_ok_and(|w| w.to_string() == r.to_string()))
                .map(|r| r.familiar());
            match saved.iter_mut().find(|s| s.manifest_digest == digest) {
                Some(s) => s.repo_tags.extend(by_name),
                None => saved.push(Saved {
                    repo_tags: by_name.into_iter().collect(),
                    manifest_digest: digest,
                    config_digest: stored.config_digest.clone(),
                    layers: stored.layers.iter().map(|l| l.0.clone()).collect(),
                }),
            }
        }
        let mut b = tar::Builder::new(BufWriter::new(out));
        b.mode(tar::HeaderMode::Deterministic);
        let mut written = BTreeSet::new();
        for s in &saved {
            for blob in std::iter::once(&s.manifest_digest).chain([&s.config_digest]).chain(&s.layers) {
                if written.insert(blob.clone()) {
                    self.append_blob(&mut b, blob)?;
                }
            }
        }
        let manifest: Vec<serde_json::Value> = saved
            .iter()
            .map(|s| {
                serde_json::json!({
                    "Config": blob_name(&s.config_digest),
                    "RepoTags": s.repo_tags,
                    "Layers": s.layers.iter().map(|l| blob_name(l)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let what = "the saved archive";
        append_bytes(&mut b, "manifest.json", &serde_json::to_vec(&manifest).map_err(json_err(what))?)?;
        append_bytes(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        append_bytes(&mut b, "index.json", &self.oci_index(&saved)?)?;
        let out = b.into_inner().map_err(io_err("<archive>"))?;
        out.into_inner().map_err(|e| io_err("<archive>")(e.into_error()))?.flush().map_err(io_err("<archive>"))
    }

    fn append_blob<W: Write>(&self, b: &mut tar::Builder<W>, digest: &str) -> Result<()> {
        let path = self.layout.blob_path(digest);
        let mut f = File::open(&path).map_err(io_err(&path))?;
        let len = f.metadata().map_err(io_err(&path))?.len();
        let mut h = tar::Header::new_ustar();
        h.set_size(len);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, blob_name(digest), &mut f).map_err(io_err(&path))
    }

    /// index.json of the archive's OCI layout: one descriptor per name (or one, unnamed).
    fn oci_index(&self, saved: &[Saved]) -> Result<Vec<u8>> {
        let mut descs = Vec::new();
        for s in saved {
            let size = std::fs::metadata(self.layout.blob_path(&s.manifest_digest))
                .map_err(io_err(self.layout.blob_path(&s.manifest_digest)))?
                .len();
            let digest: oci_spec::image::Digest = s
                .manifest_digest
                .parse()
                .map_err(|_| ImageError::Unsupported { what: "digest".into(), value: s.manifest_digest.clone() })?;
            let base = Descriptor::new(MediaType::ImageManifest, size, digest);
            if s.repo_tags.is_empty() {
                descs.push(base.clone());
            }
            for t in &s.repo_tags {
                let full = Reference::parse(t).map(|r| r.to_string()).unwrap_or_else(|_| t.clone());
                let tag = Reference::parse(t).ok().and_then(|r| r.tag.clone()).unwrap_or_else(|| "latest".into());
                let mut d = base.clone();
                d.set_annotations(Some(HashMap::from([
                    (CONTAINERD_NAME.to_string(), full),
                    (index::REF_NAME.to_string(), tag),
                ])));
                descs.push(d);
            }
        }
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(descs)
            .build()
            .map_err(|e| ImageError::Unsupported { what: "index".into(), value: e.to_string() })?;
        serde_json::to_vec(&index).map_err(json_err("the saved archive's index.json"))
    }
}

fn blob_name(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

fn append_bytes<W: Write>(b: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, bytes).map_err(io_err(name))
}

/// Save to `path` through a temp file in the same directory, renamed once complete.
pub fn save_to_file(store: &ImageStore, images: &[String], path: &Path) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile_in(dir, path)?;
    let result = store.save(images, &mut tmp.1).and_then(|()| tmp.1.sync_all().map_err(io_err(&tmp.0)));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp.0);
        return Err(e);
    }
    std::fs::rename(&tmp.0, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp.0);
        io_err(path)(e)
    })
}

fn tempfile_in(dir: &Path, target: &Path) -> Result<(std::path::PathBuf, File)> {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(io_err(&tmp))?;
    Ok((tmp, f))
}

impl ImageStore {
    /// `image load` from a stream (stdin): spooled to the store's tmp/ (an archive is read by
    /// offset, so it must be a file), imported, and the spool removed whatever happens.
    pub fn load_stream(&self, r: &mut dyn std::io::Read) -> Result<Vec<super::ImageId>> {
        let tmp = self.layout.tmp_path("load");
        let result = (|| {
            let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
            std::io::copy(r, &mut f).map_err(io_err(&tmp))?;
            drop(f);
            self.load_archive(&tmp)
        })();
        let _ = std::fs::remove_file(&tmp);
        result
    }

    /// `image load -i FILE`: a docker-save or OCI archive, with the names it carries.
    pub fn load_archive(&self, path: &Path) -> Result<Vec<super::ImageId>> {
        let src = super::source::Source::open(path, &self.layout)?;
        if !src.exists("manifest.json") && !src.exists("index.json") {
            return Err(ImageError::InvalidArchive {
                path: path.to_path_buf(),
                reason: "not a `docker save` or OCI archive (no manifest.json or index.json); \
                         a root filesystem tar is imported with `berth image import FILE NAME`"
                    .into(),
            });
        }
        drop(src);
        self.import(path, None)
    }
}
