//! Serving `/metrics` (Prometheus exposition), `/healthz` and the status
//! page `/` ([`super::status_page`]) while `drift --watch` runs, with hyper:
//! it is already in the tree under reqwest, and three fixed routes need no
//! framework.
//!
//! Nobody can starve it: a client has [`HEADER_READ_TIMEOUT`] to send its
//! request's headers, at most [`MAX_CONNECTIONS`] connections are served at
//! once, and a new connection beyond that closes the oldest one, so a scrape
//! always gets through however many idle connections are held open. A
//! failed accept (out of descriptors) waits a moment instead of spinning.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::page::{Checked, content_security_policy, status_page};
use super::prometheus::exposition;
use super::report::{DriftReport, Status};

/// How often the status page reloads itself unless told
/// ([`Exposition::with_refresh`]).
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(10);

/// The latest metrics and check, shared between the check loop and the server.
#[derive(Debug, Clone, Default)]
pub struct Exposition(Arc<RwLock<Latest>>);

#[derive(Debug, Default)]
struct Latest {
    metrics: Option<String>,
    updated: Option<Instant>,
    /// Why the last check failed, when it did.
    failure: Option<String>,
    /// The last check and how long it took, for the status page.
    report: Option<(DriftReport, Duration)>,
    /// How often the status page reloads ([`DEFAULT_REFRESH`] when zero).
    refresh: Duration,
}

impl Exposition {
    /// An exposition whose status page reloads itself every `refresh`.
    pub fn with_refresh(refresh: Duration) -> Self {
        Self(Arc::new(RwLock::new(Latest { refresh, ..Latest::default() })))
    }

    /// Publishes a whole check: its metrics, whether it failed (for
    /// `/healthz`) and the report itself with how long it `took` (for the
    /// status page).
    pub fn publish_report(&self, report: &DriftReport, took: Duration) {
        let metrics = exposition(report);
        if let Ok(mut latest) = self.0.write() {
            latest.metrics = Some(metrics);
            latest.updated = Some(Instant::now());
            latest.failure = failure(report);
            latest.report = Some((report.clone(), took));
        }
    }

    /// Replaces the metrics served, and marks the check loop alive.
    pub fn publish(&self, metrics: String) {
        self.publish_outcome(metrics, None);
    }

    /// Like [`Exposition::publish`], with why the check failed when it did:
    /// `/healthz` then answers 503 with the reason until a check succeeds.
    pub fn publish_outcome(&self, metrics: String, failure: Option<String>) {
        if let Ok(mut latest) = self.0.write() {
            (latest.metrics, latest.updated, latest.failure) = (Some(metrics), Some(Instant::now()), failure);
        }
    }

    fn snapshot(&self) -> (Option<String>, Option<Instant>, Option<String>) {
        self.0.read().map(|l| (l.metrics.clone(), l.updated, l.failure.clone())).unwrap_or_default()
    }

    /// The status page as of now.
    fn page(&self) -> String {
        let now = super::unix_now();
        let Ok(latest) = self.0.read() else { return status_page(None, now, DEFAULT_REFRESH) };
        let refresh = if latest.refresh.is_zero() { DEFAULT_REFRESH } else { latest.refresh };
        let checked = latest.report.as_ref().map(|(report, took)| Checked { report, took: *took });
        status_page(checked, now, refresh)
    }
}

/// Why a check failed: each deployment that could not be checked.
fn failure(report: &DriftReport) -> Option<String> {
    let errors: Vec<&str> = report
        .deployments
        .iter()
        .filter(|d| d.status == Status::Error)
        .map(|d| d.error.as_deref().unwrap_or(&d.file))
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections served at once; a new one closes the oldest.
pub const MAX_CONNECTIONS: usize = 32;

/// How long to wait after a failed accept (out of descriptors, say).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The connections being served, oldest first.
#[derive(Debug, Default, Clone)]
struct Connections(Arc<Mutex<VecDeque<(u64, tokio::task::AbortHandle)>>>);

impl Connections {
    /// Adds a connection, closing the oldest ones beyond the cap.
    fn admit(&self, id: u64, task: tokio::task::AbortHandle) {
        let Ok(mut open) = self.0.lock() else { return task.abort() };
        while open.len() >= MAX_CONNECTIONS {
            if let Some((_, oldest)) = open.pop_front() {
                oldest.abort();
            }
        }
        open.push_back((id, task));
    }

    /// Forgets a connection that ended.
    fn close(&self, id: u64) {
        if let Ok(mut open) = self.0.lock() {
            open.retain(|(other, _)| *other != id);
        }
    }
}

/// Serves until `shutdown` completes, then stops accepting and returns,
/// releasing the port. `/healthz` answers 200 while the last check finished
/// less than `stale_after` ago, 503 before the first and once checks stall.
pub async fn serve(
    listener: TcpListener,
    exposition: Exposition,
    stale_after: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let connections = Connections::default();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                };
                let (exposition, open, id) = (exposition.clone(), connections.clone(), next_id);
                next_id += 1;
                let task = tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let response = respond(&exposition, request.uri().path(), stale_after);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    open.close(id);
                });
                connections.admit(id, task.abort_handle());
            }
        }
    }
}

/// The answer to a request for `path`.
fn respond(exposition: &Exposition, path: &str, stale_after: Duration) -> Response<Full<Bytes>> {
    if path == "/" {
        return page(exposition.page());
    }
    let (metrics, updated, failure) = exposition.snapshot();
    match path {
        "/metrics" => match metrics {
            Some(text) => reply(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", text),
            None => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "no check has finished yet\n".into()),
        },
        "/healthz" => match updated {
            Some(_) if failure.is_some() => {
                let reason = failure.unwrap_or_default();
                reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", format!("last check failed: {reason}\n"))
            }
            Some(at) if at.elapsed() <= stale_after => reply(StatusCode::OK, "text/plain", "ok\n".into()),
            Some(_) => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "checks have stalled\n".into()),
            None => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "no check has finished yet\n".into()),
        },
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found: try /, /metrics or /healthz\n".into()),
    }
}

/// The status page, with a policy that lets only its own style and script run.
fn page(body: String) -> Response<Full<Bytes>> {
    let mut response = reply(StatusCode::OK, "text/html; charset=utf-8", body);
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy()) {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_the_last_published_check() {
        let exposition = Exposition::default();
        let minute = Duration::from_secs(60);
        assert_eq!(respond(&exposition, "/healthz", minute).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(respond(&exposition, "/metrics", minute).status(), StatusCode::SERVICE_UNAVAILABLE);
        exposition.publish("govstate_in_sync{file=\"a\"} 1\n".into());
        assert_eq!(respond(&exposition, "/healthz", minute).status(), StatusCode::OK);
        assert_eq!(respond(&exposition, "/metrics", minute).status(), StatusCode::OK);
        assert_eq!(respond(&exposition, "/healthz", Duration::ZERO).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(respond(&exposition, "/other", minute).status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_status_page_is_html_that_may_run_only_its_own_script() {
        let exposition = Exposition::with_refresh(Duration::from_secs(7));
        let before = respond(&exposition, "/", Duration::from_secs(60));
        assert_eq!(before.status(), StatusCode::OK);
        let report = DriftReport::new(0, Vec::new());
        exposition.publish_report(&report, Duration::from_millis(10));
        let page = respond(&exposition, "/", Duration::from_secs(60));
        assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let policy = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap_or_default().to_string();
        assert!(policy.starts_with("default-src 'none';"), "{policy}");
        assert_eq!(respond(&exposition, "/healthz", Duration::from_secs(60)).status(), StatusCode::OK);
        assert!(exposition.page().contains("content=\"7\""), "the page reloads as often as told");
    }
}
