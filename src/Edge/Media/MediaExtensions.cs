using Messaging.Edge.Auth;

namespace Messaging.Edge.Media;

public static class MediaExtensions
{
    /// <summary>Attachment URL signing against S3 (options from <c>S3</c>).</summary>
    public static IHostApplicationBuilder AddEdgeMedia(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<S3Options>()
            .Bind(builder.Configuration.GetSection(S3Options.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<MediaUrls>();
        builder.Services.AddSingleton<MediaAccess>();
        return builder;
    }

    /// <summary>
    /// <c>GET /v1/media/{key}</c>: 302 to a pre-signed GET URL, or with <c>?redirect=false</c> the
    /// URL as JSON. Only the uploader and members of a chat whose message carries the key get one
    /// (<see cref="MediaAccess"/>); anyone else gets 404 <c>not_found</c>, as for a key that does not exist.
    /// </summary>
    public static IEndpointRouteBuilder MapEdgeMedia(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/media/{**key}", GetAsync).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> GetAsync(HttpContext context, string key, bool? redirect, MediaUrls media, MediaAccess access, CancellationToken cancellationToken)
    {
        if (!await access.MayReadAsync(context.User.Device(), key, cancellationToken))
        {
            return Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, "no such attachment key");
        }

        var (url, expiresAt) = await media.DownloadAsync(key);
        return redirect == false
            ? Results.Json(new MediaUrlResponse(key, url, expiresAt), EdgeJsonContext.Default.MediaUrlResponse)
            : Results.Redirect(url);
    }
}
