using System.Diagnostics;
using Messaging.UnitTests.Contracts;

namespace Messaging.UnitTests.WebClient;

/// <summary>
/// The web client's pure logic (src/Edge/WebClient/app/model.js: timelines and gaps, receipts and
/// ticks, typing expiry, the resend outbox, back-off) is JavaScript: its tests are
/// <c>model.test.mjs</c>, run here with Node's built-in runner so that <c>make test</c> runs and
/// counts them. Node is a dependency of the build already (npm installs s3rver and Kafka).
/// </summary>
public sealed class WebClientModelTests
{
    [Fact]
    public async Task The_web_client_model_passes_its_node_tests()
    {
        var testFile = RepositoryFiles.PathOf("tests", "Messaging.UnitTests", "WebClient", "model.test.mjs");
        var start = new ProcessStartInfo("node", ["--test", "--test-reporter=tap", testFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start (is Node.js installed? make deps)");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();

        node.ExitCode.Should().Be(0, "node --test reported failures:\n{0}\n{1}", await output, await errors);
        (await output).Should().Contain("# fail 0").And.NotContain("# pass 0");
    }
}
