//! Kakao's clock, as its answers tell it.
//!
//! Desktop clocks are often minutes or hours off: a dead RTC battery, a VM restored from a
//! snapshot, a wrong time zone setting, an RTC kept in local time by another OS. Kakao judges
//! its tokens by its own clock, so the app does too. Every kauth and kapi answer carries a
//! `Date` header (RFC 9110 §6.6.1); how far this computer's clock is from it when the answer
//! arrives is the *clock offset*, and [`KakaoClock::now_unix`] is this computer's clock less
//! that offset. ID token times (`iat`, `exp`) and every token expiry are judged on it.
//!
//! The measurement is good to a second or two (the header has whole seconds, and the answer
//! spends some time on the way); the ID token check's leeway covers that. Until the first
//! answer arrives the offset is unknown and Kakao's time is taken to be this computer's; an
//! expiry stored earlier is better not judged by it then ([`KakaoClock::has_answered`]).

use super::http::HttpResponse;
use crate::clock::Clock;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// Earliest `Date` taken as Kakao's clock (2020-01-01T00:00:00Z, Unix seconds); an earlier one
/// is a broken header.
pub const EARLIEST_PLAUSIBLE_DATE: i64 = 1_577_836_800;
/// First `Date` no longer taken as Kakao's clock (2100-01-01T00:00:00Z, Unix seconds).
pub const LATEST_PLAUSIBLE_DATE: i64 = 4_102_444_800;

/// Marks "not measured yet" in the atomic; no real offset is this large.
const UNKNOWN: i64 = i64::MIN;

/// This computer's clock corrected to Kakao's. Cheap to clone; clones share the offset, so the
/// session's expiry decisions use what the [`KakaoClient`](super::KakaoClient) last measured.
#[derive(Clone)]
pub struct KakaoClock {
    local: Arc<dyn Clock>,
    /// This computer's clock minus Kakao's, in seconds; [`UNKNOWN`] until measured.
    offset: Arc<AtomicI64>,
    /// Whether any answer arrived, with a usable `Date` or not.
    answered: Arc<AtomicBool>,
}

impl std::fmt::Debug for KakaoClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KakaoClock")
            .field("offset_secs", &self.offset_secs())
            .finish()
    }
}

impl KakaoClock {
    /// Kakao's clock over `local` (this computer's), offset not measured yet.
    pub fn new(local: Arc<dyn Clock>) -> Self {
        KakaoClock {
            local,
            offset: Arc::new(AtomicI64::new(UNKNOWN)),
            answered: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether Kakao has answered since this clock was made (this run of the app). Before, the
    /// offset is unknown even if this computer's clock is hours off; after, it is measured, or
    /// Kakao's answers carry no usable `Date` and this computer's clock is all there is.
    pub fn has_answered(&self) -> bool {
        self.answered.load(Ordering::SeqCst)
    }

    /// How far this computer's clock is from Kakao's, in seconds: positive when it is ahead,
    /// negative when behind; `None` until an answer with a usable `Date` arrived.
    pub fn offset_secs(&self) -> Option<i64> {
        match self.offset.load(Ordering::SeqCst) {
            UNKNOWN => None,
            o => Some(o),
        }
    }

    /// Measures the offset from `response`'s `Date` header against this computer's clock now.
    /// Returns whether it did: an answer without a `Date`, or with one that does not parse or
    /// lies outside [`EARLIEST_PLAUSIBLE_DATE`]..[`LATEST_PLAUSIBLE_DATE`], leaves the offset as
    /// it was.
    pub fn observe(&self, response: &HttpResponse) -> bool {
        let local = self.local.now_unix();
        self.answered.store(true, Ordering::SeqCst);
        let Some((_, value)) = response.headers.iter().find(|(n, _)| n == "date") else {
            return false;
        };
        match parse_date(value) {
            Some(kakao) => {
                self.offset.store(
                    local.saturating_sub(kakao).max(UNKNOWN + 1),
                    Ordering::SeqCst,
                );
                true
            }
            None => {
                tracing::debug!("an answer's Date header is not a usable time; ignored");
                false
            }
        }
    }
}

impl Clock for KakaoClock {
    fn now_unix(&self) -> i64 {
        let local = self.local.now_unix();
        match self.offset_secs() {
            Some(offset) => local.saturating_sub(offset),
            None => local,
        }
    }
}

/// An HTTP date (RFC 9110 §5.6.7: IMF-fixdate, or the obsolete RFC 850 and asctime forms) as
/// Unix seconds; `None` when it does not parse or lies outside the plausible range.
pub fn parse_date(value: &str) -> Option<i64> {
    let time = httpdate::parse_http_date(value.trim()).ok()?;
    let secs = i64::try_from(time.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    (EARLIEST_PLAUSIBLE_DATE..LATEST_PLAUSIBLE_DATE)
        .contains(&secs)
        .then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    /// Sun, 06 Nov 1994 08:49:37 GMT is RFC 9110's example; this is 2025-06-01T00:00:00Z.
    const T: i64 = 1_748_736_000;
    const T_HTTP: &str = "Sun, 01 Jun 2025 00:00:00 GMT";

    fn dated(value: &str) -> HttpResponse {
        let mut r = HttpResponse::new(200, Vec::new());
        r.headers.push(("date".into(), value.into()));
        r
    }

    #[test]
    fn offset_is_this_computers_clock_minus_kakaos() {
        let local = ManualClock::new(T - 240);
        let k = KakaoClock::new(Arc::new(local.clone()));
        assert_eq!(k.offset_secs(), None);
        assert_eq!(k.now_unix(), T - 240, "unmeasured: this computer's time");
        assert!(k.observe(&dated(T_HTTP)));
        assert_eq!(k.offset_secs(), Some(-240), "4 minutes behind Kakao");
        assert_eq!(k.now_unix(), T);
        // The local clock runs on; Kakao's time runs with it.
        local.advance(100);
        assert_eq!(k.now_unix(), T + 100);
        // Ahead by 9 hours (an RTC kept in Korean local time read as UTC).
        local.set(T + 9 * 3600);
        assert!(k.observe(&dated(T_HTTP)));
        assert_eq!(k.offset_secs(), Some(9 * 3600));
        assert_eq!(k.now_unix(), T);
        // Clones share the measurement.
        let clone = k.clone();
        local.set(T);
        k.observe(&dated(T_HTTP));
        assert_eq!(clone.offset_secs(), Some(0));
    }

    #[test]
    fn the_three_http_date_forms_parse() {
        assert_eq!(parse_date(T_HTTP), Some(T));
        assert_eq!(parse_date(" Sun, 01 Jun 2025 00:00:00 GMT "), Some(T));
        assert_eq!(parse_date("Sunday, 01-Jun-25 00:00:00 GMT"), Some(T));
        assert_eq!(parse_date("Sun Jun  1 00:00:00 2025"), Some(T));
    }

    #[test]
    fn broken_or_absurd_dates_are_ignored_and_keep_the_last_measurement() {
        let local = ManualClock::new(T - 60);
        let k = KakaoClock::new(Arc::new(local));
        assert!(!k.has_answered());
        assert!(!k.observe(&HttpResponse::new(200, Vec::new())), "no Date");
        assert_eq!(k.offset_secs(), None);
        assert!(k.has_answered(), "an answer, just not a dated one");
        assert!(k.observe(&dated(T_HTTP)));
        for bad in [
            "",
            "yesterday",
            "Sun, 01 Jun 2025 00:00:00",
            "Sun, 01 Jun 2025 25:00:00 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sun, 01 Jun 2025 00:00:00 GMT\u{0}",
            "일, 01 6월 2025 00:00:00 GMT",
            "Sun, 01 Jun 20255 00:00:00 GMT",
            &"9".repeat(10_000),
        ] {
            assert!(!k.observe(&dated(bad)), "{bad:?} taken");
            assert_eq!(k.offset_secs(), Some(-60), "{bad:?} changed the offset");
        }
    }

    #[test]
    fn extreme_local_clocks_do_not_overflow() {
        for local in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX] {
            let k = KakaoClock::new(Arc::new(ManualClock::new(local)));
            assert!(k.observe(&dated(T_HTTP)));
            let _ = k.now_unix();
            assert!(k.offset_secs().is_some(), "{local}");
        }
    }
}
