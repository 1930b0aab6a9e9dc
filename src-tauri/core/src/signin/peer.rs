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
#[cfg(target_os = "linux")]
fn owner_uid(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let same = |a: SocketAddr, b: SocketAddr| {
        a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical()
    };
    let find = |table: procfs::ProcResult<Vec<procfs::net::TcpNetEntry>>| {
        table.ok().and_then(|rows| {
            rows.into_iter()
                .find(|r| same(r.local_address, peer) && same(r.remote_address, local))
                .map(|r| r.uid)
        })
    };
    find(procfs::net::tcp()).or_else(|| find(procfs::net::tcp6()))
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
