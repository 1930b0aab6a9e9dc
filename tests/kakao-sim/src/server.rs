//! HTTP plumbing: the accept loop (so a fault can drop a connection), routing, the
//! middleware that logs requests, counts hits and injects faults.

use crate::state::{KapiErr, KauthErr};
use crate::util::{html_response, json_response};
use crate::{control, kapi, kauth, pages, Endpoint, Fault, LoggedRequest, Shared};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use axum::middleware::Next;
use axum::routing::{get, post};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Lets a handler close its connection without answering (fault `Drop`).
#[derive(Clone)]
pub struct ConnKiller(pub Arc<Notify>);

pub fn router(sh: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/oauth/authorize", get(kauth::authorize))
        .route("/oauth/login", post(kauth::login_post))
        .route("/oauth/select", post(kauth::select_post))
        .route("/oauth/consent", post(kauth::consent_post))
        .route("/oauth/logout", get(kauth::oauth_logout))
        .route("/oauth/logout/choose", post(kauth::oauth_logout_choose))
        .route("/oauth/token", post(kauth::token))
        .route("/oauth/tokeninfo", post(kauth::tokeninfo))
        .route("/.well-known/openid-configuration", get(kauth::discovery))
        .route("/.well-known/jwks.json", get(kauth::jwks))
        .route("/v2/user/me", get(kapi::user_me).post(kapi::user_me))
        .route("/v1/user/access_token_info", get(kapi::access_token_info))
        .route("/v1/user/logout", post(kapi::logout))
        .route("/v1/user/unlink", post(kapi::unlink))
        .route("/v2/user/scopes", get(kapi::scopes))
        .route("/v2/user/revoke/scopes", post(kapi::revoke_scopes))
        .route(
            "/v1/oidc/userinfo",
            get(kapi::oidc_userinfo).post(kapi::oidc_userinfo),
        )
        .route("/v1/user/shipping_address", get(kapi::shipping_address))
        .merge(control::routes())
        .layer(axum::middleware::from_fn_with_state(sh.clone(), middleware))
        .with_state(sh)
}

/// Which endpoint a path belongs to.
pub fn classify(path: &str) -> Option<Endpoint> {
    Some(match path {
        "/oauth/authorize" | "/oauth/login" | "/oauth/select" | "/oauth/consent" => {
            Endpoint::Authorize
        }
        "/oauth/token" => Endpoint::Token,
        "/oauth/tokeninfo" => Endpoint::TokenInfo,
        "/.well-known/jwks.json" => Endpoint::Jwks,
        "/.well-known/openid-configuration" => Endpoint::Discovery,
        "/v2/user/me" => Endpoint::UserMe,
        "/v1/user/access_token_info" => Endpoint::AccessTokenInfo,
        "/v1/user/logout" => Endpoint::Logout,
        "/v1/user/unlink" => Endpoint::Unlink,
        "/v2/user/scopes" => Endpoint::Scopes,
        "/v2/user/revoke/scopes" => Endpoint::RevokeScopes,
        "/v1/oidc/userinfo" => Endpoint::OidcUserInfo,
        "/oauth/logout" | "/oauth/logout/choose" => Endpoint::OauthLogout,
        "/v1/user/shipping_address" => Endpoint::ShippingAddress,
        p if p.starts_with("/__sim/img/") => Endpoint::ProfileImage,
        _ => return None,
    })
}

fn plain(status: u16) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = Response::new(Body::from(
        status.canonical_reason().unwrap_or("error").to_string(),
    ));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    r
}

/// Kakao-shaped error for an injected transient / rate-limit fault.
fn shaped(ep: Endpoint, transient: bool) -> Response<Body> {
    if ep.is_kapi() {
        let e = if transient {
            KapiErr::transient()
        } else {
            KapiErr::rate_limited()
        };
        json_response(e.status, &e.body())
    } else if ep.is_page() {
        let (code, status, what) = if transient {
            ("KOE003", StatusCode::INTERNAL_SERVER_ERROR, "일시적인 서버 오류입니다. 잠시 후 다시 시도해 주세요. / Temporary Kakao server error, please retry.")
        } else {
            (
                "KOE237",
                StatusCode::TOO_MANY_REQUESTS,
                "요청이 너무 많습니다. / Too many requests.",
            )
        };
        html_response(status, pages::error_page(code, what))
    } else {
        let e = if transient {
            KauthErr::transient()
        } else {
            KauthErr::rate_limited()
        };
        json_response(e.status, &e.body())
    }
}

async fn truncate(resp: Response<Body>) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.len() / 2;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..cut)))
}

/// A 200 of `bytes` bytes: JSON (`{}` padded with spaces) or, for the picture, a PNG's
/// signature padded with zeros; chunked without `Content-Length` unless `declared`. Made 64 KiB
/// at a time as the connection takes it (so `bytes` may be far more than fits in memory), each
/// chunk counted in [`Stats::oversized_bytes_sent`](crate::Stats::oversized_bytes_sent).
fn oversized(sh: &Arc<Shared>, ep: Endpoint, bytes: usize, declared: bool) -> Response<Body> {
    const CHUNK: usize = 64 * 1024;
    let (content_type, head, pad): (&'static str, &'static [u8], u8) =
        if ep == Endpoint::ProfileImage {
            ("image/png", b"\x89PNG\r\n\x1a\n", 0)
        } else {
            ("application/json;charset=UTF-8", b"{}", b' ')
        };
    let total = bytes.max(head.len());
    let sh = sh.clone();
    let stream = futures::stream::unfold(0usize, move |sent| {
        let sh = sh.clone();
        async move {
            if sent >= total {
                return None;
            }
            let n = CHUNK.min(total - sent);
            let mut chunk = vec![pad; n];
            if sent == 0 {
                chunk[..head.len()].copy_from_slice(head);
            }
            sh.lock().stats.oversized_bytes_sent += n as u64;
            Some((Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)), sent + n))
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    if declared {
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(total as u64));
    }
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn middleware(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response<Body> {
    let mut resp = answer(&sh, req, next).await;
    stamp_date(&sh, &mut resp);
    resp
}

/// Real Kakao's answers carry a `Date` header from Kakao's clock (RFC 9110 §6.6.1), and the app
/// reads Kakao's time from it; so the simulator's carry the simulator's clock, not the host's
/// (hyper writes the host's only when no `Date` is there).
fn stamp_date(sh: &Shared, resp: &mut Response<Body>) {
    let secs = u64::try_from(sh.now()).unwrap_or(0);
    // httpdate writes four-digit years only; a clock pushed past 9999 says 9999.
    let secs = secs.min(253_402_300_799);
    let date =
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    if let Ok(v) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::DATE, v);
    }
}

async fn answer(sh: &Arc<Shared>, req: Request, next: Next) -> Response<Body> {
    let path = req.uri().path().to_string();
    // The control routes are the tests' own; the pictures are Kakao's (its CDN).
    if path.starts_with("/__sim/") && classify(&path).is_none() {
        return next.run(req).await;
    }
    let start_us = sh.clock.elapsed_us();
    let method = req.method().clone();
    let ep = classify(&path);
    let query_keys: Vec<String> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect()
        })
        .unwrap_or_default();
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let has_authorization = req.headers().contains_key(header::AUTHORIZATION);
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let form_keys: Vec<String> = if is_form {
        url::form_urlencoded::parse(&bytes)
            .map(|(k, _)| k.into_owned())
            .collect()
    } else {
        vec![]
    };
    let now = sh.now();
    let fault = {
        let mut st = sh.lock();
        if let Some(ep) = ep {
            *st.stats.endpoint_hits.entry(ep.name().into()).or_default() += 1;
            if path == "/oauth/authorize" && method == Method::GET {
                st.stats.authorize_hits += 1;
            }
        }
        ep.and_then(|e| st.take_fault(e))
    };
    tracing::debug!(%method, %path, "kakao-sim request");
    let killer = parts.extensions.get::<ConnKiller>().cloned();
    let req = Request::from_parts(parts, Body::from(bytes));
    let mut entry = LoggedRequest {
        at_unix: now,
        method: method.to_string(),
        path,
        endpoint: ep,
        query_keys,
        form_keys,
        has_authorization,
        status: 0,
        start_us,
        end_us: 0,
    };
    let resp = match (fault, ep) {
        (None, _) | (Some(Fault::Times(..)), _) | (Some(_), None) => next.run(req).await,
        (Some(Fault::Latency(d)), _) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        (Some(Fault::Status(s)), _) => plain(s),
        (Some(Fault::Malformed), _) => truncate(next.run(req).await).await,
        (Some(Fault::Oversized { bytes, declared }), Some(ep)) => {
            oversized(sh, ep, bytes, declared)
        }
        (Some(Fault::KakaoTransient), Some(ep)) => shaped(ep, true),
        (Some(Fault::RateLimit), Some(ep)) => shaped(ep, false),
        (
            Some(Fault::KauthError {
                status,
                error,
                error_code,
            }),
            _,
        ) => {
            let body = serde_json::json!({
                "error": error,
                "error_description": "simulated error",
            });
            let mut body = body;
            if let Some(c) = error_code {
                body["error_code"] = serde_json::json!(c);
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            json_response(status, &body)
        }
        (Some(Fault::KapiError { status, code }), _) => {
            let e = KapiErr::new(status, code, format!("simulated error {code}"));
            json_response(e.status, &e.body())
        }
        (Some(Fault::RedirectError { error, description }), _) => {
            let q = crate::util::parse_form(req.uri().query().unwrap_or("")).0;
            match q.get("redirect_uri") {
                Some(uri) => {
                    let mut pairs = vec![
                        ("error", error.as_str()),
                        ("error_description", description.as_str()),
                    ];
                    if let Some(state) = q.get("state") {
                        pairs.push(("state", state.as_str()));
                    }
                    crate::util::redirect(&crate::util::with_query(uri, &pairs))
                }
                None => next.run(req).await,
            }
        }
        (Some(Fault::Drop), _) => {
            push_log(sh, entry);
            if let Some(k) = killer {
                k.0.notify_one();
            }
            return std::future::pending().await;
        }
    };
    entry.status = resp.status().as_u16();
    push_log(sh, entry);
    resp
}

fn push_log(sh: &Shared, mut entry: LoggedRequest) {
    entry.end_us = sh.clock.elapsed_us();
    let mut st = sh.lock();
    if st.log.len() >= 100_000 {
        st.log.drain(..10_000);
    }
    st.log.push(entry);
}

/// Accept loop; each connection is served by hyper and can be killed by a `Drop` fault.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sh: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let app = router(sh);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let killer = Arc::new(Notify::new());
            let k = killer.clone();
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnKiller(k.clone()));
                let svc = TowerToHyperService::new(app.clone());
                hyper::service::Service::call(&svc, req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = killer.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}
