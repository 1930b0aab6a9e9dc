//! kauth: the browser flow (`/oauth/authorize` and its pages, `/oauth/logout`) and the
//! OAuth/OIDC API (`/oauth/token`, `/oauth/tokeninfo`, discovery, JWKS).

use crate::pages;
use crate::state::{BrowserSession, Pending, SessAccount, State as SimState};
use crate::util::{
    cookie, html_response, json_response, parse_form, random_token, redirect, split_list,
    with_query,
};
use crate::Shared;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode, Uri};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

fn err_page(code: &str, explanation: &str) -> Response<Body> {
    html_response(
        StatusCode::BAD_REQUEST,
        pages::error_page(code, explanation),
    )
}

fn query(uri: &Uri) -> HashMap<String, String> {
    parse_form(uri.query().unwrap_or("")).0
}

fn redirect_error(p: &Pending, error: &str, description: &str) -> Response<Body> {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = &p.state {
        pairs.push(("state", s));
    }
    redirect(&with_query(&p.redirect_uri, &pairs))
}

fn redirect_code(p: &Pending, code: &str) -> Response<Body> {
    let mut pairs = vec![("code", code)];
    if let Some(s) = &p.state {
        pairs.push(("state", s));
    }
    redirect(&with_query(&p.redirect_uri, &pairs))
}

fn session<'a>(
    st: &'a SimState,
    sh: &Shared,
    headers: &HeaderMap,
) -> Option<(String, &'a BrowserSession)> {
    let sid = cookie(headers, &sh.cookie_name())?;
    st.sessions.get(&sid).map(|s| (sid, s))
}

fn login_for(
    st: &SimState,
    tx: &str,
    p: &Pending,
    error: Option<&str>,
    prefill: Option<&str>,
) -> Response<Body> {
    let prefill = prefill
        .map(String::from)
        .or_else(|| p.login_hint.clone())
        .unwrap_or_default();
    let note = p.prompts.contains("create").then_some(
        "계정 만들기(prompt=create)는 시뮬레이터에서 지원하지 않습니다. 설정된 계정으로 로그인하세요. Sign-up is not simulated; sign in with a configured account.",
    );
    let _ = st;
    html_response(StatusCode::OK, pages::login_page(tx, &prefill, error, note))
}

fn consent_for(
    st: &SimState,
    tx: &str,
    user_id: i64,
    scope: Option<&[String]>,
    error: Option<&str>,
) -> Response<Body> {
    let plan = st.consent_plan(user_id, scope);
    let items: Vec<_> = plan
        .show
        .iter()
        .map(|i| (i.clone(), !st.has_value(user_id, &i.id) && i.collect))
        .collect();
    let nick = st.users[&user_id]
        .cfg
        .profile
        .nickname
        .clone()
        .unwrap_or_else(|| st.users[&user_id].cfg.login.clone());
    html_response(
        StatusCode::OK,
        pages::consent_page(tx, &nick, &st.app.client_id, &items, error),
    )
}

/// The user is known: show the consent page when needed, else issue the code.
fn proceed(st: &mut SimState, tx: &str, user_id: i64, auth_time: i64, now: i64) -> Response<Body> {
    let Some(p) = st.pending.get_mut(tx) else {
        return err_page(
            "KOE001",
            "요청이 만료되었습니다. Expired or unknown authorization request.",
        );
    };
    p.user = Some((user_id, auth_time));
    let p = p.clone();
    let plan = st.consent_plan(user_id, p.scope.as_deref());
    if plan.needed {
        return consent_for(st, tx, user_id, p.scope.as_deref(), None);
    }
    st.agree(user_id, plan.auto, now);
    st.pending.remove(tx);
    let code = st.issue_code(&p, user_id, auth_time, now);
    redirect_code(&p, &code)
}

fn set_cookie(resp: &mut Response<Body>, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `GET /oauth/authorize`.
pub async fn authorize(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response<Body> {
    let q = query(&uri);
    let now = sh.now();
    let mut st = sh.lock();
    let get = |k: &str| q.get(k).map(String::as_str);
    if get("client_id") != Some(st.app.client_id.as_str()) {
        return err_page(
            "KOE101",
            "잘못된 앱 키입니다. Invalid app key (client_id): no such REST API key.",
        );
    }
    let redirect_uri = get("redirect_uri").unwrap_or("");
    if !st.app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return err_page(
            "KOE006",
            &format!("등록되지 않은 리다이렉트 URI입니다. The redirect_uri \"{redirect_uri}\" is not registered for this app ([앱] > [플랫폼 키] > [REST API 키] > 리다이렉트 URI)."),
        );
    }
    match get("response_type") {
        Some("code") => {}
        Some("token") => {
            return err_page(
                "KOE202",
                "Implicit grant (response_type=token) is not supported; use response_type=code.",
            )
        }
        other => {
            return err_page(
                "KOE201",
                &format!("Unsupported response type: {}", other.unwrap_or("")),
            )
        }
    }
    let scope = get("scope").map(split_list);
    if let Some(s) = &scope {
        let unknown: Vec<&str> = s
            .iter()
            .filter(|x| st.item(x).is_none())
            .map(String::as_str)
            .collect();
        // With OpenID Connect switched off, `openid` is not something the app may ask for
        // (REFERENCE §7; Kakao's KOE205 page never redirects).
        let openid_off = s.iter().any(|x| x == "openid") && !st.app.oidc;
        let mut unknown = unknown;
        if openid_off && !unknown.contains(&"openid") {
            unknown.push("openid");
        }
        if !unknown.is_empty() {
            return err_page(
                "KOE205",
                &format!("설정하지 않은 동의항목을 요청했습니다. The app has not configured the consent item(s) [{}].", unknown.join(", ")),
            );
        }
    }
    let challenge = get("code_challenge")
        .filter(|c| !c.is_empty())
        .map(String::from);
    if challenge.is_some() && get("code_challenge_method") != Some("S256") {
        return err_page(
            "KOE001",
            "code_challenge_method must be S256 (plain is not supported).",
        );
    }
    let pending = Pending {
        redirect_uri: redirect_uri.to_string(),
        state: get("state").map(String::from),
        scope,
        prompts: get("prompt")
            .map(split_list)
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeSet<_>>(),
        login_hint: get("login_hint").map(String::from),
        nonce: get("nonce").map(String::from),
        code_challenge: challenge,
        created_at: now,
        user: None,
    };
    let sess = session(&st, &sh, &headers)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    let current = sess.current_account(now);
    if pending.prompts.contains("none") {
        let Some(acc) = current else {
            return redirect_error(&pending, "login_required", "user authentication required.");
        };
        let plan = st.consent_plan(acc.user_id, pending.scope.as_deref());
        if plan.needed {
            return redirect_error(&pending, "consent_required", "user consent required.");
        }
        st.agree(acc.user_id, plan.auto, now);
        let code = st.issue_code(&pending, acc.user_id, acc.auth_time, now);
        return redirect_code(&pending, &code);
    }
    if st.pending.len() > 10_000 {
        st.pending.retain(|_, p| p.created_at > now - 3600);
    }
    let tx = random_token(24);
    st.pending.insert(tx.clone(), pending.clone());
    let accounts = sess.valid(now);
    if pending.prompts.contains("login") || pending.prompts.contains("create") {
        login_for(&st, &tx, &pending, None, None)
    } else if pending.prompts.contains("select_account") && !accounts.is_empty() {
        let list: Vec<_> = accounts
            .iter()
            .filter_map(|a| st.users.get(&a.user_id))
            .map(|u| {
                let nick = u
                    .cfg
                    .profile
                    .nickname
                    .clone()
                    .unwrap_or_else(|| crate::DEFAULT_NICKNAME.into());
                (u.cfg.id, nick, u.cfg.login.clone())
            })
            .collect();
        html_response(StatusCode::OK, pages::chooser_page(&tx, &list))
    } else if let Some(acc) = current {
        proceed(&mut st, &tx, acc.user_id, acc.auth_time, now)
    } else {
        login_for(&st, &tx, &pending, None, None)
    }
}

/// `POST /oauth/login` (login page form).
pub async fn login_post(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let (f, _) = parse_form(&String::from_utf8_lossy(&body));
    let now = sh.now();
    let mut st = sh.lock();
    let tx = f.get("tx").cloned().unwrap_or_default();
    let Some(p) = st.pending.get(&tx).cloned() else {
        return err_page(
            "KOE001",
            "요청이 만료되었습니다. Expired or unknown authorization request.",
        );
    };
    let login = f.get("login_id").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let user = st
        .user_by_login(&login)
        .filter(|id| st.users[id].cfg.password == password);
    let Some(user_id) = user else {
        st.stats.logins_failed += 1;
        return login_for(
            &st,
            &tx,
            &p,
            Some("카카오계정 또는 비밀번호를 다시 확인해 주세요. Check your Kakao account and password."),
            Some(&login),
        );
    };
    st.stats.logins_ok += 1;
    let keep = f.contains_key("keep");
    let life = if keep {
        st.lifetimes.keep_login_secs
    } else {
        st.lifetimes.browser_session_secs
    };
    let sid = session(&st, &sh, &headers)
        .map(|(sid, _)| sid)
        .unwrap_or_else(|| random_token(24));
    let sess = st.sessions.entry(sid.clone()).or_default();
    sess.accounts
        .retain(|a| a.user_id != user_id && a.expires_at > now);
    sess.accounts.push(SessAccount {
        user_id,
        auth_time: now,
        expires_at: now + life,
    });
    sess.current = Some(user_id);
    let mut resp = proceed(&mut st, &tx, user_id, now, now);
    let mut c = format!("{}={sid}; Path=/; HttpOnly; SameSite=Lax", sh.cookie_name());
    if keep {
        c.push_str(&format!("; Max-Age={life}"));
    }
    set_cookie(&mut resp, c);
    resp
}

/// `POST /oauth/select` (account chooser form).
pub async fn select_post(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let (f, _) = parse_form(&String::from_utf8_lossy(&body));
    let now = sh.now();
    let mut st = sh.lock();
    let tx = f.get("tx").cloned().unwrap_or_default();
    let Some(p) = st.pending.get(&tx).cloned() else {
        return err_page(
            "KOE001",
            "요청이 만료되었습니다. Expired or unknown authorization request.",
        );
    };
    let choice = f.get("account").cloned().unwrap_or_default();
    if choice == "other" {
        return login_for(&st, &tx, &p, None, Some(""));
    }
    let Ok(user_id) = choice.parse::<i64>() else {
        return login_for(&st, &tx, &p, None, None);
    };
    let found = session(&st, &sh, &headers).and_then(|(sid, s)| {
        s.valid(now)
            .into_iter()
            .find(|a| a.user_id == user_id)
            .map(|a| (sid, a))
    });
    match found {
        Some((sid, acc)) => {
            if let Some(s) = st.sessions.get_mut(&sid) {
                s.current = Some(user_id);
            }
            proceed(&mut st, &tx, user_id, acc.auth_time, now)
        }
        None => {
            let login = st.users.get(&user_id).map(|u| u.cfg.login.clone());
            login_for(&st, &tx, &p, None, login.as_deref())
        }
    }
}

fn set_collected(st: &mut SimState, user_id: i64, item: &str, v: &str) -> Result<(), String> {
    let u = st.users.get_mut(&user_id).ok_or("unknown user")?;
    let p = &mut u.cfg.profile;
    let digits = |n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_digit());
    match item {
        "profile_nickname" | "profile" => p.nickname = Some(v.into()),
        "profile_image" => p.profile_image_url = Some(v.into()),
        "account_email" if v.contains('@') => {
            p.email = Some(v.into());
            p.is_email_valid = true;
            p.is_email_verified = false;
        }
        "name" => p.name = Some(v.into()),
        "gender" if v == "female" || v == "male" => p.gender = Some(v.into()),
        "birthyear" if digits(4) => p.birthyear = Some(v.into()),
        "birthday" if digits(4) => p.birthday = Some(v.into()),
        "age_range" if v.contains('~') => p.age_range = Some(v.into()),
        "account_email" | "gender" | "birthyear" | "birthday" | "age_range" => {
            return Err(format!("Invalid value for {item}"))
        }
        _ => {}
    }
    Ok(())
}

/// `POST /oauth/consent` (consent page form).
pub async fn consent_post(State(sh): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    let (f, pairs) = parse_form(&String::from_utf8_lossy(&body));
    let now = sh.now();
    let mut st = sh.lock();
    let tx = f.get("tx").cloned().unwrap_or_default();
    let Some(p) = st.pending.get(&tx).cloned() else {
        return err_page(
            "KOE001",
            "요청이 만료되었습니다. Expired or unknown authorization request.",
        );
    };
    let Some((user_id, auth_time)) = p.user else {
        return err_page(
            "KOE001",
            "로그인이 필요합니다. Not signed in for this request.",
        );
    };
    if f.get("action").map(String::as_str) == Some("cancel") {
        st.stats.consents_cancelled += 1;
        st.pending.remove(&tx);
        return redirect_error(&p, "access_denied", "User denied access");
    }
    let checked: BTreeSet<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect();
    let all = f.contains_key("consent_all");
    let plan = st.consent_plan(user_id, p.scope.as_deref());
    let mut agreed: Vec<String> = plan.auto.clone();
    let mut collected = vec![];
    for item in &plan.show {
        let ticked = all || checked.contains(item.id.as_str());
        if item.required && !ticked {
            return err_page(
                "KOE203",
                &format!(
                    "필수 동의항목에 동의하지 않았습니다. Required consent item not agreed: {}",
                    item.id
                ),
            );
        }
        if !ticked {
            continue;
        }
        if item.collect && !st.has_value(user_id, &item.id) {
            let v = f
                .get(&format!("collect_{}", item.id))
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            if v.is_empty() {
                if item.required {
                    let msg = format!(
                        "{} 값을 입력해 주세요. Please enter a value for {}.",
                        item.display_name, item.id
                    );
                    return consent_for(&st, &tx, user_id, p.scope.as_deref(), Some(&msg));
                }
                continue;
            }
            collected.push((item.id.clone(), v));
        }
        agreed.push(item.id.clone());
    }
    for (id, v) in &collected {
        if let Err(msg) = set_collected(&mut st, user_id, id, v) {
            return consent_for(&st, &tx, user_id, p.scope.as_deref(), Some(&msg));
        }
    }
    st.agree(user_id, agreed, now);
    st.stats.consents_given += 1;
    st.pending.remove(&tx);
    let code = st.issue_code(&p, user_id, auth_time, now);
    redirect_code(&p, &code)
}

/// `GET /oauth/logout` (REFERENCE §6, Decision 14): with a Kakao session in this browser,
/// Kakao's choice page ("this service only" / "with the Kakao account"); without one, straight
/// back to the logout redirect URI. Either way the browser ends at
/// `{logout_redirect_uri}?state=…`, and only the second choice ends the Kakao session.
pub async fn oauth_logout(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response<Body> {
    let q = query(&uri);
    let now = sh.now();
    let mut st = sh.lock();
    if q.get("client_id") != Some(&st.app.client_id) {
        return err_page("KOE101", "잘못된 앱 키입니다. Invalid app key (client_id).");
    }
    let target = q.get("logout_redirect_uri").cloned().unwrap_or_default();
    if !st.app.logout_redirect_uris.contains(&target) {
        return err_page(
            "KOE007",
            &format!("등록되지 않은 로그아웃 리다이렉트 URI입니다. The logout_redirect_uri \"{target}\" is not registered ([카카오 로그인] > [고급] > 로그아웃 리다이렉트 URI)."),
        );
    }
    let state = q.get("state").cloned();
    let current = session(&st, &sh, &headers)
        .and_then(|(sid, s)| s.current_account(now).map(|a| (sid, a.user_id)));
    let Some((sid, user_id)) = current else {
        return logout_redirect(&target, state.as_deref());
    };
    if st.pending_logouts.len() > 10_000 {
        st.pending_logouts.clear();
    }
    let id = random_token(24);
    st.pending_logouts
        .insert(id.clone(), (target, state, Some(sid)));
    let nick = st
        .users
        .get(&user_id)
        .map(|u| {
            u.cfg
                .profile
                .nickname
                .clone()
                .unwrap_or_else(|| u.cfg.login.clone())
        })
        .unwrap_or_default();
    html_response(StatusCode::OK, pages::logout_choice_page(&id, &nick))
}

fn logout_redirect(target: &str, state: Option<&str>) -> Response<Body> {
    let mut pairs = vec![];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    redirect(&with_query(target, &pairs))
}

/// `POST /oauth/logout/choose` (the choice page's form): `choice=account` ends this browser's
/// Kakao session, `choice=service` keeps it; both redirect to the logout redirect URI.
pub async fn oauth_logout_choose(State(sh): State<Arc<Shared>>, body: Bytes) -> Response<Body> {
    let (f, _) = parse_form(&String::from_utf8_lossy(&body));
    let mut st = sh.lock();
    let id = f.get("id").cloned().unwrap_or_default();
    let Some((target, state, sid)) = st.pending_logouts.remove(&id) else {
        return err_page(
            "KOE001",
            "요청이 만료되었습니다. Expired or unknown logout request.",
        );
    };
    let with_account = f.get("choice").map(String::as_str) == Some("account");
    let mut resp = logout_redirect(&target, state.as_deref());
    if with_account {
        if let Some(sid) = sid {
            st.sessions.remove(&sid);
        }
        st.stats.kakao_account_logouts += 1;
        set_cookie(
            &mut resp,
            format!(
                "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
                sh.cookie_name()
            ),
        );
    } else {
        st.stats.service_only_logouts += 1;
    }
    resp
}

fn kauth_json(status: StatusCode, v: &serde_json::Value) -> Response<Body> {
    let mut r = json_response(status, v);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn form_of(headers: &HeaderMap, body: &Bytes) -> HashMap<String, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded")
        .to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        parse_form(&String::from_utf8_lossy(body)).0
    } else {
        HashMap::new()
    }
}

/// `POST /oauth/token`.
pub async fn token(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let form = form_of(&headers, &body);
    let now = sh.now();
    let mut st = sh.lock();
    match st.token(&form, now, &sh.base_url) {
        Ok(v) => kauth_json(StatusCode::OK, &v),
        Err(e) => {
            let code = if e.code.is_empty() { "(none)" } else { e.code };
            *st.stats.token_errors.entry(code.into()).or_default() += 1;
            kauth_json(e.status, &e.body())
        }
    }
}

/// `POST /oauth/tokeninfo`.
pub async fn tokeninfo(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let form = form_of(&headers, &body);
    let now = sh.now();
    let st = sh.lock();
    match st.tokeninfo(form.get("id_token").map(String::as_str), now, &sh.base_url) {
        Ok(v) => kauth_json(StatusCode::OK, &v),
        Err(e) => kauth_json(e.status, &e.body()),
    }
}

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(sh): State<Arc<Shared>>) -> Response<Body> {
    let b = &sh.base_url;
    let mut r = json_response(
        StatusCode::OK,
        &json!({
            "issuer": b,
            "authorization_endpoint": format!("{b}/oauth/authorize"),
            "token_endpoint": format!("{b}/oauth/token"),
            "userinfo_endpoint": format!("{b}/v1/oidc/userinfo"),
            "jwks_uri": format!("{b}/.well-known/jwks.json"),
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "request_uri_parameter_supported": false,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss","aud","sub","auth_time","exp","iat","nonce","nickname","picture","email"],
        }),
    );
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    r
}

/// `GET /.well-known/jwks.json`.
pub async fn jwks(State(sh): State<Arc<Shared>>) -> Response<Body> {
    let now = sh.now();
    let st = sh.lock();
    // Current key first, then recently retired ones.
    let mut keys: Vec<_> = st.published_keys(now).map(|k| k.jwk()).collect();
    keys.reverse();
    json_response(StatusCode::OK, &json!({ "keys": keys }))
}
