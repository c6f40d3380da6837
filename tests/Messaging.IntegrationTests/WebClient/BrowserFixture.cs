using System.Text;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;
using Microsoft.Playwright;

namespace Messaging.IntegrationTests.WebClient;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c> package: browsers cannot be downloaded here, so
/// Playwright drives that binary) against the whole system with two Edge nodes. Chromium runs
/// with <c>--no-sandbox</c> because the tests run as root in CI. No Chromium is a failure with
/// the fix in the message, never a skip.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Where Debian installs it (infra/scripts/install-deps.sh); CHROMIUM_PATH overrides.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public ChatSystem System { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

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
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    /// <summary>A browser session of its own (cookies, storage), like a second browser on another machine.</summary>
    public async Task<IPage> OpenAsync(int node, string userId, string deviceId, string query = "")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 680 } });
        var page = await context.NewPageAsync();
        await GotoAsync(page, node, userId, deviceId, query);
        return page;
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
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (System is not null)
        {
            await System.DisposeAsync();
        }
    }
}
