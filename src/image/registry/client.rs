//! The HTTP side of the registry client: one [`Client`] per (registry, repository, operation),
//! a blocking `ureq` agent (rustls for https), and the auth dance of the distribution spec:
//! try anonymously (or with the credentials already earned), and on a 401 answer its
//! `WWW-Authenticate` challenge (a Bearer token from the realm, or Basic credentials) and retry
//! once. The earned `Authorization` value is kept for the client's later requests.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::auth::{credentials_for, Challenge, Credentials};
use super::endpoint::Endpoint;
use super::error::{RegistryError, Result};
use crate::fsutil::{read_limited, TooLarge};

pub(crate) type Response = ureq::http::Response<ureq::Body>;

/// Largest token-server reply read (a JSON object holding a token).
const MAX_TOKEN_REPLY: u64 = 4 << 20;

/// How long a JSON document (manifest, config) may take to arrive, whole. The per-read timeout
/// alone lets a server that sends a byte a minute hold a pull forever.
const DOCUMENT_DEADLINE: Duration = Duration::from_secs(120);

/// What a request sends.
pub(crate) enum Payload<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// A file, streamed (blob uploads).
    File(&'a Path),
}

pub(crate) struct Request<'a> {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Payload<'a>,
}

impl<'a> Request<'a> {
    pub fn new(method: &'static str, url: String) -> Request<'a> {
        Request { method, url, headers: Vec::new(), body: Payload::Empty }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Payload<'a>) -> Self {
        self.body = body;
        self
    }
}

pub(crate) struct Client {
    agent: ureq::Agent,
    pub ep: Endpoint,
    creds: Option<Credentials>,
    /// What the token must grant: `pull` or `pull,push`.
    actions: &'static str,
    auth: Mutex<Option<String>>,
}

impl Client {
    pub fn new(ep: Endpoint, push: bool) -> Client {
        let creds = credentials_for(&ep.registry);
        Client::build(ep, push, creds)
    }

    /// A pull client with these credentials rather than the stored ones (`login` checks them).
    pub fn with_credentials(ep: Endpoint, creds: Option<Credentials>) -> Client {
        Client::build(ep, false, creds)
    }

    fn build(ep: Endpoint, push: bool, creds: Option<Credentials>) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.new_agent(),
            ep,
            creds,
            actions: if push { "pull,push" } else { "pull" },
            auth: Mutex::new(None),
        }
    }

    /// Send `req`, authenticating once if the registry asks to (see the module docs).
    pub fn send(&self, req: &Request<'_>) -> Result<Response> {
        let earned = self.auth.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let resp = self.send_once(req, earned.as_deref())?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let challenge = header(&resp, "www-authenticate").and_then(|h| Challenge::parse(&h));
        let value = match challenge {
            Some(Challenge::Bearer { realm, service, .. }) => self.token(&realm, service.as_deref())?,
            Some(Challenge::Basic) => match &self.creds {
                Some(c) => c.basic_header(),
                None => return Err(self.unauthorized("the registry wants a user name and password")),
            },
            None => return Err(self.unauthorized("the registry sent no usable authentication challenge")),
        };
        *self.auth.lock().unwrap_or_else(|p| p.into_inner()) = Some(value.clone());
        let mut resp = self.send_once(req, Some(&value))?;
        if resp.status() == 401 {
            return Err(self.unauthorized(&error_detail(&mut resp)));
        }
        Ok(resp)
    }

    fn send_once(&self, req: &Request<'_>, auth: Option<&str>) -> Result<Response> {
        let mut headers = req.headers.clone();
        if let Some(a) = auth {
            headers.push(("Authorization", a.to_string()));
        }
        let result = match req.method {
            "GET" | "HEAD" | "DELETE" => {
                let mut b = match req.method {
                    "GET" => self.agent.get(&req.url),
                    "HEAD" => self.agent.head(&req.url),
                    _ => self.agent.delete(&req.url),
                };
                for (k, v) in &headers {
                    b = b.header(*k, v);
                }
                b.call()
            }
            method => {
                let mut b = if method == "POST" { self.agent.post(&req.url) } else { self.agent.put(&req.url) };
                for (k, v) in &headers {
                    b = b.header(*k, v);
                }
                match &req.body {
                    Payload::Empty => b.header("Content-Length", "0").send_empty(),
                    Payload::Bytes(bytes) => b.send(*bytes),
                    Payload::File(path) => {
                        let file = File::open(path).map_err(|source| self.io(source))?;
                        b.send(file)
                    }
                }
            }
        };
        result.map_err(|e| self.transport(e))
    }

    /// Fetch a Bearer token for this repository from the challenge's realm.
    fn token(&self, realm: &str, service: Option<&str>) -> Result<String> {
        let scope = format!("repository:{}:{}", self.ep.repository, self.actions);
        let mut b = self.agent.get(realm).query("scope", &scope);
        if let Some(s) = service {
            b = b.query("service", s);
        }
        if let Some(c) = &self.creds {
            b = b.header("Authorization", c.basic_header());
        }
        let mut resp = b.call().map_err(|e| self.transport(e))?;
        if !resp.status().is_success() {
            let detail =
                format!("token server {realm} answered {}: {}", resp.status().as_u16(), error_detail(&mut resp));
            return Err(self.unauthorized(&detail));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_TOKEN_REPLY)
            .read_to_vec()
            .map_err(|e| self.unauthorized(&format!("reading the token from {realm}: {e}")))?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| self.unauthorized(&format!("token server {realm} sent invalid json: {e}")))?;
        let token = v.get("token").or_else(|| v.get("access_token")).and_then(|t| t.as_str());
        match token {
            Some(t) if !t.is_empty() => Ok(format!("Bearer {t}")),
            _ => Err(self.unauthorized(&format!("token server {realm} sent no token"))),
        }
    }

    pub fn unauthorized(&self, detail: &str) -> RegistryError {
        RegistryError::Unauthorized {
            reference: self.ep.reference.clone(),
            registry: self.ep.registry.clone(),
            detail: detail.to_string(),
        }
    }

    pub fn io(&self, source: std::io::Error) -> RegistryError {
        RegistryError::Io { reference: self.ep.reference.clone(), registry: self.ep.registry.clone(), source }
    }

    pub fn invalid(&self, what: &str, reason: impl std::fmt::Display) -> RegistryError {
        RegistryError::Invalid {
            reference: self.ep.reference.clone(),
            registry: self.ep.registry.clone(),
            what: what.to_string(),
            reason: reason.to_string(),
        }
    }

    /// An unexpected status, with the registry's own error text.
    pub fn status(&self, req: &Request<'_>, resp: &mut Response) -> RegistryError {
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            return self.unauthorized(&error_detail(resp));
        }
        RegistryError::Status {
            reference: self.ep.reference.clone(),
            registry: self.ep.registry.clone(),
            method: req.method.to_string(),
            url: req.url.clone(),
            status,
            detail: error_detail(resp),
        }
    }

    /// Read a JSON document (manifest, config) of at most `limit` bytes (see
    /// [`crate::image::limits`]; `kind` names the limit in the error), arriving within
    /// [`DOCUMENT_DEADLINE`]. A larger, endless or trickling reply is refused with an error
    /// saying so; `what` names the document.
    pub fn read_document(&self, resp: &mut Response, what: &str, limit: u64, kind: &'static str) -> Result<Vec<u8>> {
        // A stated length over the limit is refused before a byte is read.
        if let Some(len) = header(resp, "content-length").and_then(|l| l.trim().parse::<u64>().ok()) {
            if len > limit {
                return Err(self.invalid(what, TooLarge { what: kind, limit }));
            }
        }
        let reader = Deadline { inner: resp.body_mut().as_reader(), until: Instant::now() + DOCUMENT_DEADLINE };
        read_limited(reader, limit, kind).map_err(|source| match source.kind() {
            std::io::ErrorKind::FileTooLarge | std::io::ErrorKind::TimedOut => self.invalid(what, source),
            _ => self.io(source),
        })
    }

    /// A transport failure: connection refused, DNS, TLS, timeout.
    fn transport(&self, e: ureq::Error) -> RegistryError {
        let reason = match &e {
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused (is the registry running, and is the address right?)".to_string()
            }
            ureq::Error::HostNotFound => "host not found".to_string(),
            ureq::Error::Tls(t) => {
                format!("tls error: {t} (for a plain-http registry, list it in BERTH_INSECURE_REGISTRIES)")
            }
            other => other.to_string(),
        };
        RegistryError::Connect { reference: self.ep.reference.clone(), registry: self.ep.registry.clone(), reason }
    }
}

/// A reader that fails once `until` has passed (checked before each read; each read is
/// itself bounded by the agent's per-read timeout).
struct Deadline<R> {
    inner: R,
    until: Instant,
}

impl<R: Read> Read for Deadline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() > self.until {
            let msg = format!("not received whole within {} s", DOCUMENT_DEADLINE.as_secs());
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, msg));
        }
        self.inner.read(buf)
    }
}

/// A response header as text.
pub(crate) fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The registry's explanation of an error: `errors[].message` of its JSON body (distribution
/// spec error codes), else the start of the body.
pub(crate) fn error_detail(resp: &mut Response) -> String {
    let body = resp.body_mut().with_config().limit(64 << 10).read_to_vec().unwrap_or_default();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
            let texts: Vec<String> = errors
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
                    let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
                    format!("{code} {msg}").trim().to_lowercase()
                })
                .collect();
            return texts.join("; ");
        }
    }
    String::from_utf8_lossy(&body).chars().take(200).collect::<String>().trim().to_string()
}
