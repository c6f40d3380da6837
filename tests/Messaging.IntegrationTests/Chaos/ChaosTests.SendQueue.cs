using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Sockets;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.Chaos;

/// <summary>
/// The send-queue fault: a member of group 0 connects to node 0 and stops reading while the load
/// goes on and a flooder fills its socket with large messages of another chat; node 0 closes it
/// with 4003 (slow consumer) once its queue passes <c>Edge:MaxQueuedBytesPerConnection</c>; the
/// member then reads what was on the wire, reconnects and syncs, and the checker owes it every
/// accepted message of group 0 like any other member.
/// </summary>
public sealed partial class ChaosTests
{
    /// <summary>Near <c>Edge:MaxBodyBytes</c> (64 KiB): the fewest messages fill the queue.</summary>
    private const int FloodBodyChars = 60_000;

    /// <summary>Sends of the flooder in flight at once (each waits for its accept).</summary>
    private const int FloodInFlight = 8;

    private readonly string _slowId = Guid.NewGuid().ToString("N")[..6];
    private ClientWebSocket? _slowSocket;
    private ChatClient _flooder = null!;
    private string _floodChat = "";

    private string SlowUser => "slow-" + _slowId;

    private string SlowDevice => SlowUser + "-phone";

    private string FloodUser => "flood-" + _slowId;

    private async Task PrepareFloodAsync()
    {
        _flooder = await _system.ConnectAsync(0, FloodUser, FloodUser + "-phone");
        _floodChat = await _flooder.CreateChatAsync([SlowUser], "flood");
    }

    private async Task FillSendQueueAsync()
    {
        var edge = _system.Edges[0];
        var token = await ChatClient.GetDevTokenAsync(edge.BaseAddress, SlowUser, SlowDevice);
        _slowSocket = new ClientWebSocket();
        _slowSocket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        // A small receive buffer: the kernel holds little for the socket that does not read, so the
        // node's queue (1 MiB) fills after a few dozen large messages instead of megabytes of TCP window.
        using var handler = new SocketsHttpHandler { ConnectCallback = ConnectWithSmallReceiveBufferAsync };
        using var invoker = new HttpMessageInvoker(handler);
        await _slowSocket.ConnectAsync(new UriBuilder(edge.BaseAddress) { Scheme = "ws", Path = "/ws" }.Uri, invoker, CancellationToken.None);
        var registry = edge.Services.GetRequiredService<ConnectionRegistry>();
        var address = DeviceRef.AddressOf(SlowUser, SlowDevice);
        await Eventually.TrueAsync(() => Task.FromResult(registry.TryGet(address, out _)), Timeout, "the member that stops reading registered on node 0");

        var body = new string('z', FloodBodyChars);
        var floods = 0;
        var inflight = new List<Task>();
        var deadline = _clock.Elapsed + Timeout;
        while (!SlowConsumerClosed(registry, address))
        {
            if (_clock.Elapsed > deadline)
            {
                throw new TimeoutException($"the member that stopped reading was not closed 4003 after {floods} flood messages");
            }

            if (_flooder.Closed.IsCompleted)
            {
                // The flooder is a member too and gets its own messages back: on a loaded machine
                // its reading falls behind as well and it is closed 4003 like any slow client.
                _flooder = await _system.ConnectAsync(0, FloodUser, FloodUser + "-phone");
            }

            inflight.Add(FloodOnceAsync(body));
            floods++;
            if (inflight.Count >= FloodInFlight)
            {
                await Task.WhenAny(inflight);
                inflight.RemoveAll(t => t.IsCompleted);
            }
        }

        await Task.WhenAll(inflight);
        _notes.Add($"send queue full: node 0 closed the member 4003 after {floods} flood messages of {FloodBodyChars} characters");
    }

    private async Task FloodOnceAsync(string body)
    {
        try
        {
            await _flooder.SendMessageAsync(_floodChat, body, cancellationToken: CancellationToken.None);
        }
        catch (Exception ex) when (ex is ChatConnectionClosedException or WebSocketException or TimeoutException or ChatServerException or OperationCanceledException)
        {
            // Not accepted: the flood goes on until the member that stopped reading is closed.
        }
    }

    /// <summary>
    /// Node 0 closes the socket as a slow consumer (4003); it stays registered while the close
    /// waits for the client, up to <c>Edge:CloseTimeoutSeconds</c> (5 s), far longer than a flood step.
    /// </summary>
    private static bool SlowConsumerClosed(ConnectionRegistry registry, string address)
    {
        registry.TryGet(address, out var connection).Should().BeTrue("the member that stops reading is closed as a slow consumer, not dropped otherwise");
        return connection!.CloseCode == CloseCodes.SlowConsumer;
    }

    /// <summary>
    /// The member reads what is still on the wire, reconnects and syncs. After the fault window the
    /// node has usually aborted the socket (the client did not read the close frame within
    /// <c>Edge:CloseTimeoutSeconds</c>), so the read ends with the close frame or a reset.
    /// </summary>
    private async Task CatchUpSlowMemberAsync()
    {
        try
        {
            await ReadSlowSocketToItsEndAsync();
        }
        catch (WebSocketException)
        {
            // Aborted by the node after its close timeout: what the kernel held is gone, the sync has it.
        }

        var client = await ConnectAsync(SlowUser, null);
        await client.RequestAsync<SyncDoneFrame>(new SyncFrame(), CancellationToken.None);
        _clients[SlowUser] = client;
    }

    private async Task ReadSlowSocketToItsEndAsync()
    {
        var frames = _received.GetOrAdd(SlowUser, _ => new System.Collections.Concurrent.ConcurrentQueue<(MessageFrame, long)>());
        var buffer = new byte[128 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _slowSocket!.ReceiveAsync(buffer, CancellationToken.None);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage && result.MessageType == WebSocketMessageType.Text)
            {
                if (JsonSerializer.Deserialize(message.GetBuffer().AsSpan(0, (int)message.Length), ContractsJsonContext.Default.ServerFrame) is MessageFrame m)
                {
                    frames.Enqueue((m, _clock.ElapsedMilliseconds));
                }

                message.SetLength(0);
            }
        }
        while (result.MessageType != WebSocketMessageType.Close);

        _slowSocket.CloseStatus.Should().Be((WebSocketCloseStatus)CloseCodes.SlowConsumer, "a member that stops reading is closed as a slow consumer");
    }

    private static async ValueTask<Stream> ConnectWithSmallReceiveBufferAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
