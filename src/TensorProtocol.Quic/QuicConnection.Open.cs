using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

// Opening a bidirectional stream without a round trip through the loop. Stream IDs are handed out in order, so
// while the peer's limit leaves room the caller can name the next ID itself and the loop opens it in ngtcp2 before
// any operation on it: work items run in the order they were posted, and claims are posted (never held in a batch)
// under the lock that orders them. Everything the loop knows about the limit is published under that lock.
public sealed unsafe partial class QuicConnection
{
    private readonly Lock _openLock = new();
    private long _claimableBidi;   // streams the peer allows that no open has claimed; 0 until connected
    private long _nextBidiId;      // the ID the next bidirectional open gets (set for a server in the constructor)
    private int _claimsInFlight;   // claimed, not yet opened in ngtcp2 by the loop
    private int _bidiOpensWaiting; // posted the slow way (and not finished): claims must not overtake them

    /// <summary>On the caller's thread: a stream opened without waiting for the loop, or null to go the slow way.</summary>
    private QuicStream? TryClaimBidiStream()
    {
        lock (_openLock)
        {
            if (_claimableBidi == 0 || _bidiOpensWaiting > 0)
            {
                return null;
            }
            var stream = new QuicStream(this, _nextBidiId, isLocal: true);
            _nextBidiId += 4;
            _claimableBidi--;
            _claimsInFlight++;
            // Never held in a QuicBatch: another thread's claim of the next ID could otherwise reach the loop first.
            _endpoint.PostUnbatched(() => OpenClaimedOnLoop(stream));
            return stream;
        }
    }

    private void OpenClaimedOnLoop(QuicStream stream)
    {
        // Only the loop publishes the limit, so no publication can fall between this and the open below.
        lock (_openLock)
        {
            _claimsInFlight--;
        }
        if (_terminalError is { } error)
        {
            stream.OnConnectionTerminated(error);
            return;
        }
        long id;
        int rv = ngtcp2.ngtcp2_conn_open_bidi_stream(Conn, &id, null);
        if (rv != 0 || id != stream.Id)
        {
            // The accounting above makes this impossible; if it ever happens, the stream IDs no longer match ngtcp2's.
            var broken = new QuicException(QuicErrorKind.InternalError, $"Opening claimed stream {stream.Id} failed ({(rv != 0 ? QuicNative.Ngtcp2Error(rv) : $"ngtcp2 chose {id}")}).");
            stream.OnConnectionTerminated(broken);
            CloseOnLoop(InternalErrorCode, "stream accounting failed");
            return;
        }
        _streams[id] = stream;
    }

    /// <summary>On the caller's thread, before posting: an open goes the slow way (claims must wait behind it).</summary>
    private void BeginSlowOpen(QuicStreamType type)
    {
        if (type == QuicStreamType.Bidirectional)
        {
            lock (_openLock)
            {
                _bidiOpensWaiting++;
            }
        }
    }

    /// <summary>Loop: a slow open finished (opened, failed or cancelled).</summary>
    private void EndSlowOpen(QuicStreamType type)
    {
        if (type == QuicStreamType.Bidirectional)
        {
            lock (_openLock)
            {
                _bidiOpensWaiting--;
            }
        }
    }

    /// <summary>
    /// Loop: republishes how many streams may be claimed, after anything that changed the peer's limit or the number
    /// opened in ngtcp2 (a slow open, MAX_STREAMS, becoming connected).
    /// </summary>
    private void PublishStreamCredit(long? openedId = null)
    {
        if (_state != State.Connected)
        {
            return;
        }
        long left = (long)ngtcp2.ngtcp2_conn_get_streams_bidi_left(Conn);
        lock (_openLock)
        {
            if (openedId is { } id)
            {
                _nextBidiId = id + 4;
            }
            _claimableBidi = Math.Max(0, left - _claimsInFlight);
        }
    }
}
