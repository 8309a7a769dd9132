//! `berth login` / `berth logout`: registry credentials in `~/.docker/config.json`, shared with
//! Docker (see image/registry/login.rs).

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Args;

use crate::image::registry::login;

/// The password read from stdin at most (a token is a few KiB).
const MAX_PASSWORD: u64 = 64 << 10;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// User name.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Read the password (or token) from stdin.
    #[arg(long)]
    pub password_stdin: bool,
    /// Password on the command line (insecure: it shows in `ps` and shell history). No `-p`:
    /// that is the global --project-name here.
    #[arg(long)]
    pub password: Option<String>,
    /// Registry server (default: Docker Hub).
    pub server: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Registry server (default: Docker Hub).
    pub server: Option<String>,
}

pub fn login(a: &LoginArgs) -> anyhow::Result<ExitCode> {
    let server = a.server.as_deref().unwrap_or("docker.io");
    let Some(user) = a.username.as_deref().filter(|u| !u.is_empty()) else {
        bail!("login to {server}: give a user name with -u USER (and the password with --password-stdin)");
    };
    if user.contains(':') {
        bail!("login to {server}: a user name cannot contain `:`");
    }
    let password = match (&a.password, a.password_stdin) {
        (Some(_), true) => bail!("--password and --password-stdin are mutually exclusive"),
        (Some(p), false) => {
            eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            p.clone()
        }
        (None, true) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .take(MAX_PASSWORD + 1)
                .read_to_end(&mut buf)
                .context("reading the password from stdin")?;
            if buf.len() as u64 > MAX_PASSWORD {
                bail!("the password on stdin is longer than {MAX_PASSWORD} bytes");
            }
            let text = String::from_utf8(buf).context("the password on stdin is not UTF-8")?;
            text.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) if std::io::stdin().is_terminal() => {
            bail!("login to {server}: give the password with --password-stdin (interactive prompts are not supported)")
        }
        (None, false) => bail!("login to {server}: give the password with --password-stdin"),
    };
    if password.is_empty() {
        bail!("login to {server}: the password is empty");
    }
    let path = login::login(server, user, &password).with_context(|| format!("login to {server} as {user}"))?;
    eprintln!("Credentials stored in {} (unencrypted, as Docker without a credential helper)", path.display());
    println!("Login Succeeded");
    Ok(ExitCode::SUCCESS)
}

pub fn logout(a: &LogoutArgs) -> anyhow::Result<ExitCode> {
    let server = a.server.as_deref().unwrap_or("docker.io");
    match login::logout(server).with_context(|| format!("logout from {server}"))? {
        true => println!("Removing login credentials for {server}"),
        false => println!("Not logged in to {server}"),
    }
    Ok(ExitCode::SUCCESS)
}
