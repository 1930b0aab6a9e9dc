//! Gates for race tests: an HTTP request or a keychain write that stops on its way until the
//! test releases it, so a test can put two changes of the session in a chosen order without
//! sleeping and guessing.

use kakao_signin_core::kakao::{HttpClient, HttpRequest, HttpResponse, TransportError};
use kakao_signin_core::vault::{self, MemoryStore, SecretStore};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Where a gated call stops. Blocking; from async code use [`Gate::arrived`].
#[derive(Default)]
pub struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    armed: bool,
    arrived: usize,
    open: bool,
}

impl Gate {
    /// A gate that lets everything through until [`Gate::arm`]ed.
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// From now on, matching calls stop here until [`Gate::release`].
    pub fn arm(&self) {
        let mut s = self.state.lock().unwrap();
        s.armed = true;
        s.open = false;
        s.arrived = 0;
    }

    /// Lets every held and every later call through.
    pub fn release(&self) {
        let mut s = self.state.lock().unwrap();
        s.open = true;
        self.changed.notify_all();
    }

    /// Waits (without blocking the runtime) until `n` calls have stopped at the armed gate.
    /// Panics after `timeout`, naming `what`.
    pub async fn arrived(self: &Arc<Self>, n: usize, timeout: Duration, what: &str) {
        let gate = self.clone();
        let ok = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + timeout;
            let mut s = gate.state.lock().unwrap();
            while s.arrived < n {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                s = gate.changed.wait_timeout(s, left).unwrap().0;
            }
            true
        })
        .await
        .unwrap();
        assert!(ok, "{what}: no call reached the gate within {timeout:?}");
    }

    /// A call passes: stops while the gate is armed and closed.
    fn pass(&self) {
        let mut s = self.state.lock().unwrap();
        if !s.armed || s.open {
            return;
        }
        s.arrived += 1;
        self.changed.notify_all();
        while !s.open {
            s = self.changed.wait(s).unwrap();
        }
    }
}

/// Which requests a [`GatedHttp`] stops.
pub type RequestFilter = Box<dyn Fn(&HttpRequest) -> bool + Send + Sync>;

/// An [`HttpClient`] that stops matching requests at a [`Gate`] before sending them.
pub struct GatedHttp {
    inner: Arc<dyn HttpClient>,
    gate: Arc<Gate>,
    matches: RequestFilter,
}

impl GatedHttp {
    /// Wraps `inner`; requests for which `matches` is true stop at `gate`.
    pub fn new(inner: Arc<dyn HttpClient>, gate: Arc<Gate>, matches: RequestFilter) -> Self {
        GatedHttp {
            inner,
            gate,
            matches,
        }
    }

    /// Stops refresh-token grants (RFC 6749 §6) at `gate`.
    pub fn refresh_grants(inner: Arc<dyn HttpClient>, gate: Arc<Gate>) -> Self {
        GatedHttp::new(
            inner,
            gate,
            Box::new(|r| {
                r.form
                    .iter()
                    .any(|(k, v)| k == "grant_type" && v == "refresh_token")
            }),
        )
    }
}

impl HttpClient for GatedHttp {
    fn prepare(&self) -> futures::future::BoxFuture<'_, ()> {
        self.inner.prepare()
    }

    fn send(
        &self,
        request: HttpRequest,
    ) -> futures::future::BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            if (self.matches)(&request) {
                let gate = self.gate.clone();
                tokio::task::spawn_blocking(move || gate.pass())
                    .await
                    .unwrap();
            }
            self.inner.send(request).await
        })
    }
}

/// A [`SecretStore`] over a [`MemoryStore`] whose writes of one account stop at a [`Gate`].
pub struct GatedStore {
    /// The entries themselves.
    pub inner: Arc<MemoryStore>,
    gate: Arc<Gate>,
    account: &'static str,
}

impl GatedStore {
    /// Writes of `account` stop at `gate`.
    pub fn new(inner: Arc<MemoryStore>, gate: Arc<Gate>, account: &'static str) -> Self {
        GatedStore {
            inner,
            gate,
            account,
        }
    }
}

impl SecretStore for GatedStore {
    fn get(&self, account: &str) -> Result<Option<String>, vault::Error> {
        self.inner.get(account)
    }

    fn set(&self, account: &str, value: &str) -> Result<(), vault::Error> {
        if account == self.account {
            self.gate.pass();
        }
        self.inner.set(account, value)
    }

    fn delete(&self, account: &str) -> Result<(), vault::Error> {
        self.inner.delete(account)
    }
}
