using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Messaging.Edge.Sync;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Presence;

/// <summary><c>presence.get</c>, <c>presence.watch</c>, <c>presence.unwatch</c> and <c>GET /v1/presence</c>.</summary>
internal sealed class PresenceService(
    PresenceDirectory directory,
    PresenceWatches watches,
    PresenceAccess access,
    InboxCatchUp catchUp,
    TimeProvider clock,
    IOptions<EdgeOptions> options)
{
    /// <summary>How many refused user ids a <c>not_member</c> error names (the rest are counted): it stays a short message.</summary>
    private const int NamedInError = 5;

    private readonly int _max = options.Value.MaxPresenceWatches;

    /// <summary>A <c>presence</c> reply, or the <c>error</c> (<c>too_large</c>, <c>not_member</c>) to answer with.</summary>
    public async Task<ServerFrame> GetAsync(DeviceRef caller, IReadOnlyList<string> userIds, string? requestId, CancellationToken cancellationToken)
    {
        var ids = Distinct(userIds);
        if (ids.Count > _max)
        {
            return TooLarge(requestId);
        }

        if (await RefusedAsync(caller, ids, requestId, cancellationToken) is { } refused)
        {
            return refused;
        }

        var now = clock.GetUtcNow();
        return new PresenceFrame { Id = requestId, Users = ids.Select(u => directory.Snapshot(u, now)).ToList() };
    }

    public async Task GetAsync(Connection connection, GetPresenceFrame frame, CancellationToken cancellationToken) =>
        connection.TryPush(await GetAsync(connection.Device, frame.UserIds, frame.Id, cancellationToken));

    public async Task WatchAsync(Connection connection, WatchPresenceFrame frame, CancellationToken cancellationToken)
    {
        var ids = Distinct(frame.UserIds);
        // Checked before and after the database round trip: the first spares the query for a
        // request that cannot fit, the second is the one that counts (watches may have changed).
        if (!watches.Fits(connection, ids))
        {
            connection.TryPush(TooLarge(frame.Id));
            return;
        }

        if (await RefusedAsync(connection.Device, ids, frame.Id, cancellationToken) is { } refused)
        {
            connection.TryPush(refused);
            return;
        }

        if (!watches.Watch(connection, ids, frame.Id))
        {
            connection.TryPush(TooLarge(frame.Id));
        }
    }

    public Task UnwatchAsync(Connection connection, UnwatchPresenceFrame frame)
    {
        watches.Unwatch(connection, frame.UserIds);
        connection.TryPush(new AcceptedFrame(frame.Id));
        return Task.CompletedTask;
    }

    private async Task<ErrorFrame?> RefusedAsync(DeviceRef caller, IReadOnlyCollection<string> ids, string? requestId, CancellationToken cancellationToken)
    {
        var forbidden = await access.ForbiddenAsync(caller.UserId, ids, cancellationToken);
        if (forbidden.Count == 0)
        {
            return null;
        }

        // A chat created or joined a moment ago may not be projected yet (a client asks for its
        // new co-member's presence on the creation's push). Wait for the chat read model as a sync
        // does, then ask again about the users refused.
        await catchUp.WaitUnmeteredAsync(caller, cancellationToken);
        forbidden = await access.ForbiddenAsync(caller.UserId, forbidden, cancellationToken);
        if (forbidden.Count == 0)
        {
            return null;
        }

        var named = string.Join(", ", forbidden.Take(NamedInError));
        var more = forbidden.Count > NamedInError ? $" and {forbidden.Count - NamedInError} more" : "";
        return new ErrorFrame(requestId, ErrorCodes.NotMember, $"presence is visible only to users sharing a chat; none with {named}{more}");
    }

    private ErrorFrame TooLarge(string? requestId) =>
        new(requestId, ErrorCodes.TooLarge, $"at most {_max} users per request and watched per connection");

    private static List<string> Distinct(IReadOnlyList<string> userIds) => userIds.Distinct(StringComparer.Ordinal).ToList();
}
