//! Helpers shared by the conformance tests: a cookie-keeping "browser" without redirects,
//! and the authorize → login → consent → code → token steps over real HTTP.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kakao_sim::{Sim, SimConfig};
use reqwest::{redirect::Policy, Client, Response, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const CLIENT_ID: &str = "sandbox-rest-api-key";
pub const REDIRECT: &str = "http://127.0.0.1:18682/callback";
pub const FULL: i64 = 3_000_000_000_000_000_001;
pub const NOEMAIL: i64 = 3_000_000_000_000_000_002;
pub const NONICK: i64 = 3_000_000_000_000_000_003;
pub const NOTALK: i64 = 3_000_000_000_000_000_004;
pub const PASSWORD: &str = "demo1234";

pub async fn demo() -> Sim {
    Sim::start(SimConfig::demo()).await.expect("sim starts")
}

/// A browser: keeps cookies, does not follow redirects.
pub struct Browser {
    pub client: Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            client: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
        }
    }
    pub async fn get(&self, url: &str) -> Response {
        self.client.get(url).send().await.unwrap()
    }
    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Response {
        self.client.post(url).form(form).send().await.unwrap()
    }
}

/// Plain API client (no cookies, no redirects, no proxy: the simulator is on loopback).
pub fn api() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

pub fn authorize_url(sim: &Sim, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&format!("{}/oauth/authorize", sim.base_url())).unwrap();
    {
        let mut q = u.query_pairs_mut();
        let has = |k: &str| extra.iter().any(|(x, _)| *x == k);
        if !has("client_id") {
            q.append_pair("client_id", CLIENT_ID);
        }
        if !has("redirect_uri") {
            q.append_pair("redirect_uri", REDIRECT);
        }
        if !has("response_type") {
            q.append_pair("response_type", "code");
        }
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// The hidden pending-authorization id in a page.
pub fn tx_of(html: &str) -> String {
    let i = html
        .find(r#"name="tx" value=""#)
        .expect("page has a tx field")
        + 17;
    html[i..].split('"').next().unwrap().to_string()
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .unwrap()
        .to_string()
}

pub fn query_of(loc: &str) -> HashMap<String, String> {
    url::Url::parse(loc)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode([7u8; 64]);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// How to answer the consent page.
pub enum Consent<'a> {
    /// Tick "전체 동의".
    All,
    /// Tick exactly these (required ones must be included by the caller).
    Only(&'a [&'a str]),
    /// Press Cancel.
    Cancel,
}

pub async fn login_post(sim: &Sim, b: &Browser, tx: &str, login: &str, keep: bool) -> Response {
    let mut form = vec![("tx", tx), ("login_id", login), ("password", PASSWORD)];
    if keep {
        form.push(("keep", "1"));
    }
    b.post(&format!("{}/oauth/login", sim.base_url()), &form)
        .await
}

pub async fn consent_post(sim: &Sim, b: &Browser, tx: &str, consent: Consent<'_>) -> Response {
    let mut form: Vec<(&str, &str)> = vec![("tx", tx)];
    match consent {
        Consent::All => {
            form.push(("consent_all", "1"));
            form.push(("action", "agree"));
        }
        Consent::Only(items) => {
            for i in items {
                form.push(("scope", i));
            }
            form.push(("action", "agree"));
        }
        Consent::Cancel => form.push(("action", "cancel")),
    }
    b.post(&format!("{}/oauth/consent", sim.base_url()), &form)
        .await
}

/// Runs the browser side until the redirect to the app; returns the redirect's query.
/// Logs in with `login` if the login page appears; answers the consent page if it appears.
pub async fn browser_flow(
    sim: &Sim,
    b: &Browser,
    login: &str,
    extra: &[(&str, &str)],
    consent: Consent<'_>,
) -> HashMap<String, String> {
    let mut r = b.get(&authorize_url(sim, extra)).await;
    let mut consent = Some(consent);
    for _ in 0..4 {
        if r.status() == StatusCode::FOUND {
            let loc = location(&r);
            assert!(
                loc.starts_with("http://127.0.0.1:1868"),
                "redirect to the app: {loc}"
            );
            return query_of(&loc);
        }
        assert_eq!(r.status(), StatusCode::OK, "page expected");
        let html = r.text().await.unwrap();
        let tx = tx_of(&html);
        if html.contains(r#"id="login-submit""#) {
            r = login_post(sim, b, &tx, login, false).await;
        } else if html.contains(r#"id="consent-agree""#) {
            r = consent_post(sim, b, &tx, consent.take().expect("one consent page")).await;
        } else {
            panic!("unexpected page: {html}");
        }
    }
    panic!("no redirect to the app");
}

/// Code grant at the token endpoint.
pub async fn exchange(sim: &Sim, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = api()
        .post(format!("{}/oauth/token", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

/// Full sign-in with PKCE and "agree to all"; returns the token response.
pub async fn sign_in(sim: &Sim, login: &str) -> Value {
    let b = Browser::new();
    let (verifier, challenge) = pkce();
    let q = browser_flow(
        sim,
        &b,
        login,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("nonce", "n-1"),
        ],
        Consent::All,
    )
    .await;
    let code = q.get("code").expect("code").clone();
    let (status, v) = exchange(
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code", &code),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

pub async fn refresh(sim: &Sim, rt: &str) -> (StatusCode, Value) {
    exchange(
        sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", rt),
        ],
    )
    .await
}

/// kapi call with a bearer token; returns status, headers, JSON.
pub async fn kapi(
    sim: &Sim,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = api().request(method.clone(), format!("{}{}", sim.base_url(), path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = if method == reqwest::Method::GET {
        req.query(form)
    } else {
        req.form(form)
    };
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"));
    (status, headers, v)
}

pub fn at(v: &Value) -> String {
    v["access_token"].as_str().unwrap().to_string()
}
pub fn rt(v: &Value) -> String {
    v["refresh_token"].as_str().unwrap().to_string()
}
