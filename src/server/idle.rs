//! A connection that fails once no byte has moved either way for a while, so a
//! client that stops reading our answer, or stalls in the middle of a request, gives
//! its connection slot back. (A client that sends nothing is hyper's header-read
//! timeout's business; see [`super::HEADER_READ_TIMEOUT`].)

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `inner`, failing with [`io::ErrorKind::TimedOut`] from the first read, write or
/// flush that would wait once nothing was read or written for `timeout`.
///
/// The deadline is checked only while the connection waits on the socket: time the
/// server spends computing an answer never counts against the client.
pub struct IdleTimeout<S> {
    inner: S,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<S> IdleTimeout<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        IdleTimeout {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    /// Bytes moved: the connection is busy, restart the count.
    fn touch(&mut self) {
        let next = Instant::now() + self.timeout;
        self.deadline.as_mut().reset(next);
    }

    /// The socket would wait: fail if the connection has been idle too long, else
    /// wait for the socket or the deadline, whichever comes first.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        ready!(self.deadline.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no byte read or written for {}",
                humantime::format_duration(self.timeout)
            ),
        )))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => this.pending(cx),
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.touch();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Pending => this.pending(cx),
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.touch();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.pending(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.pending(cx),
            ready => ready,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const IDLE: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_times_out_a_read_and_traffic_restarts_the_count() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut server = IdleTimeout::new(server, IDLE);
        let (done, hold) = tokio::sync::oneshot::channel::<()>();
        // A byte every 0.6 * IDLE, three times, then silence (the pipe stays open).
        let peer = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(IDLE.mul_f64(0.6)).await;
                client.write_all(b"x").await.unwrap();
            }
            let _ = hold.await;
        });
        let start = Instant::now();
        let mut buf = [0u8; 8];
        for _ in 0..3 {
            assert_eq!(server.read(&mut buf).await.unwrap(), 1);
        }
        let last = Instant::now();
        assert!(last - start > IDLE, "kept open past IDLE by the traffic");
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(
            Instant::now() - last >= IDLE,
            "not before IDLE after the last byte"
        );
        assert_eq!(err.to_string(), "no byte read or written for 10s");
        let _ = done.send(());
        peer.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_times_out_a_write() {
        let (_client, server) = tokio::io::duplex(64);
        let mut server = IdleTimeout::new(server, IDLE);
        let start = Instant::now();
        // 64 bytes fit in the pipe; the rest waits on a peer that never reads.
        let err = server.write_all(&[b'x'; 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(Instant::now() - start >= IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn end_of_stream_is_not_an_error() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = IdleTimeout::new(server, IDLE);
        drop(client);
        let mut rest = Vec::new();
        assert_eq!(server.read_to_end(&mut rest).await.unwrap(), 0);
    }
}
