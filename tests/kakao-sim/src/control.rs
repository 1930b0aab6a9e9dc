//! Control path `/__sim/` (JSON), so that a process holding only the URL can drive the
//! simulator like the library does. Not part of Kakao.

use crate::{pages, Endpoint, Fault, Profile, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

type Sh = State<Arc<Shared>>;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__sim/clock", get(clock))
        .route("/__sim/clock/advance", post(advance))
        .route("/__sim/fault", post(set_fault))
        .route("/__sim/faults", delete(clear_faults).get(list_faults))
        .route("/__sim/stats", get(stats))
        .route("/__sim/state", get(state))
        .route("/__sim/log", get(log))
        .route("/__sim/rotate_signing_key", post(rotate))
        .route("/__sim/tokens/check", post(check_tokens))
        .route(
            "/__sim/users/{id}/expire_refresh_tokens",
            post(expire_refresh),
        )
        .route("/__sim/users/{id}/profile", put(set_profile))
        .route("/__sim/img/{name}", get(pages::image))
}

async fn clock(State(sh): Sh) -> Json<Value> {
    Json(json!({"now_unix": sh.now()}))
}

#[derive(Deserialize)]
struct Advance {
    secs: i64,
}

async fn advance(State(sh): Sh, Json(a): Json<Advance>) -> Json<Value> {
    sh.clock
        .offset
        .fetch_add(a.secs, std::sync::atomic::Ordering::SeqCst);
    Json(json!({"now_unix": sh.now()}))
}

#[derive(Deserialize)]
struct SetFault {
    endpoint: Endpoint,
    fault: Fault,
    /// Optional: only the next `times` requests.
    #[serde(default)]
    times: Option<u32>,
}

async fn set_fault(State(sh): Sh, Json(f): Json<SetFault>) -> StatusCode {
    let fault = match f.times {
        Some(n) => Fault::Times(n, Box::new(f.fault)),
        None => f.fault,
    };
    sh.lock().faults.insert(f.endpoint, fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(sh): Sh) -> StatusCode {
    sh.lock().faults.clear();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(sh): Sh) -> Json<Value> {
    let st = sh.lock();
    let m: serde_json::Map<String, Value> = st
        .faults
        .iter()
        .map(|(e, f)| {
            (
                e.name().to_string(),
                serde_json::to_value(f).unwrap_or(Value::Null),
            )
        })
        .collect();
    Json(Value::Object(m))
}

async fn stats(State(sh): Sh) -> Json<crate::Stats> {
    Json(sh.stats())
}

async fn state(State(sh): Sh) -> Json<Value> {
    let now = sh.now();
    let stats = sh.stats();
    let st = sh.lock();
    let users: Vec<Value> = st
        .users
        .values()
        .map(|u| {
            json!({
                "id": u.cfg.id,
                "login": u.cfg.login,
                "connected": u.connected_at.is_some(),
                "consents": st.agreed_scopes(u.cfg.id),
                "live_access_tokens": st.access.values().filter(|t| t.user_id == u.cfg.id && t.expires_at > now).count(),
                "live_refresh_tokens": st.refresh.values().filter(|t| t.user_id == u.cfg.id && t.expires_at > now).count(),
            })
        })
        .collect();
    let faults: serde_json::Map<String, Value> = st
        .faults
        .iter()
        .map(|(e, f)| {
            (
                e.name().to_string(),
                serde_json::to_value(f).unwrap_or(Value::Null),
            )
        })
        .collect();
    Json(json!({
        "now_unix": now,
        "base_url": sh.base_url,
        "client_id": st.app.client_id,
        "users": users,
        "browser_sessions": stats.browser_sessions,
        "pending_authorizations": st.pending.len(),
        "live_codes": st.codes.values().filter(|c| c.expires_at > now).count(),
        "signing_keys": st.published_keys(now).map(|k| k.kid.clone()).collect::<Vec<_>>(),
        "current_kid": st.keys.last().map(|k| k.kid.clone()),
        "faults": faults,
    }))
}

async fn log(State(sh): Sh) -> Json<Vec<crate::LoggedRequest>> {
    Json(sh.lock().log.clone())
}

async fn rotate(State(sh): Sh) -> Json<Value> {
    let sh2 = sh.clone();
    let _ = tokio::task::spawn_blocking(move || sh2.rotate_signing_key()).await;
    let kid = sh.lock().keys.last().map(|k| k.kid.clone());
    Json(json!({"current_kid": kid}))
}

#[derive(Deserialize)]
struct Check {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

async fn check_tokens(State(sh): Sh, Json(c): Json<Check>) -> Json<Value> {
    let now = sh.now();
    let st = sh.lock();
    let a = c
        .access_token
        .map(|t| st.access.get(&t).is_some_and(|x| x.expires_at > now));
    let r = c
        .refresh_token
        .map(|t| st.refresh.get(&t).is_some_and(|x| x.expires_at > now));
    Json(json!({"access_token_live": a, "refresh_token_live": r}))
}

async fn expire_refresh(State(sh): Sh, Path(id): Path<i64>) -> StatusCode {
    sh.expire_refresh_tokens_of(id);
    StatusCode::NO_CONTENT
}

async fn set_profile(State(sh): Sh, Path(id): Path<i64>, Json(p): Json<Profile>) -> StatusCode {
    let mut st = sh.lock();
    match st.users.get_mut(&id) {
        Some(u) => {
            u.cfg.profile = p;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}
