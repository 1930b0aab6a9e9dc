//! Loopback ports for tests that must name a port before the code under test binds it: a
//! redirect URI registered with the simulator, a listener's port list, a driver's port.
//!
//! Asking the kernel for port 0 and closing the socket races. That port comes from the
//! ephemeral range, and every connection opened meanwhile (tests run in parallel and speak HTTP)
//! may take it as its source port: the fault matrix once found its redirect port "in use by
//! another program". Ports below the ephemeral range are only ever taken by an explicit bind, so
//! a port picked there and handed out once stays free unless someone binds it on purpose.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};

/// Lowest port handed out; below it live well-known and commonly configured services.
const FLOOR: u32 = 10_000;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A port on 127.0.0.1 that is free now, below the ephemeral range, and not handed out before
/// by this process. Two processes start at different points (by process id).
///
/// # Panics
/// When no port in the range can be bound.
pub fn free_loopback_port() -> u16 {
    let span = ephemeral_low().max(FLOOR + 1_000) - FLOOR;
    let start = std::process::id().wrapping_mul(7_919) % span;
    pick(&NEXT, start, span)
        .unwrap_or_else(|| panic!("no free loopback port from {FLOOR} to {}", FLOOR + span - 1))
}

/// The first port from `FLOOR + start` on (wrapping within `span`) that binds, skipping those
/// `next` has already counted past.
fn pick(next: &AtomicU32, start: u32, span: u32) -> Option<u16> {
    (0..span).find_map(|_| {
        let port = FLOOR + (start + next.fetch_add(1, Ordering::Relaxed)) % span;
        let port = u16::try_from(port).ok()?;
        TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .ok()
            .map(|_| port)
    })
}

/// The first port of Linux's ephemeral range (`ip_local_port_range`); IANA's 49152 elsewhere.
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(49_152)
        .min(65_535)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_distinct_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..50).map(|_| free_loopback_port()).collect();
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            ports.len(),
            "a port was handed out twice: {ports:?}"
        );
        for p in ports {
            assert!(u32::from(p) >= FLOOR && u32::from(p) < ephemeral_low().max(FLOOR + 1_000));
            TcpListener::bind((Ipv4Addr::LOCALHOST, p)).expect("the port is free");
        }
    }

    #[test]
    fn a_bound_port_is_skipped_and_the_range_wraps() {
        // Two ports at the top of the range: hold the first, so the picker must skip it.
        let span = ephemeral_low().max(FLOOR + 1_000) - FLOOR;
        let (start, held_port) = (span - 2, FLOOR + span - 2);
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, u16::try_from(held_port).unwrap()))
            .expect("the test's port is free");
        let next = AtomicU32::new(0);
        let got = pick(&next, start, span).expect("a port");
        assert_eq!(u32::from(got), held_port + 1, "skips the bound port");
        let got = pick(&next, start, span).expect("a port");
        assert!(
            u32::from(got) < held_port,
            "wraps to the bottom of the range, got {got}"
        );
        drop(held);
    }
}
