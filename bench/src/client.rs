//! The load driver's HTTP client: one keep-alive HTTP/1.1 connection per client, driven by
//! hyper's low-level connection API. No pool, no redirects, no decompression — the driver's own
//! cost per request stays small, because on a small machine it shares the cores with the server
//! it measures (and with the baseline it is compared to, which it drives the same way).

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One open connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        tcp.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
        })
    }

    /// POSTs a JSON `body` to `path` with a bearer `token` and an `Idempotency-Key`.
    pub async fn post_event(
        &mut self,
        path: &str,
        token: &str,
        key: &str,
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, &self.host)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header("idempotency-key", key)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        self.send(request).await
    }

    /// POSTs a JSON `body` to `path` anonymously (the capacity calculator).
    pub async fn post_json(&mut self, path: &str, body: Bytes) -> anyhow::Result<Answer> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, &self.host)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        self.send(request).await
    }

    /// GETs `path`, with a bearer `token` when given.
    pub async fn get(&mut self, path: &str, token: Option<&str>) -> anyhow::Result<Answer> {
        let mut request = Request::builder().uri(path).header(HOST, &self.host);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Full::new(Bytes::new()))?).await
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Answer> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }
}
