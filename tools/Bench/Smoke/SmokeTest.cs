using System.Diagnostics;
using System.Globalization;
using Messaging.Bench.Connections;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using Spectre.Console;

namespace Messaging.Bench.Smoke;

/// <summary>
/// The one-liner of issue 2, through the real client library: two users on two different Edge
/// nodes; A creates a chat with B and sends a message; B receives it. Prints each step and the
/// end-to-end latency; any failure or the timeout names the step that did not happen.
/// </summary>
public sealed class SmokeTest
{
    private readonly IReadOnlyList<EdgeEndpoint> _edges;
    private readonly TimeSpan _timeout;
    private readonly IAnsiConsole _console;

    public SmokeTest(IReadOnlyList<EdgeEndpoint> edges, TimeSpan timeout, IAnsiConsole console)
    {
        _edges = edges;
        _timeout = timeout;
        _console = console;
    }

    /// <summary>0 when B got the message, 1 with the failing step printed otherwise.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var step = "start";
        var started = Stopwatch.GetTimestamp();
        try
        {
            var run = Guid.NewGuid().ToString("N")[..8];
            var edgeA = _edges[0];
            var edgeB = _edges[_edges.Count > 1 ? 1 : 0];
            var userA = "smoke-a-" + run;
            var userB = "smoke-b-" + run;
            var options = new ChatClientOptions { RequestTimeout = _timeout };

            step = "get dev tokens";
            var tokenA = await ChatClient.GetDevTokenAsync(edgeA.HttpBase, userA, userA + "-phone", deadline.Token);
            var tokenB = await ChatClient.GetDevTokenAsync(edgeB.HttpBase, userB, userB + "-phone", deadline.Token);
            Done($"tokens for {userA} (from {edgeA.HttpBase}) and {userB} (from {edgeB.HttpBase})");

            step = "connect";
            await using var a = await ChatClient.ConnectAsync(edgeA.WebSocketUri, tokenA, options, deadline.Token);
            await using var b = await ChatClient.ConnectAsync(edgeB.WebSocketUri, tokenB, options, deadline.Token);
            Done($"A connected to {edgeA.WebSocketUri}, B connected to {edgeB.WebSocketUri}");

            step = "create chat";
            var chatId = await a.CreateChatAsync([userB], "smoke " + run, deadline.Token);
            Done($"A created chat {chatId} with B");

            step = "send message";
            var body = "hello from " + userA + " at " + DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
            var sentAt = Stopwatch.GetTimestamp();
            var accepted = await a.SendMessageAsync(chatId, body, "smoke-" + run, cancellationToken: deadline.Token);
            Done($"A's message is durable in the log: messageId {accepted.MessageId} after {Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds:0.0} ms");

            step = "receive on B";
            var (message, viaSync) = await WaitForAsync(b, accepted.MessageId, deadline.Token);
            var latency = Stopwatch.GetElapsedTime(sentAt);
            await b.AckAsync(message.ChatId, message.Seq, deadline.Token);
            Done($"B received seq {message.Seq} \"{message.Body}\" from {message.Sender.UserId}{(viaSync ? " (through sync)" : string.Empty)}");
            _console.MarkupLine(string.Create(
                CultureInfo.InvariantCulture,
                $"[bold green]smoke passed[/]: end-to-end latency {latency.TotalMilliseconds:0.0} ms (send on {edgeA.HttpBase.Authority} to receipt on {edgeB.HttpBase.Authority}); total {Stopwatch.GetElapsedTime(started).TotalSeconds:0.00} s"));
            return 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail(step, $"timed out after {_timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is ChatServerException or ChatConnectionClosedException or TimeoutException or HttpRequestException
            or InvalidOperationException or System.Net.WebSockets.WebSocketException)
        {
            return Fail(step, ex.Message);
        }
    }

    /// <summary>
    /// Waits for the push for half the remaining time, then asks with <c>sync</c>, in case B's
    /// device had not reached the Router's registry when the message was routed (the smoke still
    /// passes, and says so).
    /// </summary>
    private async Task<(MessageFrame Message, bool ViaSync)> WaitForAsync(ChatClient client, string messageId, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.WaitForAsync<MessageFrame>(m => m.MessageId == messageId, _timeout / 2, cancellationToken), false);
        }
        catch (TimeoutException)
        {
            _console.MarkupLine("[yellow]  not pushed live yet; B asks with sync[/]");
            var synced = await client.SyncAsync(cancellationToken: cancellationToken);
            foreach (var message in synced.Messages)
            {
                if (message.MessageId == messageId)
                {
                    return (message, true);
                }
            }

            throw new TimeoutException($"B got neither a push nor the message through sync ({synced.Count} frames synced).");
        }
    }

    private void Done(string what) => _console.MarkupLine("[green]ok[/] " + Markup.Escape(what));

    private int Fail(string step, string why)
    {
        _console.MarkupLine($"[bold red]smoke failed[/] at step '{Markup.Escape(step)}': {Markup.Escape(why)}");
        return 1;
    }
}
