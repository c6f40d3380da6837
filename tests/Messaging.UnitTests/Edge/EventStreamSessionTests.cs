using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge;
using Messaging.Edge.EventStream;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Sockets;
using Messaging.Edge.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Messaging.UnitTests.Edge;

/// <summary>The HTTP fallback's session: event ids, the replay ring a resume reads, and the resume window.</summary>
public sealed class EventStreamSessionTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly EdgeMetrics _metrics;
    private readonly Connection _connection;
    private readonly List<EventStreamSession> _expired = [];

    public EventStreamSessionTests()
    {
        _metrics = new EdgeMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), new ConnectionRegistry());
        _connection = new(new DeviceRef("ana", "web"), new EdgeOptions(), new RateLimitOptions(), _metrics, NullLogger.Instance);
    }

    [Fact]
    public void Frames_get_consecutive_ids_and_a_resume_replays_exactly_those_after_the_last_id_read()
    {
        using var session = Session(new EventStreamOptions());
        var ids = Enumerable.Range(1, 5).Select(i => Record(session, "p" + i)).ToList();

        ids.Should().Equal(1, 2, 3, 4, 5);
        var replay = new List<(long Id, SharedFrame Frame)>();
        session.TryReplay(3, replay).Should().BeTrue();
        replay.Select(r => r.Id).Should().Equal(4, 5);
        Release(replay);
    }

    [Fact]
    public void A_resume_from_the_last_id_written_replays_nothing_and_succeeds()
    {
        using var session = Session(new EventStreamOptions());
        Record(session, "p1");

        var replay = new List<(long Id, SharedFrame Frame)>();

        session.TryReplay(1, replay).Should().BeTrue();
        replay.Should().BeEmpty();
    }

    [Fact]
    public void A_resume_from_before_what_the_ring_still_holds_fails_so_a_new_session_syncs()
    {
        using var session = Session(new EventStreamOptions { ReplayFrames = 2 });
        for (var i = 1; i <= 4; i++)
        {
            Record(session, "p" + i);
        }

        var replay = new List<(long Id, SharedFrame Frame)>();

        session.TryReplay(1, replay).Should().BeFalse("frames 2 was evicted");
        session.TryReplay(2, replay).Should().BeTrue();
        replay.Select(r => r.Id).Should().Equal(3, 4);
        Release(replay);
    }

    [Fact]
    public void An_id_the_session_never_wrote_cannot_be_resumed()
    {
        using var session = Session(new EventStreamOptions());
        Record(session, "p1");

        session.TryReplay(7, []).Should().BeFalse();
    }

    [Fact]
    public void The_ring_is_bounded_in_bytes_and_releases_what_it_evicts()
    {
        using var session = Session(new EventStreamOptions { ReplayFrames = 1000, ReplayBytes = 100 });
        var first = SharedFrame.Encode(new PongFrame("a-rather-long-request-id-to-fill-the-ring-0123456789"));
        session.Record(first);
        first.References.Should().Be(2, "the caller's and the ring's");

        for (var i = 0; i < 5; i++)
        {
            Record(session, "another-long-request-id-0123456789-" + i);
        }

        first.References.Should().Be(1, "evicted from the ring, which released it");
        first.Release();
    }

    [Fact]
    public async Task A_detached_session_expires_after_the_resume_window_and_a_new_stream_stops_the_clock()
    {
        using var session = Session(new EventStreamOptions { ResumeSeconds = 20 });
        var attachment = await session.AttachAsync(CancellationToken.None);
        attachment.Dispose();

        _clock.Advance(TimeSpan.FromSeconds(19));
        _expired.Should().BeEmpty();
        var again = await session.AttachAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(60));
        _expired.Should().BeEmpty("a stream is attached again");

        again.Dispose();
        _clock.Advance(TimeSpan.FromSeconds(20));
        _expired.Should().Equal(session);
    }

    [Fact]
    public async Task A_newer_stream_takes_the_session_from_the_one_still_attached()
    {
        using var session = Session(new EventStreamOptions());
        var older = await session.AttachAsync(CancellationToken.None);

        var newer = session.AttachAsync(CancellationToken.None);

        older.Token.IsCancellationRequested.Should().BeTrue("the older stream is told to stop");
        newer.IsCompleted.Should().BeFalse("it waits until the older stream let go");
        older.Dispose();
        (await newer).Token.IsCancellationRequested.Should().BeFalse();
    }

    private EventStreamSession Session(EventStreamOptions options) => new(_connection, options, _clock, _expired.Add);

    private static long Record(EventStreamSession session, string id)
    {
        var frame = SharedFrame.Encode(new PongFrame(id));
        try
        {
            return session.Record(frame);
        }
        finally
        {
            frame.Release();
        }
    }

    private static void Release(List<(long Id, SharedFrame Frame)> frames)
    {
        foreach (var (_, frame) in frames)
        {
            frame.Release();
        }
    }

    public void Dispose()
    {
        _connection.Dispose();
        _metrics.Dispose();
        _services.Dispose();
    }
}
