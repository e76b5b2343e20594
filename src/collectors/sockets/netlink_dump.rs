//! One netlink dump request and its multipart answer, for any netlink
//! family the rust-netlink crates describe (sock_diag here, rtnetlink in
//! the `netconfig` collector).
//!
//! The crates give message types and their encoding; the request/answer
//! loop is written here because the only crate that provides one
//! (`rtnetlink`) is asynchronous (tokio) and would bring a runtime into a
//! tool that must start and finish in milliseconds.

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_sys::{Socket, SocketAddr};

/// Receive buffer size. The kernel sizes dump batches after the largest
/// buffer it has seen us offer, up to 32 KiB; 64 KiB leaves room.
const RECV_BUFFER: usize = 64 * 1024;

/// Why a dump gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Sending or receiving failed.
    #[error("netlink socket: {0}")]
    Io(#[source] io::Error),
    /// The kernel refused the request (for example `ENOENT`: no handler
    /// for this protocol in this kernel).
    #[error("kernel answered: {0}")]
    Kernel(#[source] io::Error),
    /// The answer's framing is broken (the rest of it is lost).
    #[error("malformed answer: {0}")]
    Framing(String),
}

/// What a dump returned besides its messages.
#[derive(Debug, Default)]
pub struct DumpEnd {
    /// The kernel flagged the dump as interrupted by a concurrent change
    /// (`NLM_F_DUMP_INTR`): it may miss or repeat entries.
    pub interrupted: bool,
    /// Messages that could not be decoded, with the decoder's reason.
    pub undecodable: Vec<String>,
}

/// A connected netlink socket of one protocol, opened in the calling
/// thread's network namespace.
pub struct Netlink {
    socket: Socket,
    buf: Vec<u8>,
    seq: u32,
}

impl Netlink {
    /// Opens a socket of `protocol` (`NETLINK_SOCK_DIAG`, `NETLINK_ROUTE`).
    ///
    /// # Errors
    ///
    /// The socket could not be created or bound.
    pub fn open(protocol: isize) -> io::Result<Self> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Netlink {
            socket,
            buf: vec![0; RECV_BUFFER],
            seq: 0,
        })
    }

    /// Sends `request` as a dump and hands every answer message to `each`.
    ///
    /// # Errors
    ///
    /// [`DumpError`] when the request could not be sent, the kernel refused
    /// it, or the answer stopped making sense; messages already handed to
    /// `each` stay valid.
    pub fn dump<I>(&mut self, request: I, mut each: impl FnMut(I)) -> Result<DumpEnd, DumpError>
    where
        I: NetlinkSerializable + NetlinkDeserializable + Debug,
        <I as NetlinkDeserializable>::Error: std::fmt::Display,
    {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(request));
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.socket.send(&out, 0).map_err(DumpError::Io)?;

        let mut end = DumpEnd::default();
        loop {
            let n = self
                .socket
                .recv(&mut &mut self.buf[..], libc::MSG_TRUNC)
                .map_err(DumpError::Io)?;
            if n > self.buf.len() {
                return Err(DumpError::Framing(format!(
                    "a {n}-byte datagram did not fit the {}-byte buffer",
                    self.buf.len()
                )));
            }
            let mut off = 0;
            while off < n {
                let rest = &self.buf[off..n];
                let len = rest
                    .get(..4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .ok_or_else(|| DumpError::Framing("truncated message header".into()))?;
                if len < 16 || len > rest.len() {
                    return Err(DumpError::Framing(format!(
                        "message length {len} with {} bytes left",
                        rest.len()
                    )));
                }
                let flags = u16::from_ne_bytes([rest[6], rest[7]]);
                if flags & NLM_F_DUMP_INTR != 0 {
                    end.interrupted = true;
                }
                match NetlinkMessage::<I>::deserialize(&rest[..len]) {
                    Ok(msg) => match msg.payload {
                        NetlinkPayload::InnerMessage(m) => each(m),
                        NetlinkPayload::Done(d) => {
                            if d.code < 0 {
                                return Err(DumpError::Kernel(io::Error::from_raw_os_error(
                                    -d.code,
                                )));
                            }
                            return Ok(end);
                        }
                        NetlinkPayload::Error(e) if e.code.is_some() => {
                            return Err(DumpError::Kernel(e.to_io()));
                        }
                        NetlinkPayload::Overrun(_) => {
                            return Err(DumpError::Framing("kernel reported an overrun".into()))
                        }
                        _ => {}
                    },
                    Err(e) => end.undecodable.push(e.to_string()),
                }
                // Messages are aligned to 4 bytes.
                off += (len + 3) & !3;
            }
        }
    }
}
