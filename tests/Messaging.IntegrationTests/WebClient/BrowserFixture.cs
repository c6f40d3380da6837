using System.Text;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;
using Microsoft.Playwright;

namespace Messaging.IntegrationTests.WebClient;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c> package: browsers cannot be downloaded here, so
/// Playwright drives that binary) against the whole system with two Edge nodes. Chromium runs
/// with <c>--no-sandbox</c> because the tests run as root in CI. No Chromium is a failure with
/// the fix in the message, never a skip. Chromium writes its own log to
/// .local/test-results/chromium-*.log, and a browser that dies is launched again (see <see cref="OpenAsync"/>).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Where Debian installs it (infra/scripts/install-deps.sh); CHROMIUM_PATH overrides.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private readonly SemaphoreSlim _launch = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private TaskCompletionSource _browserDied = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _logPath = "";

    public ChatSystem System { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium not found at {ChromiumPath}: the browser tests need Debian's chromium and chromium-driver packages " +
                "(make deps installs them: infra/scripts/install-deps.sh), or CHROMIUM_PATH naming a Chromium binary.");
        }

        await AllowBrowserUploadsAsync();
        System = await ChatSystem.StartAsync(edgeNodes: 2);
        _playwright = await Playwright.CreateAsync();
        await BrowserAsync();
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    /// <summary>
    /// The running Chromium, launched again if the last one died. Fresh-clone CI once lost the
    /// browser process on the class's first navigation (stop 31: six tests failed with
    /// "Target page, context or browser has been closed", the other 1,784 passed); one dead
    /// browser must not fail every later test of the class.
    /// </summary>
    public async Task<IBrowser> BrowserAsync()
    {
        await _launch.WaitAsync();
        try
        {
            if (_browser is { IsConnected: true })
            {
                return _browser;
            }

            if (_browser is not null)
            {
                await _browser.DisposeAsync();
            }

            var logDirectory = Path.Combine(ServiceProcess.RepoRoot(), ".local", "test-results");
            Directory.CreateDirectory(logDirectory);
            _logPath = Path.Combine(logDirectory, $"chromium-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}.log");
            _browser = await _playwright!.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--enable-logging", $"--log-file={_logPath}"],
            });
            var died = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _browser.Disconnected += (_, _) => died.TrySetResult();
            _browserDied = died;
            return _browser;
        }
        finally
        {
            _launch.Release();
        }
    }

    /// <summary>
    /// A browser session of its own (cookies, storage), like a second browser on another machine.
    /// If Chromium itself dies before the client has loaded (the browser process, not a page: a
    /// page cannot take the browser down), that is the machine, not the client under test: the
    /// browser is launched again and the page opened once more. A second death fails the test
    /// with the end of Chromium's log.
    /// </summary>
    public async Task<IPage> OpenAsync(int node, string userId, string deviceId, string query = "")
    {
        try
        {
            return await OpenOnceAsync(node, userId, deviceId, query);
        }
        catch (PlaywrightException first)
        {
            if (!await BrowserDiedAsync())
            {
                throw;
            }

            var firstLog = _logPath;
            await Console.Error.WriteLineAsync($"WebClientTests: Chromium died while the client loaded ({first.Message.Split('\n')[0]}); launching it again. Its log: {firstLog}");
            try
            {
                return await OpenOnceAsync(node, userId, deviceId, query);
            }
            catch (PlaywrightException second)
            {
                if (!await BrowserDiedAsync())
                {
                    throw;
                }

                throw new InvalidOperationException(
                    $"Chromium died twice while the client loaded ({first.Message.Split('\n')[0]}); its logs: {firstLog}, {_logPath}; last lines: {LogTail(_logPath)}",
                    second);
            }
        }
    }

    /// <summary>Whether the failure was the browser process going away (its disconnect may trail the failed call).</summary>
    private async Task<bool> BrowserDiedAsync()
    {
        var died = _browserDied.Task;
        await Task.WhenAny(died, Task.Delay(TimeSpan.FromSeconds(5)));
        return died.IsCompleted;
    }

    private async Task<IPage> OpenOnceAsync(int node, string userId, string deviceId, string query)
    {
        var browser = await BrowserAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 680 } });
        var page = await context.NewPageAsync();
        await GotoAsync(page, node, userId, deviceId, query);
        return page;
    }

    private static string LogTail(string path)
    {
        try
        {
            // Without a session bus every launch logs a dozen D-Bus errors; they say nothing of a death.
            var lines = File.ReadAllLines(path).Where(line => !line.Contains("dbus", StringComparison.OrdinalIgnoreCase) && !line.Contains("D-Bus", StringComparison.Ordinal)).ToArray();
            return lines.Length == 0 ? "(nothing but D-Bus noise)" : string.Join(" | ", lines[Math.Max(0, lines.Length - 3)..]);
        }
        catch (IOException e)
        {
            return $"(unreadable: {e.Message})";
        }
    }

    /// <summary>Loads the client from Edge node <paramref name="node"/> signed in as the device, and waits until it is online.</summary>
    public async Task GotoAsync(IPage page, int node, string userId, string deviceId, string query = "")
    {
        var url = new Uri(System.Edges[node].BaseAddress, $"/?user={Uri.EscapeDataString(userId)}&device={Uri.EscapeDataString(deviceId)}{query}");
        await page.GotoAsync(url.ToString());
        await Assertions.Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
    }

    /// <summary>
    /// The page PUTs attachments to s3rver, another origin: the bucket needs the CORS rule of
    /// infra/s3/cors.xml. stack.sh configures it at start; a stack started before that rule
    /// existed gets it here (s3rver takes an unsigned PutBucketCors).
    /// </summary>
    private static async Task AllowBrowserUploadsAsync()
    {
        var rule = await File.ReadAllTextAsync(Path.Combine(ServiceProcess.RepoRoot(), "infra", "s3", "cors.xml"));
        using var http = new HttpClient();
        using var response = await http.PutAsync($"{TestStack.S3ServiceUrl}/{TestStack.S3Bucket}?cors", new StringContent(rule, Encoding.UTF8, "application/xml"));
        response.EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _launch.Dispose();

        _playwright?.Dispose();
        if (System is not null)
        {
            await System.DisposeAsync();
        }
    }
}
