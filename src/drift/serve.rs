//! Serving `/metrics` (Prometheus exposition) and `/healthz` while
//! `drift --watch` runs, with hyper: it is already in the tree under
//! reqwest, and two fixed routes need no framework.
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
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// The latest metrics, shared between the check loop and the server.
#[derive(Debug, Clone, Default)]
pub struct Exposition(Arc<RwLock<Latest>>);

#[derive(Debug, Default)]
struct Latest {
    metrics: Option<String>,
    updated: Option<Instant>,
    /// Why the last check failed, when it did.
    failure: Option<String>,
}

impl Exposition {
    /// Replaces the metrics served, and marks the check loop alive.
    pub fn publish(&self, metrics: String) {
        self.publish_outcome(metrics, None);
    }

    /// Like [`Exposition::publish`], with why the check failed when it did:
    /// `/healthz` then answers 503 with the reason until a check succeeds.
    pub fn publish_outcome(&self, metrics: String, failure: Option<String>) {
        if let Ok(mut latest) = self.0.write() {
            *latest = Latest { metrics: Some(metrics), updated: Some(Instant::now()), failure };
        }
    }

    fn snapshot(&self) -> (Option<String>, Option<Instant>, Option<String>) {
        self.0.read().map(|l| (l.metrics.clone(), l.updated, l.failure.clone())).unwrap_or_default()
    }
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
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found: try /metrics or /healthz\n".into()),
    }
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
}
