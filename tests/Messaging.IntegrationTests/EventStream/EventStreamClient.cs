using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.IntegrationTests.EventStream;

/// <summary>One Server-Sent Event as the wire carries it.</summary>
public sealed record ServerSentEvent(string? Id, string Event, string Data);

/// <summary>
/// A device on the HTTP fallback, read at the protocol level: <c>GET /v1/events</c> parsed line
/// by line (the SSE format), <c>POST /v1/commands</c> with one frame each.
/// </summary>
public sealed class EventStreamClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly string _token;
    private readonly Channel<ServerSentEvent> _events = Channel.CreateUnbounded<ServerSentEvent>();
    private readonly CancellationTokenSource _stop = new();
    private HttpResponseMessage? _response;
    private Task _reader = Task.CompletedTask;

    private EventStreamClient(Uri edge, string token)
    {
        _http = new HttpClient { BaseAddress = edge, Timeout = Timeout.InfiniteTimeSpan };
        _token = token;
    }

    /// <summary>The id of the last event read (what EventSource would send as <c>Last-Event-ID</c>).</summary>
    public string? LastEventId { get; private set; }

    public HttpStatusCode Status => _response?.StatusCode ?? 0;

    public static async Task<EventStreamClient> OpenAsync(Uri edge, string token, string? lastEventId = null)
    {
        var client = new EventStreamClient(edge, token);
        await client.StartAsync(lastEventId);
        return client;
    }

    private async Task StartAsync(string? lastEventId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        _response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _stop.Token);
        if (_response.IsSuccessStatusCode)
        {
            _reader = ReadAsync(await _response.Content.ReadAsStreamAsync(_stop.Token));
        }
    }

    private async Task ReadAsync(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? id = null;
        var name = "message";
        var data = new StringBuilder();
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0)
                    {
                        LastEventId = id ?? LastEventId;
                        _events.Writer.TryWrite(new ServerSentEvent(id, name, data.ToString()));
                    }

                    (id, name) = (null, "message");
                    data.Clear();
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = line[4..];
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line.AsSpan(6));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    /// <summary>Posts one client frame; the reply comes on the stream.</summary>
    public async Task<HttpResponseMessage> PostAsync(ClientFrame frame)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/commands")
        {
            Content = new StringContent(JsonSerializer.Serialize(frame, ContractsJsonContext.Default.ClientFrame), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return await _http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> PostRawAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/commands") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return await _http.SendAsync(request);
    }

    /// <summary>The next event named <paramref name="name"/> that matches, skipping others; fails after <paramref name="timeout"/>.</summary>
    public async Task<ServerSentEvent> WaitForEventAsync(string name, Func<ServerSentEvent, bool>? predicate, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var e in _events.Reader.ReadAllAsync(deadline.Token))
            {
                if (e.Event == name && (predicate is null || predicate(e)))
                {
                    return e;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new TimeoutException($"no '{name}' event within {timeout}");
    }

    /// <summary>The next frame (a <c>message</c> event) of type <typeparamref name="TFrame"/> that matches.</summary>
    public async Task<TFrame> WaitForAsync<TFrame>(Func<TFrame, bool>? predicate, TimeSpan timeout)
        where TFrame : ServerFrame
    {
        var e = await WaitForEventAsync("message", e => Decode(e) is TFrame frame && (predicate is null || predicate(frame)), timeout);
        return (TFrame)Decode(e);
    }

    public static ServerFrame Decode(ServerSentEvent e) => JsonSerializer.Deserialize(e.Data, ContractsJsonContext.Default.ServerFrame)!;

    /// <summary>Drops the stream the way a broken network does (no close event read).</summary>
    public async Task DropAsync()
    {
        await _stop.CancelAsync();
        _response?.Dispose();
        await _reader;
    }

    public async ValueTask DisposeAsync()
    {
        await DropAsync();
        _http.Dispose();
        _stop.Dispose();
    }
}
