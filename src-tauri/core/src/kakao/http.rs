//! The HTTP seam. Everything in `kakao` builds an [`HttpRequest`] value and reads an
//! [`HttpResponse`] value; only [`ReqwestHttp`] touches the network. Tests use
//! [`testing::FakeHttp`] and assert the exact request, as oauth2-rs does.

use super::proxy::ProxySettings;
use futures::future::BoxFuture;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The two methods Kakao's endpoints use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: no body.
    Get,
    /// `POST` with `form` as a url-encoded body.
    Post,
}

/// Largest body read from kauth and kapi (JSON answers and the JWKS), in bytes: 1 MiB. Kakao's
/// largest answers (`/v2/user/me` with every item, the JWKS) are a few KiB; anything near this
/// is not Kakao (a proxy's or TLS inspector's page, or a hostile answer) and is not read whole.
pub const MAX_API_BODY_BYTES: usize = 1024 * 1024;

/// Content type of every form post to kauth and kapi (REFERENCE §2, §4).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=utf-8";

/// One request. `form` is sent url-encoded as the body when `method` is POST.
///
/// Values here are the wire form (codes, tokens, secrets in clear), so `Debug` prints header and
/// field *names* only.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// Full URL, query included: kauth or kapi, or the simulator on loopback.
    pub url: Url,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    /// Form fields in send order, values in clear; sent only with `POST`.
    pub form: Vec<(String, String)>,
    /// The most body bytes to read ([`MAX_API_BODY_BYTES`] unless set with
    /// [`HttpRequest::max_body`]): a longer `Content-Length`, or a body that grows past it while
    /// read, is [`TransportErrorKind::TooLarge`].
    pub max_body_bytes: usize,
}

impl HttpRequest {
    /// A `GET` with `accept: application/json` and no form.
    pub fn get(url: Url) -> Self {
        HttpRequest {
            method: Method::Get,
            url,
            headers: vec![("accept".into(), "application/json".into())],
            form: Vec::new(),
            max_body_bytes: MAX_API_BODY_BYTES,
        }
    }

    /// A form post; the content type header is set here so tests see exactly what is sent.
    pub fn post_form(url: Url, form: Vec<(String, String)>) -> Self {
        HttpRequest {
            method: Method::Post,
            url,
            headers: vec![
                ("accept".into(), "application/json".into()),
                ("content-type".into(), FORM_CONTENT_TYPE.into()),
            ],
            form,
            max_body_bytes: MAX_API_BODY_BYTES,
        }
    }

    /// The same request, reading at most `bytes` of the answer's body.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Appends a header (name lower-cased); one already there under that name is kept, not
    /// replaced.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// First value of a header (name compared case-insensitively).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// First value of a form field.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as sent: `application/x-www-form-urlencoded`.
    pub fn encoded_form(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.form.iter())
            .finish()
    }
}

/// Form values and headers carry codes, verifiers, tokens and the client secret in clear: wiped
/// when the request goes.
impl Drop for HttpRequest {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, v) in self.form.iter_mut().chain(self.headers.iter_mut()) {
            v.zeroize();
        }
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        let fields: Vec<&str> = self.form.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .field("form_fields", &fields)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// One response as read from the wire: status, headers and the whole body. `Debug` prints the
/// status and body length only.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code, e.g. 200 or 401.
    pub status: u16,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    /// The whole body in bytes, undecoded.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with this body and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A JSON response as Kakao sends it.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        HttpResponse {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json;charset=UTF-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    /// Status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A token response's body holds tokens in clear: wiped when the response goes.
impl Drop for HttpResponse {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.body);
    }
}

impl fmt::Debug for HttpResponse {
    // Bodies of token responses hold tokens: never print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Why no HTTP response came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// The connect or the overall timeout elapsed.
    Timeout,
    /// No connection could be made (DNS, refused, TLS handshake).
    Connect,
    /// The connection broke or the body could not be read.
    Dropped,
    /// The body is longer than the request's [`HttpRequest::max_body_bytes`] (said by
    /// `Content-Length`, or counted while reading); the rest was not read.
    TooLarge,
}

/// The request did not produce an HTTP response. Always transient for callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// Timeout, connect failure or dropped connection.
    pub kind: TransportErrorKind,
    /// Technical detail for logs; built without the URL.
    pub detail: String,
}

impl TransportError {
    /// `detail` goes to logs: pass no URL, token or secret.
    pub fn new(kind: TransportErrorKind, detail: impl Into<String>) -> Self {
        TransportError {
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for TransportError {}

/// Sends one request. Object safe so the client can hold an `Arc<dyn HttpClient>`.
pub trait HttpClient: Send + Sync + 'static {
    /// Sends `request` and reads the whole response. `Err` only when no HTTP response came back;
    /// every status, 4xx and 5xx included, is `Ok`.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;

    /// Gets ready to send without sending anything (for [`ReqwestHttp`]: builds the client,
    /// which reads the platform's trust store), so that a request known to come soon does not
    /// pay for it on the critical path. Never fails: what could not be prepared is tried again
    /// by the request. Does nothing by default.
    fn prepare(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The production client: reqwest over the platform's TLS and trust store, timeouts, and no
/// redirects followed (a redirect from kauth/kapi is an error to report, not something to chase
/// with a token attached).
///
/// Proxies follow [`ProxySettings`]: the environment's (and on macOS/Windows the system's) for
/// Kakao's hosts, never for loopback. They are read when the client is made
/// ([`ReqwestHttp::new`]) or given ([`ReqwestHttp::with_proxy`]); reqwest's own reading of the
/// environment is switched off.
///
/// The reqwest client is built on a blocking thread by [`HttpClient::prepare`] or else the first
/// request, not when made: with the platform's TLS that means reading the system's CA store
/// (~50 ms), which would otherwise delay the window at start-up. The session prepares it beside
/// the keychain read of a restore and while the person is at Kakao's pages.
#[derive(Debug)]
pub struct ReqwestHttp {
    client: tokio::sync::OnceCell<reqwest::Client>,
    connect_timeout: Duration,
    timeout: Duration,
    proxy: Arc<ProxySettings>,
    /// Host names answered without DNS (tests only: a name that must not be looked up).
    #[cfg(test)]
    resolve: Vec<(String, std::net::SocketAddr)>,
}

impl ReqwestHttp {
    /// 10 s to open the TCP and TLS connection.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// 30 s for the whole request, from connecting to the last body byte.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// A client with these timeouts and this process's proxy settings
    /// ([`ProxySettings::from_env`], read now); nothing is built or connected before the first
    /// request.
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Self {
        ReqwestHttp {
            client: tokio::sync::OnceCell::new(),
            connect_timeout,
            timeout,
            proxy: Arc::new(ProxySettings::from_env()),
            #[cfg(test)]
            resolve: Vec::new(),
        }
    }

    /// [`Self::DEFAULT_CONNECT_TIMEOUT`] and [`Self::DEFAULT_TIMEOUT`].
    pub fn with_default_timeouts() -> Self {
        Self::new(Self::DEFAULT_CONNECT_TIMEOUT, Self::DEFAULT_TIMEOUT)
    }

    /// The same client with `proxy` instead of the environment's (e.g.
    /// [`ProxySettings::from_vars`] in tests, which then need not touch the process
    /// environment).
    pub fn with_proxy(mut self, proxy: ProxySettings) -> Self {
        self.proxy = Arc::new(proxy);
        self.client = tokio::sync::OnceCell::new();
        self
    }

    /// The proxy settings requests follow (for diagnostics: [`ProxySettings::describe`]).
    pub fn proxy(&self) -> &ProxySettings {
        &self.proxy
    }

    /// Answers `host` with `addr` instead of asking DNS.
    #[cfg(test)]
    fn resolve(mut self, host: &str, addr: std::net::SocketAddr) -> Self {
        self.resolve.push((host.to_owned(), addr));
        self
    }

    async fn client(&self) -> Result<&reqwest::Client, TransportError> {
        let (connect_timeout, timeout) = (self.connect_timeout, self.timeout);
        let proxy = self.proxy.clone();
        #[cfg(test)]
        let resolve = self.resolve.clone();
        self.client
            .get_or_try_init(|| async move {
                let build = move || {
                    let builder = reqwest::Client::builder()
                        .use_native_tls()
                        // Kakao speaks TLS 1.2 and 1.3; nothing older is accepted.
                        .min_tls_version(reqwest::tls::Version::TLS_1_2)
                        .redirect(reqwest::redirect::Policy::none())
                        .connect_timeout(connect_timeout)
                        .timeout(timeout)
                        .user_agent(concat!("kakao-signin/", env!("CARGO_PKG_VERSION")));
                    // Either way reqwest stops reading the environment itself: it would send
                    // loopback through HTTP_PROXY.
                    let builder = if proxy.is_none() {
                        builder.no_proxy()
                    } else {
                        builder.proxy(reqwest::Proxy::custom(move |url| proxy.proxy_for(url)))
                    };
                    #[cfg(test)]
                    let builder = resolve
                        .iter()
                        .fold(builder, |b, (host, addr)| b.resolve(host, *addr));
                    builder.build()
                };
                let built = tokio::task::spawn_blocking(build)
                    .await
                    .map_err(|e| TransportError::new(TransportErrorKind::Connect, e.to_string()))?;
                // A client that can't be built (no usable TLS library) fails this request and
                // is tried again on the next.
                built.map_err(|e| TransportError::new(TransportErrorKind::Connect, e.to_string()))
            })
            .await
    }
}

/// The body, refused as [`TransportErrorKind::TooLarge`] by its `Content-Length` before any of
/// it is read, or as soon as the bytes read pass `max` (a chunked or lying body): never more
/// than `max` plus one chunk in memory.
async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, TransportError> {
    let too_large = |what: &str| {
        TransportError::new(
            TransportErrorKind::TooLarge,
            format!("body {what} more than the {max} bytes allowed"),
        )
    };
    let declared = response.content_length();
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large("declared as"));
    }
    let mut body = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = response.chunk().await.map_err(map_reqwest_error)? {
        if body.len() + chunk.len() > max {
            return Err(too_large("of"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn map_reqwest_error(e: reqwest::Error) -> TransportError {
    let kind = if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Dropped
    };
    // without_url: keep even harmless URLs out of error text.
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    TransportError::new(kind, detail)
}

impl HttpClient for ReqwestHttp {
    fn prepare(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(e) = self.client().await {
                tracing::debug!(error = %e, "the HTTP client could not be prepared; the request will try");
            }
        })
    }

    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let method = match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
            };
            let mut builder = self.client().await?.request(method, request.url.clone());
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if request.method == Method::Post {
                builder = builder.body(request.encoded_form());
            }
            let response = builder.send().await.map_err(map_reqwest_error)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = read_capped(response, request.max_body_bytes).await?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}

/// A scripted HTTP client for tests (this crate's and downstream ones).
pub mod testing {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// Answers requests from a FIFO script and records every request it got.
    /// With the script exhausted it answers a `Dropped` transport error, so a test that forgot
    /// a response sees a failure rather than a hang.
    #[derive(Default)]
    pub struct FakeHttp {
        script: Mutex<VecDeque<Result<HttpResponse, TransportError>>>,
        requests: Mutex<Vec<HttpRequest>>,
    }

    impl FakeHttp {
        /// An empty script.
        pub fn new() -> Self {
            Self::default()
        }

        /// Queues `response` as the answer to the next request.
        pub fn push(&self, response: HttpResponse) -> &Self {
            self.script.lock().unwrap().push_back(Ok(response));
            self
        }

        /// Queues a JSON response with Kakao's content type (see [`HttpResponse::json`]).
        pub fn push_json(&self, status: u16, body: serde_json::Value) -> &Self {
            self.push(HttpResponse::json(status, &body))
        }

        /// Queues a transport failure (no HTTP response) for the next request.
        pub fn push_error(&self, error: TransportError) -> &Self {
            self.script.lock().unwrap().push_back(Err(error));
            self
        }

        /// Every request sent so far, oldest first.
        pub fn requests(&self) -> Vec<HttpRequest> {
            self.requests.lock().unwrap().clone()
        }

        /// The single request sent so far; panics if there were none or several.
        pub fn only_request(&self) -> HttpRequest {
            let requests = self.requests();
            assert_eq!(
                requests.len(),
                1,
                "expected exactly one request: {requests:?}"
            );
            requests.into_iter().next().unwrap()
        }

        /// Scripted answers not yet used.
        pub fn remaining(&self) -> usize {
            self.script.lock().unwrap().len()
        }
    }

    impl HttpClient for FakeHttp {
        fn send(
            &self,
            request: HttpRequest,
        ) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
            self.requests.lock().unwrap().push(request);
            let next = self.script.lock().unwrap().pop_front();
            Box::pin(async move {
                next.unwrap_or_else(|| {
                    Err(TransportError::new(
                        TransportErrorKind::Dropped,
                        "FakeHttp: no scripted response left",
                    ))
                })
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::FakeHttp;
    use super::*;

    #[test]
    fn debug_never_shows_values() {
        let req = HttpRequest::post_form(
            Url::parse("https://kauth.kakao.com/oauth/token").unwrap(),
            vec![("code".into(), "the-secret-code".into())],
        )
        .header("Authorization", "Bearer the-token");
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("the-secret-code"), "{dbg}");
        assert!(!dbg.contains("the-token"), "{dbg}");
        assert!(dbg.contains("code") && dbg.contains("authorization"));
        let resp = HttpResponse::new(200, b"{\"access_token\":\"tok\"}".to_vec());
        assert!(!format!("{resp:?}").contains("tok\""));
    }

    #[tokio::test]
    async fn prepare_builds_the_client_before_any_request() {
        let http = ReqwestHttp::with_default_timeouts();
        assert!(!http.client.initialized(), "nothing is built when made");
        http.prepare().await;
        assert!(
            http.client.initialized(),
            "prepare leaves the client built for the first request"
        );
    }

    #[test]
    fn form_is_url_encoded() {
        let req = HttpRequest::post_form(
            Url::parse("https://kapi.kakao.com/v2/user/revoke/scopes").unwrap(),
            vec![
                ("scopes".into(), r#"["a","b"]"#.into()),
                ("x".into(), "a b+c&d".into()),
            ],
        );
        assert_eq!(
            req.encoded_form(),
            "scopes=%5B%22a%22%2C%22b%22%5D&x=a+b%2Bc%26d"
        );
        assert_eq!(req.header_value("Content-Type"), Some(FORM_CONTENT_TYPE));
    }

    #[tokio::test]
    async fn fake_records_and_answers_in_order() {
        let fake = FakeHttp::new();
        fake.push_json(200, serde_json::json!({"a": 1}));
        let url = Url::parse("https://kapi.kakao.com/x").unwrap();
        let r = fake.send(HttpRequest::get(url.clone())).await.unwrap();
        assert_eq!(r.status, 200);
        let e = fake.send(HttpRequest::get(url)).await.unwrap_err();
        assert_eq!(e.kind, TransportErrorKind::Dropped);
        assert_eq!(fake.requests().len(), 2);
    }

    #[tokio::test]
    async fn reqwest_connect_refused_is_connect_error() {
        // Bind then drop to get a port that is (very likely) closed.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let http = ReqwestHttp::with_default_timeouts();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/oauth/token")).unwrap();
        let err = http.send(HttpRequest::get(url)).await.unwrap_err();
        assert_eq!(err.kind, TransportErrorKind::Connect, "{err}");
        assert!(!err.detail.contains("/oauth/token"), "{err}");
    }

    #[tokio::test]
    async fn reqwest_does_not_follow_redirects_and_times_out() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            // First connection: a redirect. Second: never answer.
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            s.write_all(
                b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await
            .unwrap();
            drop(s);
            let (_s2, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let http = ReqwestHttp::new(Duration::from_secs(2), Duration::from_millis(300));
        let url = Url::parse(&format!("http://{addr}/x")).unwrap();
        let r = http.send(HttpRequest::get(url.clone())).await.unwrap();
        assert_eq!(r.status, 302);
        let e = http.send(HttpRequest::get(url)).await.unwrap_err();
        assert_eq!(e.kind, TransportErrorKind::Timeout, "{e}");
    }

    /// A TCP server on loopback that records the head of every request it gets (a SOCKS
    /// greeting as `socks<version>`), answers plain requests with `{"via":"<name>"}`, refuses
    /// `CONNECT` with 403, and closes.
    struct Recorder {
        addr: std::net::SocketAddr,
        seen: Arc<std::sync::Mutex<Vec<String>>>,
    }

    impl Recorder {
        async fn start(name: &'static str) -> Recorder {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
            let log = seen.clone();
            tokio::spawn(async move {
                while let Ok((mut s, _)) = listener.accept().await {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while let Ok(n @ 1..) = s.read(&mut buf).await {
                        head.extend_from_slice(&buf[..n]);
                        if matches!(head[0], 4 | 5) || head.windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    if head.is_empty() {
                        continue;
                    }
                    if matches!(head[0], 4 | 5) {
                        log.lock().unwrap().push(format!("socks{}", head[0]));
                        continue;
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    let answer = if text.starts_with("CONNECT ") {
                        "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n".to_owned()
                    } else {
                        let body = format!("{{\"via\":\"{name}\"}}");
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    log.lock().unwrap().push(text);
                    let _ = s.write_all(answer.as_bytes()).await;
                }
            });
            Recorder { addr, seen }
        }

        fn seen(&self) -> Vec<String> {
            self.seen.lock().unwrap().clone()
        }

        fn url(&self) -> String {
            format!("http://{}", self.addr)
        }
    }

    fn proxy_vars(pairs: &[(&str, String)]) -> ProxySettings {
        let map: std::collections::BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        ProxySettings::from_vars(|name| map.get(name).cloned())
    }

    /// A Kakao-like host goes through HTTP_PROXY (credentials as `Proxy-Authorization`); with
    /// the host in NO_PROXY it goes straight to the host, and the proxy sees nothing.
    #[tokio::test]
    async fn kakao_hosts_go_through_the_proxy_unless_no_proxy_lists_them() {
        let proxy = Recorder::start("proxy").await;
        let host = Recorder::start("host").await;
        let port = host.addr.port();
        let target =
            Url::parse(&format!("http://kauth.example.invalid:{port}/oauth/token")).unwrap();
        let with_auth = format!("http://alice:open%20sesame@{}", proxy.addr);
        // `resolve`: a direct request must reach `host` without asking DNS for a name that
        // does not exist.
        let http = ReqwestHttp::with_default_timeouts()
            .with_proxy(proxy_vars(&[("HTTP_PROXY", with_auth.clone())]))
            .resolve("kauth.example.invalid", host.addr);
        let r = http.send(HttpRequest::get(target.clone())).await.unwrap();
        assert_eq!(String::from_utf8_lossy(&r.body), r#"{"via":"proxy"}"#);
        let seen = proxy.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            seen[0].starts_with(&format!("GET {target} HTTP/1.1\r\n")),
            "{}",
            seen[0]
        );
        // base64("alice:open sesame")
        assert!(
            seen[0]
                .to_ascii_lowercase()
                .contains("proxy-authorization: basic ywxpy2u6b3blbibzzxnhbwu="),
            "{}",
            seen[0]
        );
        assert!(host.seen().is_empty());

        for no_proxy in ["kauth.example.invalid", ".example.invalid", "*"] {
            let http = ReqwestHttp::with_default_timeouts()
                .with_proxy(proxy_vars(&[
                    ("HTTP_PROXY", with_auth.clone()),
                    ("NO_PROXY", no_proxy.into()),
                ]))
                .resolve("kauth.example.invalid", host.addr);
            let r = http.send(HttpRequest::get(target.clone())).await.unwrap();
            assert_eq!(
                String::from_utf8_lossy(&r.body),
                r#"{"via":"host"}"#,
                "NO_PROXY={no_proxy}"
            );
        }
        assert_eq!(proxy.seen().len(), 1, "NO_PROXY hosts reached the proxy");
        let direct = host.seen();
        assert_eq!(direct.len(), 3);
        assert!(direct
            .iter()
            .all(|h| h.starts_with("GET /oauth/token HTTP/1.1\r\n")
                && !h.to_ascii_lowercase().contains("proxy-authorization")));
    }

    /// HTTPS to a Kakao-like host is tunnelled through HTTPS_PROXY with CONNECT; through
    /// ALL_PROXY when it is a SOCKS5 proxy.
    #[tokio::test]
    async fn https_is_tunnelled_through_https_proxy_or_a_socks_all_proxy() {
        let proxy = Recorder::start("proxy").await;
        let target = Url::parse("https://kauth.example.invalid/oauth/token").unwrap();
        let http = ReqwestHttp::with_default_timeouts()
            .with_proxy(proxy_vars(&[("HTTPS_PROXY", proxy.url())]));
        // The recorder refuses the tunnel: no response, but the proxy was asked.
        let e = http
            .send(HttpRequest::get(target.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.kind, TransportErrorKind::Connect, "{e}");
        let seen = proxy.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            seen[0].starts_with("CONNECT kauth.example.invalid:443 HTTP/1.1\r\n"),
            "{}",
            seen[0]
        );

        let socks = Recorder::start("socks").await;
        let http = ReqwestHttp::with_default_timeouts().with_proxy(proxy_vars(&[(
            "ALL_PROXY",
            format!("socks5h://{}", socks.addr),
        )]));
        assert!(http.send(HttpRequest::get(target)).await.is_err());
        assert_eq!(socks.seen(), vec!["socks5".to_owned()]);
    }

    /// Loopback goes direct with every proxy variable set; the proxy never hears of it.
    #[tokio::test]
    async fn loopback_never_goes_through_the_proxy() {
        let proxy = Recorder::start("proxy").await;
        let host = Recorder::start("host").await;
        let port = host.addr.port();
        let http = ReqwestHttp::with_default_timeouts().with_proxy(proxy_vars(&[
            ("HTTP_PROXY", proxy.url()),
            ("HTTPS_PROXY", proxy.url()),
            ("ALL_PROXY", proxy.url()),
        ]));
        for target in [
            format!("http://127.0.0.1:{port}/oauth/token"),
            format!("http://localhost:{port}/v2/user/me"),
        ] {
            let r = http
                .send(HttpRequest::get(Url::parse(&target).unwrap()))
                .await
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&r.body),
                r#"{"via":"host"}"#,
                "{target}"
            );
        }
        assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
        assert_eq!(host.seen().len(), 2);
    }
}
