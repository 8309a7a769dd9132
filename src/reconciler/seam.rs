//! The seam between one container's steps (`container.rs`) and the layers under them: the
//! image store, volumes, secrets, the network and the runtime. [`Real`] is the machine;
//! container.rs's unit tests put a recording fake in its place, so the order of the steps,
//! what is undone when one fails, and what `remove` keeps going past are tested without root.

use std::path::PathBuf;
use std::time::Duration;

use super::error::Result;
use super::layers::{self, NetSetup};
use super::secrets;
use super::state::PortRecord;
use crate::common::Mount;
use crate::image::{ImageError, ImageStore, ResolvedImage};
use crate::paths::Roots;
use crate::runtime::{ContainerConfig, ContainerState, Runtime, RuntimeError, UserNs};
use crate::spec::model::{Service, Stack};
use crate::volumes::ImageMounts;

/// What a container step asks of the layers below it.
pub trait Layers: Send + Sync {
    fn resolve_image(&self, reference: &str) -> std::result::Result<ResolvedImage, ImageError>;
    /// The service's volume and bind mounts for container `id`.
    fn mounts(
        &self,
        stack: &Stack,
        service_name: &str,
        service: &Service,
        id: &str,
        image: &ImageMounts<'_>,
    ) -> Result<Vec<Mount>>;
    /// Its secrets and configs, written for container `id`, as read-only mounts.
    fn secrets(
        &self,
        stack: &Stack,
        service_name: &str,
        service: &Service,
        id: &str,
        userns: Option<&UserNs>,
    ) -> Result<Vec<Mount>>;
    fn remove_secrets(&self, id: &str) -> std::io::Result<()>;
    /// Where the copies of container `id`'s secrets are (for error messages).
    fn secrets_dir(&self, id: &str) -> PathBuf;
    fn prepare_network(
        &self,
        stack: &Stack,
        service_name: &str,
        service: &Service,
        cfg: &ContainerConfig,
    ) -> Result<NetSetup>;
    /// The network namespace of container `id` when it has a sandbox.
    fn sandbox_path(&self, id: &str) -> Option<PathBuf>;
    fn teardown_network(&self, id: &str) -> Result<()>;
    /// Publish the service's ports for container `id` (after it started).
    fn publish(&self, stack: &Stack, service_name: &str, service: &Service, id: &str) -> Result<Vec<PortRecord>>;
    fn release_ports(&self, id: &str) -> Result<()>;

    fn create(&self, cfg: &ContainerConfig) -> std::result::Result<(), RuntimeError>;
    fn start(&self, id: &str) -> std::result::Result<(), RuntimeError>;
    fn stop(&self, id: &str, grace: Option<Duration>) -> std::result::Result<ContainerState, RuntimeError>;
    fn remove(&self, id: &str) -> std::result::Result<(), RuntimeError>;
    fn state(&self, id: &str) -> std::result::Result<ContainerState, RuntimeError>;
    fn list(&self) -> std::result::Result<Vec<ContainerState>, RuntimeError>;
    fn config(&self, id: &str) -> std::result::Result<ContainerConfig, RuntimeError>;
    fn state_dir(&self, id: &str) -> PathBuf;
}

/// The layers of this machine, under one state root.
pub struct Real<'a> {
    pub roots: &'a Roots,
    pub rt: &'a Runtime,
}

impl Layers for Real<'_> {
    fn resolve_image(&self, reference: &str) -> std::result::Result<ResolvedImage, ImageError> {
        ImageStore::open(self.roots)?.resolve(reference)
    }

    fn mounts(
        &self,
        stack: &Stack,
        service_name: &str,
        service: &Service,
        id: &str,
        image: &ImageMounts<'_>,
    ) -> Result<Vec<Mount>> {
        layers::mounts(self.roots, stack, service_name, service, id, image)
    }

    fn secrets(
        &self,
        stack: &Stack,
        service_name: &str,
        service: &Service,
        id: &str,
        userns: Option<&UserNs>,
    ) -> Result<Vec<Mount>> {
        Ok(secrets::materialize(self.roots, stack, service_name, service, id, userns)?)
    }

    fn remove_secrets(&self, id: &str) -> std::io::Result<()> {
        secrets::remove(self.roots, id)
    }

    fn secrets_dir(&self, id: &str) -> PathBuf {
        secrets::dir(self.roots, id)
    }

    fn prepare_network(
        &self,
        stack: &Stack,
        service_name: &str,
        service: &Service,
        cfg: &ContainerConfig,
    ) -> Result<NetSetup> {
        layers::prepare_network(self.roots, stack, service_name, service, cfg)
    }

    fn sandbox_path(&self, id: &str) -> Option<PathBuf> {
        layers::sandbox_path(self.roots, id)
    }

    fn teardown_network(&self, id: &str) -> Result<()> {
        layers::teardown_container(self.roots, id)
    }

    fn publish(&self, stack: &Stack, service_name: &str, service: &Service, id: &str) -> Result<Vec<PortRecord>> {
        layers::after_start(self.roots, stack, service_name, service, id)
    }

    fn release_ports(&self, id: &str) -> Result<()> {
        layers::release_ports(self.roots, id)
    }

    fn create(&self, cfg: &ContainerConfig) -> std::result::Result<(), RuntimeError> {
        self.rt.create(cfg)
    }

    fn start(&self, id: &str) -> std::result::Result<(), RuntimeError> {
        self.rt.start(id).map(|_| ())
    }

    fn stop(&self, id: &str, grace: Option<Duration>) -> std::result::Result<ContainerState, RuntimeError> {
        self.rt.stop(id, grace)
    }

    fn remove(&self, id: &str) -> std::result::Result<(), RuntimeError> {
        self.rt.remove(id, true)
    }

    fn state(&self, id: &str) -> std::result::Result<ContainerState, RuntimeError> {
        self.rt.state(id)
    }

    fn list(&self) -> std::result::Result<Vec<ContainerState>, RuntimeError> {
        self.rt.list()
    }

    fn config(&self, id: &str) -> std::result::Result<ContainerConfig, RuntimeError> {
        self.rt.config(id)
    }

    fn state_dir(&self, id: &str) -> PathBuf {
        self.rt.state_dir(id)
    }
}
