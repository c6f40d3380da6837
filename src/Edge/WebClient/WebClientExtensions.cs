using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.WebClient;

/// <summary>Settings of the web client (section <c>WebClient</c>).</summary>
public sealed class WebClientOptions
{
    public const string Section = "WebClient";

    /// <summary>Serve the web client at <c>/</c>. It signs in with dev tokens, so it is useful only where <c>Auth:DevTokens</c> is on.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a browser may reuse a file before asking again (it revalidates with the ETag after).</summary>
    [Range(0, 86_400)]
    public int CacheSeconds { get; set; }
}

public static class WebClientExtensions
{
    /// <summary>The files in <c>WebClient/app</c> are embedded in the assembly (Edge.csproj).</summary>
    private const string Root = "WebClient/app";

    public static IHostApplicationBuilder AddEdgeWebClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebClientOptions>()
            .Bind(builder.Configuration.GetSection(WebClientOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// <c>GET /</c> and its files: a small chat client in plain JavaScript modules (no build step),
    /// served from the assembly so every Edge node serves the same one wherever it runs.
    /// </summary>
    public static IApplicationBuilder UseEdgeWebClient(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<WebClientOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        var files = new ManifestEmbeddedFileProvider(typeof(WebClientExtensions).Assembly, Root);
        var cacheControl = $"public, max-age={options.CacheSeconds}";
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = cacheControl,
        });
        return app;
    }
}
