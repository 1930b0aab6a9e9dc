//! Who is on the other end of a loopback connection.
//!
//! Every local user can connect to `127.0.0.1`, and the start URL is on the opener's command
//! line (readable by all in `/proc/<pid>/cmdline`), so the listener serves only connections
//! whose peer socket belongs to the app's own user (issue 17). On Linux the kernel says whose a
//! socket is: the peer's end of our connection is the row of `/proc/net/tcp` (or `tcp6`, for a
//! v4-mapped IPv6 socket) whose local address is the peer's address and whose remote address
//! is ours; its `uid` column is the socket's owner. A connection whose row is not found (the
//! peer already closed, or a table that can't be read) is refused too.
//!
//! macOS keeps no owner for TCP sockets that another process can ask for, and Windows' owner
//! PID (`GetExtendedTcpTable`) is not checked yet: there every local connection is served, and
//! the one-time start URL, the `state` check and PKCE remain the protection (SECURITY.md).

use std::net::SocketAddr;
use std::sync::Arc;

/// Decides whether a connection from `peer` to our `local` address may be served.
pub(crate) type PeerCheck = Arc<dyn Fn(SocketAddr, SocketAddr) -> bool + Send + Sync>;

/// The check the listener uses unless a test swaps it: [`same_user`].
pub(crate) fn default_check() -> PeerCheck {
    Arc::new(same_user)
}

/// Whether the socket at `peer` (connected to our `local`) belongs to this process's
/// effective user. Linux only; elsewhere `true` (see the module docs).
#[cfg(target_os = "linux")]
pub(crate) fn same_user(peer: SocketAddr, local: SocketAddr) -> bool {
    let me = rustix::process::geteuid().as_raw();
    match owner_uid(peer, local) {
        Some(uid) if uid == me => true,
        Some(uid) => {
            tracing::warn!(uid, "refused a loopback connection from another user");
            false
        }
        None => {
            tracing::warn!("refused a loopback connection whose owner the kernel did not name");
            false
        }
    }
}

/// Elsewhere there is no per-connection owner to ask for (see the module docs).
#[cfg(not(target_os = "linux"))]
pub(crate) fn same_user(_peer: SocketAddr, _local: SocketAddr) -> bool {
    true
}

/// The uid of the socket whose local end is `peer` and remote end is `local`, from
/// `/proc/net/tcp` and `/proc/net/tcp6`.
///
/// Reading the tables costs time in the number of open sockets, so concurrent checks share
/// one read: a snapshot taken after this call began holds every connection accepted before it
/// (500 connections at once would otherwise read the tables 500 times; see the hostile
/// listener tests). One read at a time; callers that arrive during a read use the next one.
#[cfg(target_os = "linux")]
fn owner_uid(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    use std::sync::Mutex;
    use std::time::Instant;
    static SNAPSHOT: Mutex<Option<Snapshot>> = Mutex::new(None);
    let asked = Instant::now();
    let key = (canonical(peer), canonical(local));
    let mut snapshot = SNAPSHOT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = snapshot.as_ref().filter(|s| s.taken >= asked) {
        return s.owners.get(&key).copied();
    }
    let taken = Instant::now();
    let mut owners = std::collections::HashMap::new();
    for table in [procfs::net::tcp(), procfs::net::tcp6()] {
        for row in table.into_iter().flatten() {
            owners
                .entry((canonical(row.local_address), canonical(row.remote_address)))
                .or_insert(row.uid);
        }
    }
    let uid = owners.get(&key).copied();
    *snapshot = Some(Snapshot { taken, owners });
    uid
}

/// One read of the TCP tables: (socket's local end, its remote end) → owner uid.
#[cfg(target_os = "linux")]
struct Snapshot {
    taken: std::time::Instant,
    owners: std::collections::HashMap<(SocketAddr, SocketAddr), u32>,
}

/// `a` with a v4-mapped IPv6 address as plain IPv4, so both tables' rows compare alike.
#[cfg(target_os = "linux")]
fn canonical(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip().to_canonical(), a.port())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_connection_of_our_own_is_ours_and_an_unknown_one_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        let client = TcpStream::connect(local).unwrap();
        let (_accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(
            owner_uid(peer, local),
            Some(rustix::process::geteuid().as_raw())
        );
        assert!(same_user(peer, local));
        // A peer with no socket in the table: unknown owner, refused.
        let nobody: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(owner_uid(nobody, local), None);
        assert!(!same_user(nobody, local));
    }
}
