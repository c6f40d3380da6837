using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>Attachments through pre-signed URLs against s3rver: the bytes never pass through Edge.</summary>
public sealed class EdgeMediaTests(EdgeHost edge) : IClassFixture<EdgeHost>
{
    [Fact]
    public async Task A_presigned_upload_url_takes_a_real_put_and_the_download_url_returns_the_bytes()
    {
        var user = NextId("u");
        var client = await edge.ConnectAsync(user, NextId("d"));
        var bytes = Encoding.UTF8.GetBytes("a tiny picture " + Guid.NewGuid());
        var upload = await client.RequestUploadAsync("image/png", bytes.Length, "pic.png");
        upload.Key.Should().StartWith($"m/{user}/", "the key names its uploader");
        upload.ExpiresAt.Should().BeAfter(DateTimeOffset.UtcNow);

        using (var put = new HttpRequestMessage(HttpMethod.Put, upload.UploadUrl) { Content = new ByteArrayContent(bytes) })
        {
            put.Content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var stored = await edge.HttpClient.SendAsync(put);
            stored.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // A member of a chat whose message carries the key (rows as the projection writes them).
        var member = NextId("u");
        var chat = NextId("chat");
        await edge.ExecuteAsync("insert into chat_members (chat_id, user_id, role, joined_seq) values ($1, $2, 'member', 1)", chat, member);
        await edge.ExecuteAsync(
            "insert into messages (chat_id, seq, kind, sender_user_id, sender_device_id, attachments, sent_at) values ($1, 2, 'message', $2, 'd', $3::jsonb, now())",
            chat, user, "[{\"key\":\"" + upload.Key + "\",\"contentType\":\"image/png\",\"size\":3}]");
        using var redirect = await edge.HttpClient.SendAsync(edge.Get("/v1/media/" + upload.Key, edge.Token(member, "other-device")));
        redirect.StatusCode.Should().Be(HttpStatusCode.Redirect);
        (await edge.HttpClient.GetByteArrayAsync(redirect.Headers.Location)).Should().Equal(bytes);

        // Anyone else is told there is no such key: its existence is not revealed.
        using var stranger = await edge.HttpClient.SendAsync(edge.Get("/v1/media/" + upload.Key, edge.Token(NextId("u"), "other-device")));
        stranger.StatusCode.Should().Be(HttpStatusCode.NotFound);
        stranger.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");

        // The uploader, from any of their devices.
        using var asJson = await edge.HttpClient.SendAsync(edge.Get("/v1/media/" + upload.Key + "?redirect=false", edge.Token(user, "web")));
        using var body = JsonDocument.Parse(await asJson.Content.ReadAsStringAsync());
        (await edge.HttpClient.GetByteArrayAsync(body.RootElement.GetProperty("url").GetString())).Should().Equal(bytes);
    }

    [Fact]
    public async Task An_upload_over_the_attachment_limit_and_unknown_or_anonymous_downloads_are_refused()
    {
        var client = await edge.ConnectAsync(NextId("u"), NextId("d"));
        var tooBig = () => client.RequestUploadAsync("video/mp4", (100L * 1024 * 1024) + 1);
        (await tooBig.Should().ThrowAsync<ChatServerException>()).Which.Code.Should().Be(ErrorCodes.TooLarge);

        using var anonymous = await edge.HttpClient.SendAsync(edge.Get("/v1/media/m/" + Guid.NewGuid().ToString("N"), null));
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var notAKey = await edge.HttpClient.SendAsync(edge.Get("/v1/media/../etc/passwd", edge.Token("u", "d")));
        notAKey.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
