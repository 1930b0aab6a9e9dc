//! HTML pages (no external assets). Element ids are part of the simulator's contract.

use crate::config::ConsentItem;
use crate::util::{esc, html_response};
use crate::Shared;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use std::sync::Arc;

const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font-family:-apple-system,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",sans-serif;background:#f5f5f5;color:#191919}
#sim-banner{background:#191919;color:#FEE500;text-align:center;font-size:13px;padding:6px 10px}
header{background:#FEE500;padding:14px 20px;font-weight:700;font-size:20px;letter-spacing:-0.5px}
header small{font-weight:400;font-size:13px;margin-left:8px;color:rgba(0,0,0,.6)}
main{max-width:420px;margin:28px auto;background:#fff;border-radius:12px;padding:24px 26px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 6px} p.sub{color:#555;font-size:14px;margin:0 0 18px}
label{display:block;font-size:14px;margin:12px 0 4px}
input[type=text],input[type=email],input[type=password],input:not([type]){width:100%;padding:11px 12px;border:1px solid #ccc;border-radius:6px;font-size:15px}
.row{display:flex;align-items:center;gap:8px;margin:10px 0;font-size:14px}
.row label{margin:0;display:inline}
button{font:inherit;cursor:pointer}
.primary{width:100%;background:#FEE500;color:rgba(0,0,0,.85);border:0;border-radius:12px;padding:13px;font-size:16px;font-weight:600;margin-top:14px}
.secondary{width:100%;background:#fff;color:#333;border:1px solid #ccc;border-radius:12px;padding:12px;font-size:15px;margin-top:8px}
.error{color:#d93025;font-size:14px;margin:10px 0} .tag{font-size:12px;color:#888}
.locked{accent-color:#888} .item{border-bottom:1px solid #eee;padding:6px 0}
.account{display:block;width:100%;text-align:left;background:#fff;border:1px solid #ddd;border-radius:10px;padding:12px;margin:8px 0}
#koe-code{font-family:monospace;font-weight:700;background:#FEE500;padding:2px 6px;border-radius:4px}
footer{text-align:center;font-size:12px;color:#888;margin:10px 0 30px}
code{background:#f0f0f0;padding:1px 4px;border-radius:3px}
"#;

/// Wraps a page body in the common layout.
pub fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · Kakao simulator</title><style>{CSS}</style></head>
<body>
<div id="sim-banner">카카오 시뮬레이터 (오프라인 샌드박스) — 실제 카카오가 아닙니다 · Kakao simulator (offline sandbox), not Kakao</div>
<header>kakao<small>simulator · 시뮬레이터</small></header>
<main>{body}</main>
<footer>Kakao simulator (offline sandbox), not Kakao. 이 페이지는 테스트용 시뮬레이터입니다.</footer>
</body></html>"#,
        title = esc(title)
    )
}

/// Login page.
pub fn login_page(tx: &str, prefill: &str, error: Option<&str>, note: Option<&str>) -> String {
    let error = error
        .map(|e| {
            format!(
                r#"<p id="login-error" class="error" role="alert">{}</p>"#,
                esc(e)
            )
        })
        .unwrap_or_default();
    let note = note
        .map(|n| format!(r#"<p class="sub">{}</p>"#, esc(n)))
        .unwrap_or_default();
    layout(
        "카카오계정 로그인",
        &format!(
            r#"<h1>카카오계정 로그인 <span class="tag">Kakao account login</span></h1>
<p class="sub">카카오계정으로 로그인합니다. Sign in with your Kakao account.</p>{note}
<form method="post" action="/oauth/login" autocomplete="off">
<input type="hidden" name="tx" value="{tx}">
<label for="login-id">카카오메일 아이디, 이메일, 전화번호 · Account (email or phone)</label>
<input type="text" id="login-id" name="login_id" value="{prefill}" autocomplete="username" autofocus>
<label for="login-password">비밀번호 · Password</label>
<input type="password" id="login-password" name="password" autocomplete="current-password">
<div class="row"><input type="checkbox" id="login-keep" name="keep" value="1"><label for="login-keep">로그인 상태 유지 · Stay signed in (1 month)</label></div>
{error}
<button type="submit" id="login-submit" class="primary">로그인 · Log in</button>
</form>"#,
            tx = esc(tx),
            prefill = esc(prefill),
        ),
    )
}

/// Account chooser (`prompt=select_account`). `accounts` = (user id, nickname, login).
pub fn chooser_page(tx: &str, accounts: &[(i64, String, String)]) -> String {
    let mut list = String::new();
    for (id, nick, login) in accounts {
        list.push_str(&format!(
            r#"<button type="submit" class="account" id="account-{id}" name="account" value="{id}"><b>{}</b><br><span class="tag">{}</span></button>"#,
            esc(nick),
            esc(login)
        ));
    }
    layout(
        "계정 선택",
        &format!(
            r#"<h1>계정 선택 <span class="tag">Choose an account</span></h1>
<p class="sub">로그인할 카카오계정을 선택하세요. Choose the Kakao account to continue with.</p>
<form method="post" action="/oauth/select">
<input type="hidden" name="tx" value="{tx}">
{list}
<button type="submit" class="secondary" id="account-other" name="account" value="other">다른 계정으로 로그인 · Use another account</button>
</form>"#,
            tx = esc(tx)
        ),
    )
}

/// Consent page.
pub fn consent_page(
    tx: &str,
    nickname: &str,
    client_id: &str,
    items: &[(ConsentItem, bool /* collect input needed */)],
    error: Option<&str>,
) -> String {
    let mut rows = String::new();
    for (item, collect) in items {
        let id = esc(&item.id);
        let (attrs, tag) = if item.required {
            (
                r#" checked class="locked" aria-disabled="true" onclick="return false""#,
                "[필수 · required]",
            )
        } else {
            (r#" class="optional""#, "[선택 · optional]")
        };
        let collect_input = if *collect {
            format!(
                r#"<input type="text" id="collect-{id}" name="collect_{id}" placeholder="{} 입력 · enter value">"#,
                esc(&item.display_name)
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            r#"<div class="item"><div class="row"><input type="checkbox" id="consent-{id}" name="scope" value="{id}"{attrs}><label for="consent-{id}"><span class="tag">{tag}</span> {}</label></div>{collect_input}</div>"#,
            esc(&item.display_name)
        ));
    }
    let error = error
        .map(|e| {
            format!(
                r#"<p id="consent-error" class="error" role="alert">{}</p>"#,
                esc(e)
            )
        })
        .unwrap_or_default();
    layout(
        "동의하고 계속하기",
        &format!(
            r#"<h1>{nick}님, 동의해 주세요 <span class="tag">Consent</span></h1>
<p class="sub">앱 <code>{client}</code>이(가) 다음 정보를 요청합니다. The app asks for the following.</p>
<form method="post" action="/oauth/consent">
<input type="hidden" name="tx" value="{tx}">
<div class="row item"><input type="checkbox" id="consent-all" name="consent_all" value="1" onclick="for(const c of document.querySelectorAll('input.optional'))c.checked=this.checked"><label for="consent-all"><b>전체 동의하기 · Agree to all</b></label></div>
{rows}
{error}
<button type="submit" id="consent-agree" class="primary" name="action" value="agree">동의하고 계속하기 · Agree and continue</button>
<button type="submit" id="consent-cancel" class="secondary" name="action" value="cancel" formnovalidate>취소 · Cancel</button>
</form>"#,
            nick = esc(nickname),
            client = esc(client_id),
            tx = esc(tx)
        ),
    )
}

/// Kakao's logout choice page (`GET /oauth/logout`, REFERENCE §6, Decision 14): log out of
/// this service only, or of the Kakao account too. `nick`: the browser's current account.
pub fn logout_choice_page(id: &str, nick: &str) -> String {
    layout(
        "로그아웃",
        &format!(
            r#"<h1>로그아웃 <span class="tag">Log out</span></h1>
<p class="sub" id="logout-account">{nick} 님</p>
<form method="post" action="/oauth/logout/choose">
<input type="hidden" name="id" value="{id}">
<button type="submit" class="secondary" id="logout-choice-service" name="choice" value="service">이 서비스만 로그아웃 · Log out of this service only</button>
<button type="submit" class="primary" id="logout-choice-account" name="choice" value="account">카카오계정과 함께 로그아웃 · Log out of the Kakao account too</button>
</form>"#,
            id = esc(id),
            nick = esc(nick),
        ),
    )
}

/// Error page with a KOE code (configuration errors never redirect).
pub fn error_page(code: &str, explanation: &str) -> String {
    layout(
        "앱 관리자 설정 오류",
        &format!(
            r#"<h1>앱 관리자 설정 오류 <span class="tag">Admin Settings Issue</span></h1>
<p>에러 코드 · Error code: <span id="koe-code">{}</span></p>
<p id="koe-message">{}</p>
<p class="sub">서비스 관리자에게 문의하세요. Contact the service administrator.</p>"#,
            esc(code),
            esc(explanation)
        ),
    )
}

/// `GET /`: what this server is.
pub async fn index(State(sh): State<Arc<Shared>>) -> Response<Body> {
    let (client_id, logins): (String, Vec<String>) = {
        let st = sh.lock();
        (
            st.app.client_id.clone(),
            st.users.values().map(|u| u.cfg.login.clone()).collect(),
        )
    };
    let users: String = logins
        .iter()
        .map(|l| format!("<li><code>{}</code></li>", esc(l)))
        .collect();
    let base = &sh.base_url;
    html_response(
        StatusCode::OK,
        layout(
            "Kakao simulator",
            &format!(
                r#"<h1>Kakao simulator</h1>
<p class="sub">This server imitates <code>kauth.kakao.com</code> and <code>kapi.kakao.com</code> for offline tests and the app's sandbox run. It is not Kakao.</p>
<p>client_id: <code>{}</code><br>Discovery: <a href="{base}/.well-known/openid-configuration">/.well-known/openid-configuration</a></p>
<p>Accounts (password: see the simulator README):</p><ul>{users}</ul>"#,
                esc(&client_id)
            ),
        ),
    )
}

/// `GET /__sim/img/{name}`: placeholder profile pictures, JPEG like Kakao's (`img_110x110.jpg`,
/// `img_640x640.jpg` on k.kakaocdn.net): a head and shoulders on a colour taken from the name
/// (grey for `default_*`), `_110` / `_100` / `_480` / `_640` in the name giving the size in
/// pixels (640 otherwise).
pub async fn image(Path(name): Path<String>) -> Response<Body> {
    let mut r = Response::new(Body::from(avatar_jpeg(&name)));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    r
}

/// The JPEG bytes [`image`] answers for `name`.
pub fn avatar_jpeg(name: &str) -> Vec<u8> {
    let size: u16 = ["110", "100", "480", "640"]
        .into_iter()
        .find(|n| name.contains(&format!("_{n}")))
        .and_then(|n| n.parse().ok())
        .unwrap_or(640);
    let bg = if name.starts_with("default") {
        [0xd8, 0xdd, 0xe3]
    } else {
        let hue = name.bytes().map(u32::from).sum::<u32>() % 360;
        hsl_to_rgb(hue as f32, 0.6, 0.7)
    };
    let n = f32::from(size);
    let mut pixels = Vec::with_capacity(usize::from(size) * usize::from(size) * 3);
    for y in 0..size {
        for x in 0..size {
            // In a 100×100 box, as the old SVG placeholder drew it.
            let (u, v) = (
                (f32::from(x) + 0.5) * 100.0 / n,
                (f32::from(y) + 0.5) * 100.0 / n,
            );
            let head = (u - 50.0).powi(2) + (v - 38.0).powi(2) <= 18.0f32.powi(2);
            let body = (20.0..=80.0).contains(&u) && v >= 62.0 && {
                // Rounded top corners, radius 20.
                let cx = u.clamp(40.0, 60.0);
                (u - cx).powi(2) + (v - 82.0).min(0.0).powi(2) <= 400.0
            };
            let px = if head || body {
                bg.map(|c| (f32::from(c) * 0.2 + 255.0 * 0.8) as u8)
            } else {
                bg
            };
            pixels.extend_from_slice(&px);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&pixels, size, size, jpeg_encoder::ColorType::Rgb)
        .expect("encoding an RGB buffer of the stated size into memory cannot fail");
    out
}

/// HSL (hue in degrees, saturation and lightness 0–1) to 8-bit RGB.
fn hsl_to_rgb(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r, g, b].map(|v| ((v + m) * 255.0).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::avatar_jpeg;

    /// JPEG's SOF0 frame header: height and width, big-endian, after the marker, length and
    /// precision.
    fn jpeg_size(b: &[u8]) -> (u16, u16) {
        let at = b
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("a baseline frame header");
        let be = |i: usize| u16::from_be_bytes([b[at + i], b[at + i + 1]]);
        (be(7), be(5))
    }

    #[test]
    fn pictures_are_jpeg_of_the_size_their_name_gives() {
        for (name, size) in [
            ("full_110.jpg", 110),
            ("full_640.jpg", 640),
            ("default_110.jpg", 110),
            ("me_480.jpg", 480),
            ("other.jpg", 640),
        ] {
            let b = avatar_jpeg(name);
            assert_eq!(&b[..2], [0xFF, 0xD8], "{name}: starts a JPEG");
            assert_eq!(&b[b.len() - 2..], [0xFF, 0xD9], "{name}: ends it");
            assert_eq!(jpeg_size(&b), (size, size), "{name}");
        }
        assert_ne!(
            avatar_jpeg("full_110.jpg"),
            avatar_jpeg("default_110.jpg"),
            "a member's picture is not the default one"
        );
    }
}
