//! HTTP with a bound on the answer: a node's answer is read chunk by chunk
//! and refused once it passes [`Patience::max_answer_bytes`], before it is
//! held in memory whole (alloy's own HTTP transport reads any body to its
//! end). Otherwise it behaves as alloy's: a JSON-RPC error in an HTTP error
//! answer is an answer, `Retry-After` is kept, a body that is not JSON is a
//! deserialisation error.

use std::task::{Context, Poll};
use std::time::Duration;

use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::transports::http::reqwest::{self, Url};
use alloy::transports::{TransportError, TransportErrorKind, TransportFut};
use tower::Service;

/// The transport.
#[derive(Debug, Clone)]
pub struct BoundedHttp {
    client: reqwest::Client,
    url: Url,
    limit: usize,
}

impl BoundedHttp {
    /// Posts to `url` with `client`, refusing answers over `limit` bytes.
    pub fn new(client: reqwest::Client, url: Url, limit: usize) -> Self {
        Self { client, url, limit }
    }

    async fn post(self, request: RequestPacket) -> Result<ResponsePacket, TransportError> {
        let mut response = self
            .client
            .post(self.url)
            .json(&request)
            .headers(request.headers())
            .send()
            .await
            .map_err(TransportErrorKind::custom)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        let too_large = |size: String| {
            TransportErrorKind::non_retryable_str(&format!(
                "the node's answer is {size}, over the limit of {} bytes; it was not read",
                self.limit
            ))
        };
        if let Some(length) = response.content_length().filter(|l| *l > self.limit as u64) {
            return Err(too_large(format!("{length} bytes")));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > self.limit => {
                    return Err(too_large("larger".to_string()));
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(error) if !status.is_success() => {
                    let body = format!("<failed to read the answer: {error}>");
                    return Err(TransportErrorKind::http_error_with_retry_after(status.as_u16(), body, retry_after));
                }
                Err(error) => return Err(TransportErrorKind::custom(error)),
            }
        }
        if !status.is_success() {
            if let Ok(answer) = serde_json::from_slice::<ResponsePacket>(&body)
                && answer.is_error()
            {
                return Ok(answer);
            }
            let text = String::from_utf8_lossy(&body).into_owned();
            return Err(TransportErrorKind::http_error_with_retry_after(status.as_u16(), text, retry_after));
        }
        serde_json::from_slice(&body).map_err(|e| TransportError::deser_err(e, String::from_utf8_lossy(&body)))
    }
}

impl Service<RequestPacket> for BoundedHttp {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        Box::pin(self.clone().post(request))
    }
}
