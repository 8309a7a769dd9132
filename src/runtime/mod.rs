//! The built-in container runtime: one container with namespaces, cgroups and hardening.
