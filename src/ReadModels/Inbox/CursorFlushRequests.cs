using Messaging.Hosting.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.ReadModels.Inbox;

/// <summary>
/// Asks the <c>inbox</c> runner to write the cursors it holds now instead of at the end of its
/// page's linger (<c>Projections:InboxPageLingerMs</c>): a PostgreSQL notification on
/// <see cref="Channel"/>, with the schema as payload so that deployments (and test classes)
/// sharing a database do not cut each other's pages. Edge asks when a read that counts a device's
/// cursors (the chat list's unread count) finds the runner behind. A notification lost while the
/// runner reconnects only makes that read wait out the linger, within its bound.
/// </summary>
public sealed class CursorFlushRequests(NpgsqlDataSource dataSource, IOptions<PostgresOptions> postgres)
{
    public const string Channel = "messaging_inbox_flush";

    public string Schema { get; } = postgres.Value.Schema;

    public async Task RequestAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Channel });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Schema });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
