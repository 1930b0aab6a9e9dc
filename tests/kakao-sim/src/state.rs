//! The simulator's mutable world: users, consents, codes, tokens, sessions, keys, faults, stats.
//! Everything here is synchronous and runs under one mutex; HTTP handlers wrap it.

use crate::config::{AppConfig, ConsentItem, Lifetimes, UserConfig, DEFAULT_NICKNAME};
use crate::keys::SigningKey;
use crate::util::{random_token, rfc3339};
use crate::{Endpoint, Fault, LoggedRequest, Stats};
use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A pending `/oauth/authorize` transaction (server-side; the pages only carry its id).
#[derive(Clone, Debug)]
pub struct Pending {
    pub redirect_uri: String,
    pub state: Option<String>,
    /// `scope=` of the request (additional consent); `None` when absent.
    pub scope: Option<Vec<String>>,
    pub prompts: BTreeSet<String>,
    pub login_hint: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: i64,
    /// The signed-in account once known, with its authentication time.
    pub user: Option<(i64, i64)>,
}

/// An issued authorization code.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub user_id: i64,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub with_id_token: bool,
    pub expires_at: i64,
}

/// An access token.
#[derive(Clone, Debug)]
pub struct AccessTok {
    pub user_id: i64,
    pub expires_at: i64,
    /// The grant (one code exchange and every refresh after it) the token belongs to: what
    /// `/v1/user/logout` with this token revokes (REFERENCE §4c, Decision 12).
    pub grant: u64,
}

/// A refresh token.
#[derive(Clone, Debug)]
pub struct RefreshTok {
    pub user_id: i64,
    pub expires_at: i64,
    /// See [`AccessTok::grant`].
    pub grant: u64,
    pub with_id_token: bool,
    pub auth_time: i64,
}

/// One Kakao account signed in in a browser session.
#[derive(Clone, Debug)]
pub struct SessAccount {
    pub user_id: i64,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// A browser's Kakao account session (cookie → this).
#[derive(Clone, Debug, Default)]
pub struct BrowserSession {
    pub accounts: Vec<SessAccount>,
    pub current: Option<i64>,
}

impl BrowserSession {
    pub fn valid(&self, now: i64) -> Vec<SessAccount> {
        self.accounts
            .iter()
            .filter(|a| a.expires_at > now)
            .cloned()
            .collect()
    }
    pub fn current_account(&self, now: i64) -> Option<SessAccount> {
        let cur = self.current?;
        self.valid(now).into_iter().find(|a| a.user_id == cur)
    }
}

/// Per-user state.
#[derive(Clone, Debug)]
pub struct UserState {
    pub cfg: UserConfig,
    pub consents: BTreeSet<String>,
    pub connected_at: Option<i64>,
    pub access_issued: Vec<i64>,
    pub refresh_issued: Vec<i64>,
}

/// A kauth error (`{error, error_description, error_code}`).
#[derive(Debug, Clone)]
pub struct KauthErr {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub code: &'static str,
}

impl KauthErr {
    pub fn new(
        status: u16,
        error: &'static str,
        description: impl Into<String>,
        code: &'static str,
    ) -> Self {
        KauthErr {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            error,
            description: description.into(),
            code,
        }
    }
    /// The JSON body; `error_code` is left out when `code` is empty (as a provider that follows
    /// RFC 6749 §5.2 to the letter answers).
    pub fn body(&self) -> Value {
        let mut v = json!({"error": self.error, "error_description": self.description});
        if !self.code.is_empty() {
            v["error_code"] = json!(self.code);
        }
        v
    }
    pub fn rate_limited() -> Self {
        Self::new(
            400,
            "invalid_request",
            "token request rate limit exceeded",
            "KOE237",
        )
    }
    /// A transient failure of the token endpoint: HTTP 500 `server_error` without a KOE code
    /// (KOE003 is an authorize-time code and never comes from `/oauth/token`, REFERENCE §3).
    pub fn transient() -> Self {
        Self::new(
            500,
            "server_error",
            "temporary error in Kakao OAuth server, retry later",
            "",
        )
    }
}

/// A kapi error (`{msg, code}` plus extras for -402).
#[derive(Debug, Clone)]
pub struct KapiErr {
    pub status: StatusCode,
    pub code: i64,
    pub msg: String,
    pub extra: Option<Map<String, Value>>,
}

impl KapiErr {
    pub fn new(status: u16, code: i64, msg: impl Into<String>) -> Self {
        KapiErr {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            msg: msg.into(),
            extra: None,
        }
    }
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("msg".into(), json!(self.msg));
        m.insert("code".into(), json!(self.code));
        if let Some(extra) = &self.extra {
            for (k, v) in extra {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }
    pub fn invalid_token(msg: &str) -> Self {
        Self::new(401, -401, msg)
    }
    pub fn transient() -> Self {
        Self::new(400, -1, "internal server error")
    }
    pub fn rate_limited() -> Self {
        Self::new(400, -10, "API limit has been exceeded.")
    }
}

/// What the consent step must do for a user and a request.
#[derive(Debug, Default)]
pub struct ConsentPlan {
    /// Items shown on the consent page.
    pub show: Vec<ConsentItem>,
    /// Items agreed without showing them (no value and no collect option; `openid`).
    pub auto: Vec<String>,
    /// Whether the consent page must be shown.
    pub needed: bool,
}

pub struct State {
    pub app: AppConfig,
    pub lifetimes: Lifetimes,
    pub users: BTreeMap<i64, UserState>,
    pub pending: HashMap<String, Pending>,
    pub codes: HashMap<String, CodeGrant>,
    pub access: HashMap<String, AccessTok>,
    pub refresh: HashMap<String, RefreshTok>,
    pub sessions: HashMap<String, BrowserSession>,
    /// Signing keys; the last one is current, older ones stay published for a while.
    pub keys: Vec<SigningKey>,
    pub faults: HashMap<Endpoint, Fault>,
    pub stats: Stats,
    pub log: Vec<LoggedRequest>,
    /// The last ID token issued, so leak tests know its value without the app keeping it.
    pub last_id_token: Option<String>,
    /// The last grant number handed out (see [`AccessTok::grant`]).
    pub next_grant: u64,
    /// Pending `/oauth/logout` choice pages: id → (logout redirect URI, state, browser session).
    pub pending_logouts: HashMap<String, (String, Option<String>, Option<String>)>,
}

/// `*_needs_agreement` key prefix and `property_keys` group of a consent item.
pub fn account_field(item: &str) -> Option<(&'static str, &'static str)> {
    Some(match item {
        "profile_nickname" => ("profile_nickname", "profile"),
        "profile_image" => ("profile_image", "profile"),
        "profile" => ("profile", "profile"),
        "account_email" => ("email", "email"),
        "name" => ("name", "name"),
        "age_range" => ("age_range", "age_range"),
        "birthyear" => ("birthyear", "birthyear"),
        "birthday" => ("birthday", "birthday"),
        "gender" => ("gender", "gender"),
        "phone_number" => ("phone_number", "phone_number"),
        "account_ci" => ("ci", "ci"),
        _ => return None,
    })
}

/// Known `kakao_account.*` property keys.
pub const ACCOUNT_GROUPS: &[&str] = &[
    "profile",
    "name",
    "email",
    "age_range",
    "birthday",
    "birthyear",
    "gender",
    "phone_number",
    "ci",
];

impl State {
    pub fn new(app: AppConfig, lifetimes: Lifetimes, users: Vec<UserConfig>) -> Self {
        State {
            app,
            lifetimes,
            users: users
                .into_iter()
                .map(|u| {
                    (
                        u.id,
                        UserState {
                            cfg: u,
                            consents: BTreeSet::new(),
                            connected_at: None,
                            access_issued: vec![],
                            refresh_issued: vec![],
                        },
                    )
                })
                .collect(),
            pending: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            sessions: HashMap::new(),
            keys: vec![SigningKey::initial()],
            faults: HashMap::new(),
            stats: Stats::default(),
            log: Vec::new(),
            last_id_token: None,
            next_grant: 0,
            pending_logouts: HashMap::new(),
        }
    }

    pub fn item(&self, id: &str) -> Option<&ConsentItem> {
        self.app.consent_items.iter().find(|i| i.id == id)
    }

    pub fn user_by_login(&self, login: &str) -> Option<i64> {
        let l = login.trim().to_lowercase();
        self.users
            .values()
            .find(|u| {
                u.cfg.login.to_lowercase() == l
                    || u.cfg.profile.email.as_deref().map(str::to_lowercase) == Some(l.clone())
            })
            .map(|u| u.cfg.id)
    }

    /// Whether the account has a value for a consent item.
    pub fn has_value(&self, user_id: i64, item: &str) -> bool {
        let Some(u) = self.users.get(&user_id) else {
            return false;
        };
        let p = &u.cfg.profile;
        match item {
            "account_email" => p.email.is_some(),
            "name" => p.name.is_some(),
            "age_range" => p.age_range.is_some(),
            "birthyear" => p.birthyear.is_some(),
            "birthday" => p.birthday.is_some(),
            "gender" => p.gender.is_some(),
            "phone_number" => u.cfg.has_kakaotalk && p.phone_number.is_some(),
            "account_ci" => p.ci.is_some(),
            // Nickname and image always exist (Kakao defaults); permission items too.
            _ => true,
        }
    }

    /// Agreed consents of the user, in configuration order, then unconfigured ones.
    pub fn agreed_scopes(&self, user_id: i64) -> Vec<String> {
        let Some(u) = self.users.get(&user_id) else {
            return vec![];
        };
        let mut out: Vec<String> = self
            .app
            .consent_items
            .iter()
            .filter(|i| u.consents.contains(&i.id))
            .map(|i| i.id.clone())
            .collect();
        for c in &u.consents {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }

    pub fn agreed(&self, user_id: i64, item: &str) -> bool {
        self.users
            .get(&user_id)
            .is_some_and(|u| u.consents.contains(item))
    }

    /// Decides the consent step: first connection → every configured item not yet agreed;
    /// `scope=` → the requested items not yet agreed; otherwise only new required items.
    /// Items the user has no value for are agreed silently unless the collect option is on
    /// (FAQ S10); `openid` is never shown as a checkbox, it follows the OIDC setting.
    pub fn consent_plan(&self, user_id: i64, scope: Option<&[String]>) -> ConsentPlan {
        let Some(u) = self.users.get(&user_id) else {
            return ConsentPlan::default();
        };
        let connected = u.connected_at.is_some();
        let mut plan = ConsentPlan::default();
        for item in &self.app.consent_items {
            if u.consents.contains(&item.id) {
                continue;
            }
            let requested = scope.is_some_and(|s| s.iter().any(|x| x == &item.id));
            let candidate = !connected || requested || (scope.is_none() && item.required);
            if !candidate {
                continue;
            }
            if item.id == "openid" {
                plan.auto.push(item.id.clone());
            } else if self.has_value(user_id, &item.id) || item.collect {
                plan.show.push(item.clone());
            } else {
                plan.auto.push(item.id.clone());
            }
        }
        plan.needed = !plan.show.is_empty() || !connected;
        plan
    }

    /// Records agreement (and connects the user to the app).
    pub fn agree(&mut self, user_id: i64, items: impl IntoIterator<Item = String>, now: i64) {
        if let Some(u) = self.users.get_mut(&user_id) {
            u.consents.extend(items);
            if u.connected_at.is_none() {
                u.connected_at = Some(now);
            }
        }
    }

    /// Issues an authorization code for a completed pending transaction.
    pub fn issue_code(&mut self, p: &Pending, user_id: i64, auth_time: i64, now: i64) -> String {
        let with_id_token = match &p.scope {
            Some(s) => s.iter().any(|x| x == "openid") && self.app.oidc,
            None => self.app.oidc,
        };
        let code = random_token(64);
        self.codes.insert(
            code.clone(),
            CodeGrant {
                user_id,
                client_id: self.app.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                code_challenge: p.code_challenge.clone(),
                nonce: p.nonce.clone(),
                auth_time,
                with_id_token,
                expires_at: now + self.lifetimes.code_secs,
            },
        );
        self.stats.codes_issued += 1;
        code
    }

    fn check_limits(
        &mut self,
        user_id: i64,
        needs_refresh: bool,
        now: i64,
    ) -> Result<(), KauthErr> {
        let u = self
            .users
            .get_mut(&user_id)
            .ok_or_else(|| KauthErr::new(400, "invalid_grant", "user not found", "KOE320"))?;
        u.access_issued.retain(|t| *t > now - 600);
        u.refresh_issued.retain(|t| *t > now - 3600);
        if u.access_issued.len() >= 20 || (needs_refresh && u.refresh_issued.len() >= 30) {
            return Err(KauthErr::rate_limited());
        }
        Ok(())
    }

    fn new_access(&mut self, user_id: i64, grant: u64, now: i64) -> String {
        let t = random_token(40);
        self.access.insert(
            t.clone(),
            AccessTok {
                user_id,
                expires_at: now + self.lifetimes.access_secs,
                grant,
            },
        );
        if let Some(u) = self.users.get_mut(&user_id) {
            u.access_issued.push(now);
        }
        self.stats.access_tokens_issued += 1;
        t
    }

    fn new_refresh(
        &mut self,
        user_id: i64,
        grant: u64,
        with_id_token: bool,
        auth_time: i64,
        now: i64,
    ) -> String {
        let t = random_token(40);
        self.refresh.insert(
            t.clone(),
            RefreshTok {
                user_id,
                expires_at: now + self.lifetimes.refresh_secs,
                grant,
                with_id_token,
                auth_time,
            },
        );
        if let Some(u) = self.users.get_mut(&user_id) {
            u.refresh_issued.push(now);
        }
        self.stats.refresh_tokens_issued += 1;
        t
    }

    /// `POST /oauth/token`.
    pub fn token(
        &mut self,
        form: &HashMap<String, String>,
        now: i64,
        base_url: &str,
    ) -> Result<Value, KauthErr> {
        let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
        let key = match grant {
            "authorization_code" | "refresh_token" => grant,
            "" => "(missing)",
            _ => "(other)",
        };
        *self.stats.token_requests.entry(key.into()).or_default() += 1;
        if key.starts_with('(') {
            return Err(KauthErr::new(
                400,
                "invalid_request",
                format!("unsupported grant_type: {grant}"),
                "KOE310",
            ));
        }
        let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
        if client_id != self.app.client_id {
            return Err(KauthErr::new(
                401,
                "invalid_client",
                format!("Not exist client_id [{client_id}]"),
                "KOE101",
            ));
        }
        if let Some(secret) = &self.app.client_secret {
            if form.get("client_secret") != Some(secret) {
                return Err(KauthErr::new(
                    401,
                    "invalid_client",
                    "Bad client credentials",
                    "KOE010",
                ));
            }
        }
        if grant == "authorization_code" {
            self.code_grant(form, now, base_url)
        } else {
            self.refresh_grant(form, now, base_url)
        }
    }

    fn code_grant(
        &mut self,
        form: &HashMap<String, String>,
        now: i64,
        base_url: &str,
    ) -> Result<Value, KauthErr> {
        let code = form.get("code").cloned().unwrap_or_default();
        let not_found = || {
            KauthErr::new(
                400,
                "invalid_grant",
                format!("authorization code not found for code={code}"),
                "KOE320",
            )
        };
        // Single use: a code is gone after its first presentation, whatever the outcome.
        let g = self.codes.remove(&code).ok_or_else(not_found)?;
        if g.expires_at <= now || g.client_id != self.app.client_id {
            return Err(not_found());
        }
        if form.get("redirect_uri") != Some(&g.redirect_uri) {
            return Err(KauthErr::new(
                400,
                "invalid_grant",
                "Redirect URI mismatch.",
                "KOE303",
            ));
        }
        if let Some(challenge) = &g.code_challenge {
            let ok = form.get("code_verifier").is_some_and(|v| {
                URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *challenge
            });
            if !ok {
                return Err(KauthErr::new(
                    400,
                    "invalid_grant",
                    "PKCE verification failed",
                    "KOE320",
                ));
            }
        }
        if self
            .users
            .get(&g.user_id)
            .is_none_or(|u| u.connected_at.is_none())
        {
            return Err(not_found());
        }
        self.check_limits(g.user_id, true, now)?;
        self.next_grant += 1;
        let grant = self.next_grant;
        let access = self.new_access(g.user_id, grant, now);
        let refresh = self.new_refresh(g.user_id, grant, g.with_id_token, g.auth_time, now);
        let mut out = json!({
            "token_type": "bearer",
            "access_token": access,
            "expires_in": self.lifetimes.access_secs,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.lifetimes.refresh_secs,
            // `openid` is listed only for an OIDC grant (REFERENCE §2: "includes `openid` for
            // OIDC apps"); it is not a consent item.
            "scope": self
                .agreed_scopes(g.user_id)
                .into_iter()
                .filter(|s| g.with_id_token || s != "openid")
                .collect::<Vec<_>>()
                .join(" "),
        });
        if g.with_id_token {
            let idt = self.id_token(g.user_id, g.nonce.as_deref(), g.auth_time, now, base_url);
            out["id_token"] = json!(idt);
        }
        Ok(out)
    }

    fn refresh_grant(
        &mut self,
        form: &HashMap<String, String>,
        now: i64,
        base_url: &str,
    ) -> Result<Value, KauthErr> {
        let rt = form.get("refresh_token").cloned().unwrap_or_default();
        if rt.is_empty() {
            return Err(KauthErr::new(
                400,
                "invalid_grant",
                "refresh_token is required",
                "KOE319",
            ));
        }
        let tok = match self.refresh.get(&rt) {
            Some(t) if t.expires_at > now => t.clone(),
            _ => {
                return Err(KauthErr::new(
                    400,
                    "invalid_grant",
                    "expired_or_invalid_refresh_token",
                    "KOE322",
                ))
            }
        };
        let rotate = tok.expires_at - now < self.lifetimes.refresh_rotation_threshold_secs;
        self.check_limits(tok.user_id, rotate, now)?;
        let access = self.new_access(tok.user_id, tok.grant, now);
        let mut out = json!({
            "token_type": "bearer",
            "access_token": access,
            "expires_in": self.lifetimes.access_secs,
        });
        if rotate {
            self.refresh.remove(&rt);
            self.stats.revoked_refresh_tokens += 1;
            self.stats.refresh_rotations += 1;
            let nrt = self.new_refresh(
                tok.user_id,
                tok.grant,
                tok.with_id_token,
                tok.auth_time,
                now,
            );
            out["refresh_token"] = json!(nrt);
            out["refresh_token_expires_in"] = json!(self.lifetimes.refresh_secs);
        }
        if tok.with_id_token && self.app.oidc {
            let idt = self.id_token(tok.user_id, None, tok.auth_time, now, base_url);
            out["id_token"] = json!(idt);
        }
        self.stats.refreshes += 1;
        Ok(out)
    }

    /// Absolute image URL (relative ones are served by the simulator).
    pub fn image_url(url: &str, base_url: &str, secure: bool) -> String {
        if url.starts_with('/') {
            format!("{base_url}{url}")
        } else if secure && url.starts_with("http://") {
            format!("https://{}", &url["http://".len()..])
        } else {
            url.to_string()
        }
    }

    fn images(&self, user_id: i64) -> (String, String, bool) {
        let p = &self.users[&user_id].cfg.profile;
        match &p.profile_image_url {
            Some(u) => (
                u.clone(),
                p.thumbnail_image_url.clone().unwrap_or_else(|| u.clone()),
                false,
            ),
            None => (
                "/__sim/img/default_640.jpg".into(),
                "/__sim/img/default_110.jpg".into(),
                true,
            ),
        }
    }

    fn nickname(&self, user_id: i64) -> (String, bool) {
        match &self.users[&user_id].cfg.profile.nickname {
            Some(n) => (n.clone(), false),
            None => (DEFAULT_NICKNAME.to_string(), true),
        }
    }

    /// Builds and signs an ID token.
    pub fn id_token(
        &mut self,
        user_id: i64,
        nonce: Option<&str>,
        auth_time: i64,
        now: i64,
        base_url: &str,
    ) -> String {
        let mut c = Map::new();
        c.insert("iss".into(), json!(base_url));
        c.insert("aud".into(), json!(self.app.client_id));
        c.insert("sub".into(), json!(user_id.to_string()));
        c.insert("iat".into(), json!(now));
        c.insert("exp".into(), json!(now + self.lifetimes.access_secs));
        c.insert("auth_time".into(), json!(auth_time));
        if let Some(n) = nonce {
            c.insert("nonce".into(), json!(n));
        }
        if self.agreed(user_id, "profile_nickname") || self.agreed(user_id, "profile") {
            c.insert("nickname".into(), json!(self.nickname(user_id).0));
        }
        if self.agreed(user_id, "profile_image") || self.agreed(user_id, "profile") {
            let (_, thumb, _) = self.images(user_id);
            c.insert(
                "picture".into(),
                json!(Self::image_url(&thumb, base_url, false)),
            );
        }
        let p = &self.users[&user_id].cfg.profile;
        if self.agreed(user_id, "account_email") && p.is_email_valid && p.is_email_verified {
            if let Some(e) = &p.email {
                c.insert("email".into(), json!(e));
            }
        }
        let key = self.keys.last().expect("a signing key");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        header.typ = Some("JWT".into());
        self.stats.id_tokens_issued += 1;
        let token =
            jsonwebtoken::encode(&header, &Value::Object(c), &key.encoding).expect("sign id token");
        self.last_id_token = Some(token.clone());
        token
    }

    /// Keys currently published in the JWKS (current + recently retired).
    pub fn published_keys(&self, now: i64) -> impl Iterator<Item = &SigningKey> {
        let keep = self.lifetimes.access_secs;
        self.keys
            .iter()
            .filter(move |k| k.retired_at.is_none_or(|r| r + keep > now))
    }

    /// `POST /oauth/tokeninfo`.
    pub fn tokeninfo(
        &self,
        id_token: Option<&str>,
        now: i64,
        base_url: &str,
    ) -> Result<Value, KauthErr> {
        let bad = |d: &str| KauthErr::new(400, "invalid_token", d, "KOE400");
        let tok = id_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("id_token is required"))?;
        let header = jsonwebtoken::decode_header(tok).map_err(|_| bad("invalid id_token"))?;
        let kid = header.kid.ok_or_else(|| bad("invalid id_token: no kid"))?;
        let key = self
            .published_keys(now)
            .find(|k| k.kid == kid)
            .ok_or_else(|| bad("invalid id_token: unknown kid"))?;
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(tok, &key.decoding, &v)
            .map_err(|_| bad("invalid id_token: signature"))?;
        let claims = data.claims;
        if claims["iss"] != json!(base_url) || claims["aud"] != json!(self.app.client_id) {
            return Err(bad("invalid id_token: iss or aud"));
        }
        if claims["exp"].as_i64().is_none_or(|e| e <= now) {
            return Err(bad("id_token expired"));
        }
        Ok(claims)
    }

    /// Resolves a Bearer access token.
    pub fn bearer(&self, auth: Option<&str>, now: i64) -> Result<i64, KapiErr> {
        let Some(auth) = auth else {
            return Err(KapiErr::invalid_token("this access token does not exist"));
        };
        let Some(tok) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        else {
            return Err(KapiErr::invalid_token("this access token does not exist"));
        };
        let tok = tok.trim();
        if tok.is_empty()
            || !tok
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b))
        {
            return Err(KapiErr::new(400, -2, "invalid access token format"));
        }
        match self.access.get(tok) {
            None => Err(KapiErr::invalid_token("this access token does not exist")),
            Some(t) if t.expires_at <= now => Err(KapiErr::invalid_token(
                "this access token is already expired",
            )),
            Some(t) => Ok(t.user_id),
        }
    }

    pub fn access_expires_at(&self, auth: Option<&str>) -> Option<i64> {
        let tok = auth?.strip_prefix("Bearer ")?.trim();
        self.access.get(tok).map(|t| t.expires_at)
    }

    /// `POST /v1/user/logout` with a Bearer token (REFERENCE §4c, Decision 12): revokes that
    /// access token and the refresh token issued with it (with every access token refreshed
    /// from it), nothing else of the member. Returns (access, refresh) counts.
    pub fn revoke_grant_of(&mut self, access_token: &str) -> (usize, usize) {
        let Some(grant) = self.access.get(access_token).map(|t| t.grant) else {
            return (0, 0);
        };
        let a0 = self.access.len();
        let r0 = self.refresh.len();
        self.access.retain(|_, t| t.grant != grant);
        self.refresh.retain(|_, t| t.grant != grant);
        let a = a0 - self.access.len();
        let r = r0 - self.refresh.len();
        self.stats.revoked_access_tokens += a as u64;
        self.stats.revoked_refresh_tokens += r as u64;
        (a, r)
    }

    /// Removes every token of the user (unlink; the admin-key logout). Returns (access,
    /// refresh) counts.
    pub fn revoke_user_tokens(&mut self, user_id: i64) -> (usize, usize) {
        let a0 = self.access.len();
        let r0 = self.refresh.len();
        self.access.retain(|_, t| t.user_id != user_id);
        self.refresh.retain(|_, t| t.user_id != user_id);
        let a = a0 - self.access.len();
        let r = r0 - self.refresh.len();
        self.stats.revoked_access_tokens += a as u64;
        self.stats.revoked_refresh_tokens += r as u64;
        (a, r)
    }

    /// Unlinks the user from the app: tokens dead, consents withdrawn, not connected.
    pub fn unlink(&mut self, user_id: i64) {
        self.revoke_user_tokens(user_id);
        self.codes.retain(|_, c| c.user_id != user_id);
        if let Some(u) = self.users.get_mut(&user_id) {
            u.consents.clear();
            u.connected_at = None;
        }
    }

    /// `/v2/user/me` body.
    pub fn user_me(
        &self,
        user_id: i64,
        property_keys: Option<&[String]>,
        secure: bool,
        base_url: &str,
    ) -> Value {
        let u = &self.users[&user_id];
        let p = &u.cfg.profile;
        let wants = |group: &str| {
            property_keys.is_none_or(|keys| {
                keys.iter()
                    .any(|k| k == "kakao_account." || k == &format!("kakao_account.{group}"))
            })
        };
        let mut acc = Map::new();
        let mut profile = Map::new();
        let mut props = Map::new();
        for item in &self.app.consent_items {
            let Some((prefix, group)) = account_field(&item.id) else {
                continue;
            };
            if !wants(group) {
                continue;
            }
            let agreed = u.consents.contains(&item.id);
            let has = self.has_value(user_id, &item.id);
            let needs = !agreed && (has || item.collect);
            acc.insert(format!("{prefix}_needs_agreement"), json!(needs));
            if !agreed || !has {
                continue;
            }
            match item.id.as_str() {
                "profile_nickname" | "profile_image" | "profile" => {
                    if item.id != "profile_image" {
                        let (n, default) = self.nickname(user_id);
                        profile.insert("nickname".into(), json!(n));
                        profile.insert("is_default_nickname".into(), json!(default));
                        props.insert("nickname".into(), json!(n));
                    }
                    if item.id != "profile_nickname" {
                        let (img, thumb, default) = self.images(user_id);
                        let img = Self::image_url(&img, base_url, secure);
                        let thumb = Self::image_url(&thumb, base_url, secure);
                        profile.insert("thumbnail_image_url".into(), json!(thumb));
                        profile.insert("profile_image_url".into(), json!(img));
                        profile.insert("is_default_image".into(), json!(default));
                        props.insert("profile_image".into(), json!(img));
                        props.insert("thumbnail_image".into(), json!(thumb));
                    }
                }
                "account_email" => {
                    acc.insert("is_email_valid".into(), json!(p.is_email_valid));
                    acc.insert("is_email_verified".into(), json!(p.is_email_verified));
                    acc.insert("email".into(), json!(p.email));
                }
                "name" => {
                    acc.insert("name".into(), json!(p.name));
                }
                "age_range" => {
                    acc.insert("age_range".into(), json!(p.age_range));
                }
                "birthyear" => {
                    acc.insert("birthyear".into(), json!(p.birthyear));
                }
                "birthday" => {
                    acc.insert("birthday".into(), json!(p.birthday));
                    acc.insert(
                        "birthday_type".into(),
                        json!(p.birthday_type.clone().unwrap_or_else(|| "SOLAR".into())),
                    );
                    acc.insert("is_leap_month".into(), json!(p.is_leap_month));
                }
                "gender" => {
                    acc.insert("gender".into(), json!(p.gender));
                }
                "phone_number" => {
                    acc.insert("phone_number".into(), json!(p.phone_number));
                }
                "account_ci" => {
                    acc.insert("ci".into(), json!(p.ci));
                    if let Some(t) = p.ci_authenticated_at {
                        acc.insert("ci_authenticated_at".into(), json!(rfc3339(t)));
                    }
                }
                _ => {}
            }
        }
        if !profile.is_empty() {
            acc.insert("profile".into(), Value::Object(profile));
        }
        let mut out = Map::new();
        out.insert("id".into(), json!(user_id));
        if let Some(t) = u.connected_at {
            out.insert("connected_at".into(), json!(rfc3339(t)));
        }
        let want_props =
            property_keys.is_none_or(|k| k.iter().any(|k| k.starts_with("properties.")));
        if want_props && !props.is_empty() {
            out.insert("properties".into(), Value::Object(props));
        }
        if !acc.is_empty() {
            out.insert("kakao_account".into(), Value::Object(acc));
        }
        Value::Object(out)
    }

    /// `/v2/user/scopes` body, optionally filtered.
    pub fn scopes(&self, user_id: i64, filter: Option<&[String]>) -> Value {
        let u = &self.users[&user_id];
        let mut list = vec![];
        let mut push = |id: &str, name: &str, kind: &str, using: bool, required: bool| {
            if filter.is_some_and(|f| !f.iter().any(|x| x == id)) {
                return;
            }
            let agreed = u.consents.contains(id);
            let mut s = json!({"id": id, "display_name": name, "type": kind, "using": using, "agreed": agreed});
            if agreed {
                s["revocable"] = json!(!required);
            }
            list.push(s);
        };
        // `openid` is a scope value, not a consent item: never listed (REFERENCE §5).
        for i in self.app.consent_items.iter().filter(|i| i.id != "openid") {
            let kind = match i.kind {
                crate::config::ScopeType::Privacy => "PRIVACY",
                crate::config::ScopeType::Service => "SERVICE",
            };
            push(&i.id, &i.display_name, kind, true, i.required);
        }
        for c in &u.consents {
            if self.item(c).is_none() && c != "openid" {
                push(c, c, "PRIVACY", false, false);
            }
        }
        json!({"id": user_id, "scopes": list})
    }

    /// `POST /v2/user/revoke/scopes`.
    pub fn revoke_scopes(&mut self, user_id: i64, ids: &[String]) -> Result<Value, KapiErr> {
        let agreed = &self.users[&user_id].consents;
        // `openid` is not a consent item, so there is nothing of that name to revoke (§5).
        let unknown: Vec<&String> = ids
            .iter()
            .filter(|i| !agreed.contains(*i) || *i == "openid")
            .collect();
        if ids.is_empty() || !unknown.is_empty() {
            let list = if ids.is_empty() {
                ids.iter().collect()
            } else {
                unknown
            };
            let names: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
            return Err(KapiErr::new(
                400,
                -2,
                format!(
                    "There is no scopes to revoke. check out if given scope id([{}]) is correct again.",
                    names.join(", ")
                ),
            ));
        }
        let required: Vec<&str> = ids
            .iter()
            .filter(|i| self.item(i).is_some_and(|it| it.required))
            .map(String::as_str)
            .collect();
        if !required.is_empty() {
            return Err(KapiErr::new(
                403,
                -3,
                format!(
                    "[{}] is not revocable. check out if it's set as required on developers.kakao.com",
                    required.join(", ")
                ),
            ));
        }
        let u = self.users.get_mut(&user_id).expect("user");
        for i in ids {
            u.consents.remove(i);
        }
        Ok(self.scopes(user_id, None))
    }

    /// `/v1/oidc/userinfo` body.
    pub fn oidc_userinfo(&self, user_id: i64, base_url: &str) -> Value {
        let u = &self.users[&user_id];
        let p = &u.cfg.profile;
        let ag = |i: &str| u.consents.contains(i);
        let mut m = Map::new();
        m.insert("sub".into(), json!(user_id.to_string()));
        if ag("name") {
            if let Some(n) = &p.name {
                m.insert("name".into(), json!(n));
            }
        }
        if ag("profile_nickname") || ag("profile") {
            m.insert("nickname".into(), json!(self.nickname(user_id).0));
        }
        if ag("profile_image") || ag("profile") {
            m.insert(
                "picture".into(),
                json!(Self::image_url(&self.images(user_id).1, base_url, false)),
            );
        }
        if ag("account_email") {
            if let Some(e) = &p.email {
                m.insert("email".into(), json!(e));
                m.insert(
                    "email_verified".into(),
                    json!(p.is_email_verified && p.is_email_valid),
                );
            }
        }
        if ag("gender") {
            if let Some(g) = &p.gender {
                m.insert("gender".into(), json!(g.to_lowercase()));
            }
        }
        let year = p.birthyear.as_ref().filter(|_| ag("birthyear"));
        let day = p
            .birthday
            .as_ref()
            .filter(|_| ag("birthday") && p.birthday.as_ref().is_some_and(|d| d.len() == 4));
        let birthdate = match (year, day) {
            (Some(y), Some(d)) => Some(format!("{y}-{}-{}", &d[..2], &d[2..])),
            (None, Some(d)) => Some(format!("0000-{}-{}", &d[..2], &d[2..])),
            (Some(y), None) => Some(y.clone()),
            (None, None) => None,
        };
        if let Some(b) = birthdate {
            m.insert("birthdate".into(), json!(b));
        }
        if ag("phone_number") && u.cfg.has_kakaotalk {
            if let Some(ph) = &p.phone_number {
                m.insert("phone_number".into(), json!(ph));
                m.insert("phone_number_verified".into(), json!(true));
            }
        }
        Value::Object(m)
    }

    /// Takes the fault for an endpoint (counting down `Times`).
    pub fn take_fault(&mut self, ep: Endpoint) -> Option<Fault> {
        let f = self.faults.get_mut(&ep)?;
        let out = match f {
            Fault::Times(n, inner) => {
                let inner = (**inner).clone();
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.faults.remove(&ep);
                }
                inner
            }
            other => other.clone(),
        };
        // Nested Times: unwrap to the innermost fault.
        let mut out = out;
        while let Fault::Times(_, inner) = out {
            out = *inner;
        }
        self.stats.faults_injected += 1;
        Some(out)
    }
}
