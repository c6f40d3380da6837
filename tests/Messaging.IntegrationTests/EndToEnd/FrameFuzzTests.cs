using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Edge;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Issue 8: random and mutated frames against both Edge nodes of a whole system, while two users
/// talk beside the fuzzer. Every node keeps serving, every frame that cannot be valid gets an
/// error, nothing is parked by the Router or the Projections, and the conversation loses nothing.
/// The seed is logged; rerun one with <c>FUZZ_SEED=n</c>.
/// </summary>
public sealed class FrameFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int FramesPerNode = 300;
    private const int ConversationMessages = 40;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly string[] InputErrors = [ErrorCodes.BadFrame, ErrorCodes.UnknownType, ErrorCodes.TooLarge, ErrorCodes.TooManyMembers];

    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task Fuzzed_frames_get_errors_every_node_keeps_serving_nothing_is_parked_and_a_conversation_beside_them_loses_nothing()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        output.WriteLine($"fuzz seed {seed} (rerun with FUZZ_SEED={seed})");

        var ana = Unique("ana");
        var bo = Unique("bo");
        var mallory = Unique("mal");
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var boPhone = await _system.ConnectAsync(1, bo, bo + "-phone");
        var chatId = await anaPhone.CreateChatAsync([bo, mallory], "fuzz side");
        await boPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);

        // Regression (issue 8): a body with NUL was accepted, pushed live, then missing from history and sync.
        var nul = () => anaPhone.SendMessageAsync(chatId, "nul \0 body");
        (await nul.Should().ThrowAsync<ChatServerException>()).Which.Code.Should().Be(ErrorCodes.BadFrame);

        var conversation = TalkAsync(anaPhone, boPhone, chatId);
        var fuzzers = new[]
        {
            FuzzAsync(0, mallory, chatId, new Random(seed)),
            FuzzAsync(1, mallory, chatId, new Random(seed + 1)),
        };
        var stats = await Task.WhenAll(fuzzers);
        var sent = await conversation;
        foreach (var (node, kinds) in stats.Select((s, i) => (i, s)))
        {
            output.WriteLine($"node {node}: " + string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
        }

        // Every node still serves a well-formed request, from a fuzzing user too.
        for (var node = 0; node < 2; node++)
        {
            var fresh = await _system.ConnectAsync(node, mallory, mallory + "-after" + node);
            var accepted = await fresh.SendMessageAsync(chatId, "still serving " + node);
            sent.Add(accepted.MessageId);
        }

        // Nobody in the conversation lost a message, live or in history.
        foreach (var client in new[] { anaPhone, boPhone })
        {
            var seen = new HashSet<string>();
            while (!sent.IsSubsetOf(seen))
            {
                seen.Add((await client.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Timeout)).MessageId);
            }
        }

        await Harness.Eventually.TrueAsync(
            async () => (await anaPhone.HistoryAsync(chatId, limit: 500)).Messages.Select(m => m.MessageId).ToHashSet().IsSupersetOf(sent),
            Timeout,
            "every conversation message in history");

        // Nothing was parked: no command on the Router's dead-letter topic, no row in the projections' dead letters.
        (await _system.CountAsync("select count(*) from dead_letters")).Should().Be(0);
        var topics = _system.Router.Services.GetRequiredService<TopicNames>();
        var parked = await new TopicProbe(_system.Router.Services.GetRequiredService<KafkaClientFactory>(), topics.DeadLetter).ReadAllAsync();
        parked.Should().BeEmpty();
    }

    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private static async Task<HashSet<string>> TalkAsync(ChatClient ana, ChatClient bo, string chatId)
    {
        var sent = new HashSet<string>();
        for (var i = 0; i < ConversationMessages; i++)
        {
            var from = i % 2 == 0 ? ana : bo;
            sent.Add((await from.SendMessageAsync(chatId, $"message {i} ✨")).MessageId);
        }

        return sent;
    }

    /// <summary>Sends fuzzed frames on a raw socket, each followed by a ping; checks what came back before the pong.</summary>
    private async Task<Dictionary<string, int>> FuzzAsync(int node, string user, string chatId, Random random)
    {
        var edge = _system.Edges[node].BaseAddress;
        var token = await ChatClient.GetDevTokenAsync(edge, user, user + "-fuzz" + node);
        var endpoint = new UriBuilder(edge) { Scheme = "ws", Path = "/ws" }.Uri;
        var socket = await OpenAsync(endpoint, token);
        var kinds = new Dictionary<string, int>();
        for (var n = 0; n < FramesPerNode; n++)
        {
            var fuzz = FrameFuzzer.Next(random, chatId, "x" + n);
            kinds[fuzz.Kind] = kinds.GetValueOrDefault(fuzz.Kind) + 1;
            await socket.SendAsync(fuzz.Bytes, fuzz.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, CancellationToken.None);
            var pingId = "p" + n;

            // Validation errors are pushed by the receive loop before it reads the ping: they come before the pong.
            var errors = new List<string>();
            var closed = false;
            var ping = true;
            while (true)
            {
                using var frame = await PingThenReceiveAsync(socket, pingId, ping);
                ping = false;
                if (frame is null)
                {
                    // RFC 6455 8.1: a text frame that is not UTF-8 fails the connection (1007, or a
                    // reset while the ping is still being written), the documented close; nothing
                    // else may close it. The node keeps serving: reconnect.
                    (socket.CloseStatus is null or WebSocketCloseStatus.InvalidPayloadData).Should().BeTrue($"frame {n} ({fuzz.Kind}: {Preview(fuzz.Bytes)}) closed the socket");
                    IsUtf8(fuzz.Bytes).Should().BeFalse($"only invalid UTF-8 closes the socket, not frame {n} ({fuzz.Kind}: {Preview(fuzz.Bytes)})");
                    fuzz.Binary.Should().BeFalse();
                    kinds["closed-1007"] = kinds.GetValueOrDefault("closed-1007") + 1;
                    socket.Dispose();
                    socket = await OpenAsync(endpoint, token);
                    closed = true;
                    break;
                }

                var root = frame.RootElement;
                var type = root.GetProperty("type").GetString();
                if (type == "pong" && root.GetProperty("id").GetString() == pingId)
                {
                    break;
                }

                if (type == "error")
                {
                    errors.Add(root.GetProperty("code").GetString()!);
                }
            }

            if (fuzz.MustFail && !closed)
            {
                errors.Should().Contain(code => InputErrors.Contains(code), $"frame {n} ({fuzz.Kind}: {Preview(fuzz.Bytes)}) cannot be valid");
            }
        }

        socket.State.Should().Be(WebSocketState.Open);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        socket.Dispose();
        return kinds;
    }

    private static async Task<ClientWebSocket> OpenAsync(Uri endpoint, string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        await socket.ConnectAsync(endpoint, CancellationToken.None);
        return socket;
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static string Preview(byte[] bytes) => Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 160)));

    /// <summary>Sends the ping (once per fuzz frame) and returns the next frame, or null when the server closed the socket.</summary>
    private static async Task<JsonDocument?> PingThenReceiveAsync(ClientWebSocket socket, string pingId, bool ping)
    {
        try
        {
            if (ping)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"ping","id":"{{pingId}}"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
            }

            return await ReceiveAsync(socket);
        }
        catch (WebSocketException)
        {
            return null;
        }
    }

    /// <summary>The next frame, or null when the server closed the socket.</summary>
    private static async Task<JsonDocument?> ReceiveAsync(ClientWebSocket socket)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cancel.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonDocument.Parse(message.ToArray());
    }
}

/// <summary>One fuzzed frame: its bytes, whether no server could accept it, and what kind of mutation made it.</summary>
internal sealed record FuzzFrame(byte[] Bytes, bool MustFail, string Kind, bool Binary = false);

/// <summary>Random and mutated client frames from a seeded <see cref="Random"/>.</summary>
internal static class FrameFuzzer
{
    private static readonly string[] Kinds =
    [
        "valid", "nul", "lone-surrogate", "invalid-utf8", "wrong-type", "deep-nesting", "huge-array",
        "unknown-type", "no-type", "truncated", "random-bytes", "byte-flip", "binary",
    ];

    public static FuzzFrame Next(Random random, string chatId, string id)
    {
        var template = Templates(chatId, id)[random.Next(Templates(chatId, id).Length)];
        var kind = Kinds[random.Next(Kinds.Length)];
        var json = template.ToJsonString();
        return kind switch
        {
            "valid" => new(Utf8(json), false, kind),
            "nul" => new(Utf8(WithString(template, random, "a\\u0000b")), true, kind),
            "lone-surrogate" => new(Utf8(WithString(template, random, random.Next(2) == 0 ? "\\ud800x" : "x\\udfff")), true, kind),
            "invalid-utf8" => new(InvalidUtf8(template, random), true, kind, Binary: random.Next(2) == 0),
            "wrong-type" => new(Utf8(WrongType(template, random)), true, kind),
            "deep-nesting" => new(Utf8(Deep(json, 65 + random.Next(5000))), true, kind),
            "huge-array" => HugeArray(template, random, chatId, id),
            "unknown-type" => new(Utf8(json.Replace($"\"type\":\"{Type(template)}\"", $"\"type\":\"teleport.{random.Next(1000)}\"", StringComparison.Ordinal)), true, kind),
            "no-type" => new(Utf8(json.Replace($"\"type\":\"{Type(template)}\",", "", StringComparison.Ordinal)), true, kind),
            "truncated" => new(Utf8(json[..random.Next(1, json.Length - 1)]), true, kind),
            "random-bytes" => new(RandomBytes(random), true, kind),
            "byte-flip" => new(Flip(Utf8(json), random), false, kind),
            _ => new(Utf8(json), true, kind, Binary: true),
        };
    }

    private static System.Text.Json.Nodes.JsonObject[] Templates(string chatId, string id) =>
    [
        Parse($$"""{"type":"message.send","id":"{{id}}","chatId":"{{chatId}}","clientMsgId":"{{id}}","body":"hello"}"""),
        Parse($$"""{"type":"chat.create","id":"{{id}}","members":["fz1"],"title":"t"}"""),
        Parse($$"""{"type":"members.add","id":"{{id}}","chatId":"{{chatId}}","userIds":["fz2"]}"""),
        Parse($$"""{"type":"history","id":"{{id}}","chatId":"{{chatId}}","limit":2}"""),
        Parse($$"""{"type":"ack","id":"{{id}}","chatId":"{{chatId}}","seq":1}"""),
        Parse($$"""{"type":"media.upload","id":"{{id}}","contentType":"image/png","size":10,"fileName":"a.png"}"""),
        Parse($$"""{"type":"presence.get","id":"{{id}}","userIds":["fz1"]}"""),
        Parse($$"""{"type":"members.remove","id":"{{id}}","chatId":"{{chatId}}","userId":"fz2"}"""),
    ];

    private static System.Text.Json.Nodes.JsonObject Parse(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Type(System.Text.Json.Nodes.JsonObject frame) => frame["type"]!.GetValue<string>();

    /// <summary>The string fields other than <c>type</c>, array entries included (as "name[0]").</summary>
    private static List<string> StringFields(System.Text.Json.Nodes.JsonObject frame)
    {
        var fields = new List<string>();
        foreach (var (name, value) in frame)
        {
            if (name == "type")
            {
                continue;
            }

            if (value is System.Text.Json.Nodes.JsonValue v && v.GetValueKind() == JsonValueKind.String)
            {
                fields.Add(name);
            }
            else if (value is System.Text.Json.Nodes.JsonArray { Count: > 0 })
            {
                fields.Add(name + "[0]");
            }
        }

        return fields;
    }

    /// <summary>The frame with one string field's JSON text replaced by <paramref name="escaped"/> (already JSON-escaped).</summary>
    private static string WithString(System.Text.Json.Nodes.JsonObject template, Random random, string escaped)
    {
        var fields = StringFields(template);
        var field = fields[random.Next(fields.Count)];
        var copy = template.DeepClone().AsObject();
        const string marker = "@@FUZZ@@";
        if (field.EndsWith("[0]", StringComparison.Ordinal))
        {
            copy[field[..^3]]!.AsArray()[0] = marker;
        }
        else
        {
            copy[field] = marker;
        }

        return copy.ToJsonString().Replace(marker, escaped, StringComparison.Ordinal);
    }

    private static byte[] InvalidUtf8(System.Text.Json.Nodes.JsonObject template, Random random)
    {
        var text = WithString(template, random, "@@BYTES@@");
        var at = text.IndexOf("@@BYTES@@", StringComparison.Ordinal);
        byte[][] invalid = [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC0, 0xAF]];
        return [.. Utf8(text[..at]), .. invalid[random.Next(invalid.Length)], .. Utf8(text[(at + 9)..])];
    }

    private static string WrongType(System.Text.Json.Nodes.JsonObject template, Random random)
    {
        var copy = template.DeepClone().AsObject();
        var names = copy.Select(p => p.Key).Where(k => k != "type").ToList();
        var name = names[random.Next(names.Count)];
        var isNumber = copy[name] is System.Text.Json.Nodes.JsonValue v && v.GetValueKind() == JsonValueKind.Number;
        System.Text.Json.Nodes.JsonNode replacement = isNumber
            ? (random.Next(2) == 0 ? "seven" : new System.Text.Json.Nodes.JsonArray(1, 2))
            : random.Next(3) switch
            {
                0 => 42,
                1 => new System.Text.Json.Nodes.JsonObject { ["nested"] = true },
                _ => copy[name] is System.Text.Json.Nodes.JsonArray ? "not-a-list" : new System.Text.Json.Nodes.JsonArray("a"),
            };
        copy[name] = replacement;
        return copy.ToJsonString();
    }

    /// <summary>An id list far over its limit: bigger than the frame limit (too_large) or over the entry limit.</summary>
    private static FuzzFrame HugeArray(System.Text.Json.Nodes.JsonObject template, Random random, string chatId, string id)
    {
        var entries = random.Next(2) == 0 ? 30_000 : 2_000;
        var ids = string.Join(",", Enumerable.Range(0, entries).Select(i => $"\"u{i}\""));
        var json = random.Next(3) switch
        {
            0 => $$"""{"type":"members.add","id":"{{id}}","chatId":"{{chatId}}","userIds":[{{ids}}]}""",
            1 => $$"""{"type":"chat.create","id":"{{id}}","members":[{{ids}}],"title":"t"}""",
            _ => $$"""{"type":"presence.watch","id":"{{id}}","userIds":[{{ids}}]}""",
        };
        return new(Utf8(json), true, "huge-array");
    }

    /// <summary>A well-formed frame with an extra field nested past the JSON depth limit (64).</summary>
    private static string Deep(string json, int depth) => json[..^1] + ",\"deep\":" + new string('[', depth) + new string(']', depth) + "}";

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 300)];
        random.NextBytes(bytes);
        bytes[0] = (byte)"{[\"x0\xff"[random.Next(6)];
        return bytes;
    }

    private static byte[] Flip(byte[] bytes, Random random)
    {
        var at = random.Next(bytes.Length);
        bytes[at] = (byte)(bytes[at] ^ (1 << random.Next(8)));
        return bytes;
    }
}
