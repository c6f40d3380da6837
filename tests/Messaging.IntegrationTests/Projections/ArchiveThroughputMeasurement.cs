using System.Diagnostics;
using Messaging.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// How fast the archiver writes a pre-filled <c>chat.events</c> backlog to S3, and how fast a
/// rebuild re-ingests it from the archive (against the same rebuild from Kafka). Runs with
/// <c>PROJECTIONS_MEASURE=1</c>; <c>PROJECTIONS_MEASURE_EVENTS</c> sets the backlog (default 100,000).
/// </summary>
public sealed class ArchiveThroughputMeasurement(ITestOutputHelper output)
{
    [ProjectionsMeasurementFact]
    public async Task The_archiver_writes_a_backlog_and_a_rebuild_reads_it_back()
    {
        var total = int.TryParse(Environment.GetEnvironmentVariable("PROJECTIONS_MEASURE_EVENTS"), out var n) ? n : 100_000;
        await using var ctx = await ArchiveTests.ArchivingContextAsync("presence");
        // Files close by count (20 per 100,000 events); the last one per partition by age.
        ctx.Settings["Archive:MaxRecordsPerFile"] = (total / 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ctx.ProduceManyAsync(ProjectionsThroughputMeasurement.Backlog(total));
        await ctx.MigrateAsync();

        using var store = ArchiveTests.Store(ctx.Settings);
        var clock = Stopwatch.StartNew();
        var host = await ctx.StartAsync();
        var started = clock.Elapsed;
        var firstFile = TimeSpan.Zero;
        await Eventually.ReturnsAsync(
            async () =>
            {
                var archived = (await store.LoadManifestsAsync(CancellationToken.None)).Values.Sum(m => m.Files.Sum(f => f.Records));
                if (archived > 0 && firstFile == TimeSpan.Zero)
                {
                    firstFile = clock.Elapsed;
                }

                return archived;
            },
            archived => archived >= total,
            TimeSpan.FromMinutes(30),
            "the archive holding the backlog");
        var done = clock.Elapsed;
        await ctx.StopAsync(host);
        var manifests = await store.LoadManifestsAsync(CancellationToken.None);
        output.WriteLine($"archive: {total:N0} events in {(done - started).TotalSeconds:0.0} s from the host's start (group join and the last files' 1 s age included) = {total / (done - started).TotalSeconds:N0} events/s; first file recorded at {(firstFile - started).TotalSeconds:0.0} s; {manifests.Values.Sum(m => m.Files.Count)} files");

        foreach (var args in (string[][])[["rebuild", "--projection", "chat", "--from-archive"], ["rebuild", "--projection", "chat"]])
        {
            var rebuild = Stopwatch.StartNew();
            var (code, text) = await ctx.CliAsync(args);
            rebuild.Stop();
            code.Should().Be(0, text);
            output.WriteLine($"{string.Join(' ', args)}: {total:N0} events in {rebuild.Elapsed.TotalSeconds:0.0} s end to end = {total / rebuild.Elapsed.TotalSeconds:N0} events/s");
            foreach (var line in text.Split('\n').Where(l => l.Contains("(at ", StringComparison.Ordinal)))
            {
                output.WriteLine("  " + line.Trim());
            }

            (await ctx.CountAsync("select count(*) from messages")).Should().Be(total);
        }

        // One chat (m0, about 1/1,000 of the backlog) from the archive then Kafka, and from Kafka alone.
        foreach (var args in (string[][])[["rebuild", "--projection", "chat", "--chat", "m0", "--from-archive"], ["rebuild", "--projection", "chat", "--chat", "m0"]])
        {
            var rebuild = Stopwatch.StartNew();
            var (code, text) = await ctx.CliAsync(args);
            rebuild.Stop();
            code.Should().Be(0, text);
            output.WriteLine($"{string.Join(' ', args)}: {total:N0} events scanned in {rebuild.Elapsed.TotalSeconds:0.0} s = {total / rebuild.Elapsed.TotalSeconds:N0} events/s ({text.Split('\n').LastOrDefault(l => l.Contains("rebuilt from", StringComparison.Ordinal))?.Trim()})");
        }
    }
}
