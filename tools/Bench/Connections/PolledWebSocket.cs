using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Messaging.Bench.Connections;

/// <summary>What a <see cref="PolledWebSocket"/> hands its owner; called on the poller's thread.</summary>
internal interface IPolledWebSocketOwner
{
    /// <summary>A whole text or binary message (fragments joined); the span is valid only during the call.</summary>
    void OnMessage(ReadOnlySpan<byte> payload);
}

/// <summary>
/// The client side of RFC 6455 over a blocking TCP socket that a <see cref="SocketPoller"/> reads:
/// the upgrade handshake, unmasked server frames parsed from one growing buffer, pings answered,
/// the close handshake; sends are masked and written by the caller's thread (one at a time).
/// Only what the bench needs: no extensions, no TLS (wss:// stays on ClientWebSocket).
/// </summary>
internal sealed class PolledWebSocket : IDisposable
{
    private const int MaxHandshakeBytes = 16 * 1024;
    private const int InitialBufferBytes = 4096;
    private const byte OpContinuation = 0x0;
    private const byte OpText = 0x1;
    private const byte OpBinary = 0x2;
    private const byte OpClose = 0x8;
    private const byte OpPing = 0x9;
    private const byte OpPong = 0xA;
    private const int MaxClientHeaderBytes = 14;

    private readonly Socket _socket;
    private readonly SocketPoller _poller;
    private readonly IPolledWebSocketOwner _owner;
    private readonly int _maxMessageBytes;
    private readonly Lock _sendLock = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _descriptor;
    private byte[] _buffer;
    private int _filled;
    private ArrayBufferWriter<byte>? _fragments;
    private uint _maskState;
    private long _pollerId;
    private bool _closeSent;
    private int _done;
    private long _pingsAnswered;

    private PolledWebSocket(Socket socket, SocketPoller poller, IPolledWebSocketOwner owner, int maxMessageBytes, ReadOnlySpan<byte> leftover)
    {
        _socket = socket;
        _poller = poller;
        _owner = owner;
        _maxMessageBytes = maxMessageBytes;
        _descriptor = (int)socket.Handle;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(InitialBufferBytes, leftover.Length));
        leftover.CopyTo(_buffer);
        _filled = leftover.Length;
        _maskState = (uint)Random.Shared.Next() | 1u;
    }

    /// <summary>Completes when the connection ended: closed by either side (no exception) or failed (the exception).</summary>
    public Task Completion => _closed.Task;

    public bool IsOpen => Volatile.Read(ref _done) == 0 && !Volatile.Read(ref _closeSent);

    /// <summary>The close status the server sent, if it sent one.</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseStatusDescription { get; private set; }

    /// <summary>Pings of the server's keep-alive answered with a pong.</summary>
    public long PingsAnswered => Interlocked.Read(ref _pingsAnswered);

    internal int Descriptor => _descriptor;

    /// <summary>
    /// Connects and upgrades with blocking calls (run it on a thread of its own), then hands the
    /// socket to <paramref name="poller"/>. A refused upgrade throws with the server's status line.
    /// </summary>
    public static PolledWebSocket Connect(Uri uri, string bearerToken, SocketPoller poller, IPolledWebSocketOwner owner, int maxMessageBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cancel = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
        try
        {
            var milliseconds = (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds);
            socket.SendTimeout = milliseconds;
            socket.ReceiveTimeout = milliseconds;
            socket.Connect(uri.Host, uri.Port);

            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {bearerToken}\r\n\r\n";
            socket.Send(Encoding.ASCII.GetBytes(request));

            var response = new byte[MaxHandshakeBytes];
            var filled = 0;
            int headerEnd;
            while ((headerEnd = response.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (filled == response.Length)
                {
                    throw new WebSocketException(WebSocketError.HeaderError, $"The upgrade response from {uri} exceeded {MaxHandshakeBytes} bytes.");
                }

                var read = socket.Receive(response.AsSpan(filled));
                if (read == 0)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"{uri} closed the connection during the upgrade.");
                }

                filled += read;
            }

            var head = Encoding.ASCII.GetString(response, 0, headerEnd);
            var statusLine = head.Split("\r\n")[0];

            // The server is the system under test: its 101 is trusted without checking Sec-WebSocket-Accept.
            if (!statusLine.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                throw new WebSocketException(WebSocketError.NotAWebSocket, $"{uri} refused the upgrade: {statusLine}");
            }

            // Reads happen only once the poller saw data; a send that cannot finish within the
            // timeout fails the connection instead of holding its caller for good.
            socket.ReceiveTimeout = 0;
            var webSocket = new PolledWebSocket(socket, poller, owner, maxMessageBytes, response.AsSpan(headerEnd + 4, filled - headerEnd - 4));

            // Frames that came with the 101 (the server may speak first) are parsed before the
            // poller can read this socket, so that only one thread ever parses its buffer.
            webSocket.ParseFrames();
            webSocket._pollerId = poller.Add(webSocket);
            return webSocket;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new OperationCanceledException(cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one text message; false once the connection is closing or failed.</summary>
    public bool TrySendText(ReadOnlySpan<byte> payload) => TrySend(OpText, payload);

    /// <summary>Starts the close handshake; <see cref="Completion"/> completes when the server answers (or the socket ends).</summary>
    public bool TrySendClose(WebSocketCloseStatus status, string description)
    {
        Span<byte> body = stackalloc byte[125];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)status);
        var length = 2 + Encoding.UTF8.GetBytes(description.AsSpan(0, Math.Min(description.Length, 40)), body[2..]);
        lock (_sendLock)
        {
            var sent = TrySendLocked(OpClose, body[..length]);
            _closeSent = true;
            return sent;
        }
    }

    public void Dispose()
    {
        _poller.Remove(_pollerId, _descriptor);
        _socket.Dispose();
        Finish(null);
        lock (_sendLock)
        {
            _closeSent = true;
        }

        // The buffer is not returned to the pool: the poller may be reading into it right now.
    }

    /// <summary>Called by the poller's thread only: reads what arrived and hands over every whole message.</summary>
    internal void OnReadable()
    {
        if (Volatile.Read(ref _done) != 0)
        {
            return;
        }

        int read;
        try
        {
            if (_filled == _buffer.Length)
            {
                Grow(_buffer.Length * 2);
            }

            read = _socket.Receive(_buffer.AsSpan(_filled));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or WebSocketException)
        {
            End(ex is ObjectDisposedException ? null : ex);
            return;
        }

        if (read == 0)
        {
            End(Volatile.Read(ref _closeSent) ? null : new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The server closed the TCP connection without a close frame."));
            return;
        }

        _filled += read;
        ParseFrames();
    }

    private void ParseFrames()
    {
        var offset = 0;
        try
        {
            while (Volatile.Read(ref _done) == 0)
            {
                var available = _filled - offset;
                if (available < 2)
                {
                    break;
                }

                var first = _buffer[offset];
                var second = _buffer[offset + 1];
                if ((second & 0x80) != 0)
                {
                    throw new WebSocketException(WebSocketError.Faulted, "The server sent a masked frame.");
                }

                var header = 2;
                long length = second & 0x7F;
                if (length == 126)
                {
                    if (available < 4)
                    {
                        break;
                    }

                    length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(offset + 2));
                    header = 4;
                }
                else if (length == 127)
                {
                    if (available < 10)
                    {
                        break;
                    }

                    length = (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(offset + 2));
                    header = 10;
                }

                if (length > _maxMessageBytes)
                {
                    throw new WebSocketException(WebSocketError.Faulted, $"A server frame of {length} bytes exceeded {_maxMessageBytes}.");
                }

                var frameBytes = header + (int)length;
                if (available < frameBytes)
                {
                    if (frameBytes > _buffer.Length)
                    {
                        Compact(offset);
                        offset = 0;
                        Grow(frameBytes);
                    }

                    break;
                }

                OnFrame((first & 0x80) != 0, (byte)(first & 0x0F), _buffer.AsSpan(offset + header, (int)length));
                offset += frameBytes;
            }
        }
        catch (WebSocketException ex)
        {
            End(ex);
            return;
        }

        Compact(offset);
    }

    private void OnFrame(bool final, byte opcode, ReadOnlySpan<byte> payload)
    {
        switch (opcode)
        {
            case OpText or OpBinary when final && _fragments is null:
                _owner.OnMessage(payload);
                break;
            case OpText or OpBinary:
                _fragments = new ArrayBufferWriter<byte>(payload.Length * 2);
                _fragments.Write(payload);
                break;
            case OpContinuation when _fragments is not null:
                if (_fragments.WrittenCount + payload.Length > _maxMessageBytes)
                {
                    throw new WebSocketException(WebSocketError.Faulted, $"A server message exceeded {_maxMessageBytes} bytes.");
                }

                _fragments.Write(payload);
                if (final)
                {
                    var whole = _fragments;
                    _fragments = null;
                    _owner.OnMessage(whole.WrittenSpan);
                }

                break;
            case OpPing:
                if (TrySend(OpPong, payload))
                {
                    Interlocked.Increment(ref _pingsAnswered);
                }

                break;
            case OpPong:
                break;
            case OpClose:
                if (payload.Length >= 2)
                {
                    CloseStatus = (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(payload);
                    CloseStatusDescription = Encoding.UTF8.GetString(payload[2..]);
                }

                lock (_sendLock)
                {
                    if (!_closeSent)
                    {
                        _ = TrySendLocked(OpClose, payload.Length >= 2 ? payload[..2] : payload);
                        _closeSent = true;
                    }
                }

                End(null);
                break;
            default:
                throw new WebSocketException(WebSocketError.Faulted, $"The server sent opcode {opcode} out of place.");
        }
    }

    private bool TrySend(byte opcode, ReadOnlySpan<byte> payload)
    {
        lock (_sendLock)
        {
            return !_closeSent && TrySendLocked(opcode, payload);
        }
    }

    private bool TrySendLocked(byte opcode, ReadOnlySpan<byte> payload)
    {
        if (Volatile.Read(ref _done) != 0)
        {
            return false;
        }

        var frame = ArrayPool<byte>.Shared.Rent(MaxClientHeaderBytes + payload.Length);
        try
        {
            frame[0] = (byte)(0x80 | opcode);
            int header;
            if (payload.Length < 126)
            {
                frame[1] = (byte)(0x80 | payload.Length);
                header = 2;
            }
            else if (payload.Length <= ushort.MaxValue)
            {
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                header = 4;
            }
            else
            {
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                header = 10;
            }

            // A client must mask (RFC 6455 5.3); the key only has to vary, it guards proxies, not secrets.
            _maskState ^= _maskState << 13;
            _maskState ^= _maskState >> 17;
            _maskState ^= _maskState << 5;
            var mask = frame.AsSpan(header, 4);
            BinaryPrimitives.WriteUInt32LittleEndian(mask, _maskState);
            var body = frame.AsSpan(header + 4, payload.Length);
            for (var i = 0; i < payload.Length; i++)
            {
                body[i] = (byte)(payload[i] ^ mask[i & 3]);
            }

            _socket.Send(frame.AsSpan(0, header + 4 + payload.Length));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            End(ex is ObjectDisposedException ? null : ex);
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private void Compact(int offset)
    {
        if (offset == 0)
        {
            return;
        }

        var remaining = _filled - offset;
        if (remaining > 0)
        {
            _buffer.AsSpan(offset, remaining).CopyTo(_buffer);
        }

        _filled = remaining;
    }

    private void Grow(int atLeast)
    {
        if (atLeast > _maxMessageBytes + MaxClientHeaderBytes)
        {
            throw new WebSocketException(WebSocketError.Faulted, $"A server frame exceeded {_maxMessageBytes} bytes.");
        }

        var larger = ArrayPool<byte>.Shared.Rent(atLeast);
        _buffer.AsSpan(0, _filled).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>The connection is over: stop polling it and complete <see cref="Completion"/>.</summary>
    private void End(Exception? error)
    {
        _poller.Remove(_pollerId, _descriptor);
        Finish(error);
    }

    private void Finish(Exception? error)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return;
        }

        if (error is null)
        {
            _closed.TrySetResult();
        }
        else
        {
            _closed.TrySetException(error);
        }
    }
}
