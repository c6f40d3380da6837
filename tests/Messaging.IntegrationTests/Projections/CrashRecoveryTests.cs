using System.Diagnostics;
using Confluent.Kafka;
using Messaging.Contracts.Serialization;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.Options;

namespace Messaging.IntegrationTests.Projections;

/// <summary>A real Projections process killed with SIGKILL in the middle of its work.</summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync();

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Killed_process_restarts_without_missing_or_duplicate_rows()
    {
        const int chats = 50;
        const int perChat = 400;
        const int total = chats * perChat;
        ProduceMany(chats, perChat);
        // The schema exists before the first probe (the process would also create it at start).
        await _ctx.MigrateAsync();

        using (var first = StartProcess())
        {
            await _ctx.WaitForAsync("select least(count(*), 2000) from messages", 2000, "the process to be mid-way", 120);
            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown hooks, a page may be in flight
            await first.WaitForExitAsync();
        }

        var atKill = await _ctx.CountAsync("select count(*) from messages");
        atKill.Should().BeLessThan(total, "the kill must land mid-way for this test to mean anything");

        using var second = StartProcess();
        try
        {
            await _ctx.WaitForAsync("select count(*) from messages", total, "every event after the restart", 180);
            await _ctx.WaitForAsync($"select count(*) from device_cursors where user_id = 'bob' and acked_seq = {perChat}", chats, "every cursor at its last ack after the restart", 180);
            (await _ctx.CountAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'inbox'")).Should().Be(chats * (perChat / AckEvery));
            // Rows and positions agree exactly: nothing applied without its checkpoint, nothing skipped.
            (await _ctx.CountAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'")).Should().Be(total);
            (await _ctx.CountAsync("select count(*) from (select chat_id from messages group by chat_id having count(*) = max(seq) and min(seq) = 1) x")).Should().Be(chats);
            (await _ctx.CountAsync("select count(*) from chats where last_seq = " + perChat)).Should().Be(chats);
            (await _ctx.CountAsync("select count(*) from dead_letters")).Should().Be(0);
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }
    }

    private const int AckEvery = 50;

    private void ProduceMany(int chats, int perChat)
    {
        var clients = new KafkaClientFactory(Options.Create(new KafkaOptions
        {
            BootstrapServers = TestStack.KafkaBootstrap,
            Client = Kafka(_ctx.Settings, "Kafka:Client:"),
            Producer = Kafka(_ctx.Settings, "Kafka:Producer:"),
        }));
        using var producer = clients.CreateProducer("crash-test");
        var failures = 0;
        for (var seq = 1; seq <= perChat; seq++)
        {
            for (var c = 0; c < chats; c++)
            {
                var chat = $"k{c}";
                var e = seq == 1 ? (Contracts.Events.ChatEvent)Events.Created(chat, ["alice", "bob"]) : Events.Message(chat, seq, "alice");
                producer.Produce(_ctx.Topics.ChatEvents, new Message<string, byte[]> { Key = chat, Value = Codecs.Events.Encode(e) }, Count);
                if (seq % AckEvery == 0)
                {
                    // Bob's phone reads along: its cursors must survive the kill too.
                    var ack = new Contracts.Devices.DeliveryAcked { DeviceId = "phone", UserId = "bob", ChatId = chat, Seq = seq, AckedAt = DateTimeOffset.UtcNow };
                    producer.Produce(_ctx.Topics.DeviceAcks, new Message<string, byte[]> { Key = "bob/phone", Value = Codecs.Devices.Encode(ack) }, Count);
                }
            }
        }

        void Count(DeliveryReport<string, byte[]> r)
        {
            if (r.Error.IsError)
            {
                Interlocked.Increment(ref failures);
            }
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        failures.Should().Be(0);
    }

    private Process StartProcess()
    {
        var dll = ServiceProcess.Dll("Projections");
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in _ctx.Settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        info.Environment["Projections__Runners"] = "chat,inbox";
        // Small pages: many transactions, so the kill very likely lands inside one.
        info.Environment["Projections__BatchSize"] = "200";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static Dictionary<string, string> Kafka(Dictionary<string, string?> settings, string prefix)
    {
        var result = new Dictionary<string, string>();
        foreach (var (key, value) in settings)
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && value is not null)
            {
                result[key[prefix.Length..]] = value;
            }
        }

        return result;
    }
}
