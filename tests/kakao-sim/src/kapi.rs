//! kapi: the Kakao Login user APIs. Errors are `{msg, code}`.

use crate::state::{KapiErr, ACCOUNT_GROUPS};
use crate::util::{json_response, parse_form};
use crate::Shared;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn err(e: KapiErr) -> Response<Body> {
    let mut r = json_response(e.status, &e.body());
    if e.code == -401 {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=invalid_token"),
        );
    }
    r
}

fn ok(v: Value) -> Response<Body> {
    json_response(StatusCode::OK, &v)
}

fn auth_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Query parameters, plus the form body for POST.
fn params(method: &Method, uri: &Uri, body: &Bytes) -> HashMap<String, String> {
    let mut p = parse_form(uri.query().unwrap_or("")).0;
    if method == Method::POST {
        p.extend(parse_form(&String::from_utf8_lossy(body)).0);
    }
    p
}

fn json_list(p: &HashMap<String, String>, name: &str) -> Result<Option<Vec<String>>, KapiErr> {
    match p.get(name) {
        None => Ok(None),
        Some(s) => serde_json::from_str::<Vec<String>>(s)
            .map(Some)
            .map_err(|_| {
                KapiErr::new(
                    400,
                    -2,
                    format!("{name} must be a JSON array of strings, e.g. [\"account_email\"]"),
                )
            }),
    }
}

/// Runs `f` with the signed-in user of the Bearer token.
fn with_user(
    sh: &Shared,
    headers: &HeaderMap,
    f: impl FnOnce(&mut crate::state::State, i64, i64) -> Result<Value, KapiErr>,
) -> Response<Body> {
    let now = sh.now();
    let mut st = sh.lock();
    match st.bearer(auth_header(headers), now) {
        Ok(uid) => match f(&mut st, uid, now) {
            Ok(v) => ok(v),
            Err(e) => err(e),
        },
        Err(e) => err(e),
    }
}

/// `GET|POST /v2/user/me`.
pub async fn user_me(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let p = params(&method, &uri, &body);
    let base = sh.base_url.clone();
    with_user(&sh, &headers, |st, uid, _| {
        let keys = json_list(&p, "property_keys")?;
        if let Some(keys) = &keys {
            for k in keys {
                let valid = matches!(
                    k.as_str(),
                    "id" | "has_signed_up" | "connected_at" | "synched_at" | "kakao_account."
                ) || k.starts_with("properties.")
                    || k.strip_prefix("kakao_account.")
                        .is_some_and(|g| ACCOUNT_GROUPS.contains(&g));
                if !valid {
                    return Err(KapiErr::new(
                        400,
                        -2,
                        format!("invalid property_keys: [{k}]"),
                    ));
                }
            }
        }
        let secure = p.get("secure_resource").is_some_and(|v| v == "true");
        Ok(st.user_me(uid, keys.as_deref(), secure, &base))
    })
}

/// `GET /v1/user/access_token_info`.
pub async fn access_token_info(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Response<Body> {
    let auth = auth_header(&headers).map(String::from);
    with_user(&sh, &headers, |st, uid, now| {
        let exp = st.access_expires_at(auth.as_deref()).unwrap_or(now);
        Ok(json!({"id": uid, "expires_in": exp - now, "app_id": st.app.app_id}))
    })
}

/// `POST /v1/user/logout` with a Bearer token: revokes that token and the refresh token issued
/// with it; the member's other sessions stay signed in (REFERENCE §4c, Decision 12).
pub async fn logout(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Response<Body> {
    let token = auth_header(&headers)
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    with_user(&sh, &headers, |st, uid, _| {
        st.revoke_grant_of(&token);
        st.stats.user_logouts += 1;
        Ok(json!({"id": uid}))
    })
}

/// `POST /v1/user/unlink`: tokens dead, consents withdrawn.
pub async fn unlink(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Response<Body> {
    with_user(&sh, &headers, |st, uid, _| {
        st.unlink(uid);
        st.stats.unlinks += 1;
        Ok(json!({"id": uid}))
    })
}

/// `GET /v2/user/scopes`.
pub async fn scopes(State(sh): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let p = params(&Method::GET, &uri, &Bytes::new());
    with_user(&sh, &headers, |st, uid, _| {
        let filter = json_list(&p, "scopes")?;
        Ok(st.scopes(uid, filter.as_deref()))
    })
}

/// `POST /v2/user/revoke/scopes`.
pub async fn revoke_scopes(
    State(sh): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let p = params(&Method::POST, &uri, &body);
    with_user(&sh, &headers, |st, uid, _| {
        let ids = json_list(&p, "scopes")?.ok_or_else(|| {
            KapiErr::new(
                400,
                -2,
                "scopes is required, e.g. scopes=[\"account_email\"]",
            )
        })?;
        st.revoke_scopes(uid, &ids)
    })
}

/// `GET|POST /v1/oidc/userinfo`.
pub async fn oidc_userinfo(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Response<Body> {
    let base = sh.base_url.clone();
    with_user(&sh, &headers, |st, uid, _| {
        if !st.app.oidc {
            return Err(KapiErr::new(
                403,
                -3,
                "[APP] App disabled [openid] scopes for [OIDC_USERINFO] API on developers.kakao.com. Enable it first.",
            ));
        }
        Ok(st.oidc_userinfo(uid, &base))
    })
}

/// `GET /v1/user/shipping_address`: needs the `shipping_address` consent. This is the
/// simulator's `-402` trigger: configured but not agreed → 403 `-402` with
/// `required_scopes`, `allowed_scopes` and `api_type`; not configured → 403 `-3`.
pub async fn shipping_address(State(sh): State<Arc<Shared>>, headers: HeaderMap) -> Response<Body> {
    with_user(&sh, &headers, |st, uid, _| {
        if st.item("shipping_address").is_none() {
            return Err(KapiErr::new(
                403,
                -3,
                "[APP] App disabled [shipping_address] scopes for [USER_SHIPPING_ADDRESS] API on developers.kakao.com. Enable it first.",
            ));
        }
        if !st.agreed(uid, "shipping_address") {
            let mut e = KapiErr::new(403, -402, "insufficient scopes");
            let mut extra = serde_json::Map::new();
            extra.insert("api_type".into(), json!("USER_SHIPPING_ADDRESS"));
            extra.insert("required_scopes".into(), json!(["shipping_address"]));
            extra.insert("allowed_scopes".into(), json!(st.agreed_scopes(uid)));
            e.extra = Some(extra);
            return Err(e);
        }
        Ok(
            json!({"user_id": uid, "shipping_addresses_needs_agreement": false, "shipping_addresses": []}),
        )
    })
}
