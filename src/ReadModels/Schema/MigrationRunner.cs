using Messaging.Hosting.Postgres;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.ReadModels.Schema;

/// <summary>
/// Applies the embedded scripts not yet recorded in <c>schema_migrations</c>, each in its own
/// transaction, under a session advisory lock so that processes starting together do not race.
/// </summary>
public sealed class MigrationRunner(NpgsqlDataSource dataSource, IOptions<PostgresOptions> postgres, ILogger<MigrationRunner> logger)
{
    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        var schema = postgres.Value.Schema;
        var scripts = MigrationCatalog.Embedded();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, null, "select pg_advisory_lock(@key)", AdvisoryLocks.Migrations(schema), cancellationToken);
        try
        {
            // The schema name passed validation (PostgresOptions: ^[a-z_][a-z0-9_]*$), so inlining it is safe.
            await ExecuteAsync(connection, null, $"""
                create schema if not exists {schema};
                create table if not exists {schema}.schema_migrations (
                    version    integer     not null primary key,
                    name       text        not null,
                    checksum   text        not null,
                    applied_at timestamptz not null default now())
                """, null, cancellationToken);

            var applied = new Dictionary<int, string>();
            await using (var read = new NpgsqlCommand($"select version, checksum from {schema}.schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied[reader.GetInt32(0)] = reader.GetString(1);
                }
            }

            var count = 0;
            foreach (var script in scripts)
            {
                if (applied.TryGetValue(script.Version, out var checksum))
                {
                    if (!string.Equals(checksum, script.Checksum, StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"Migration {script.Version}_{script.Name} changed after it was applied to schema '{schema}'. Add a new migration instead.");
                    }

                    continue;
                }

                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, tx, $"set local search_path = {schema}", null, cancellationToken);
                await ExecuteAsync(connection, tx, script.Sql, null, cancellationToken);
                await using (var record = new NpgsqlCommand($"insert into {schema}.schema_migrations (version, name, checksum) values (@v, @n, @c)", connection, tx))
                {
                    record.Parameters.AddWithValue("v", script.Version);
                    record.Parameters.AddWithValue("n", script.Name);
                    record.Parameters.AddWithValue("c", script.Checksum);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
                ReadModelsLog.MigrationApplied(logger, script.Version, script.Name, schema);
                count++;
            }

            return count;
        }
        finally
        {
            await ExecuteAsync(connection, null, "select pg_advisory_unlock(@key)", AdvisoryLocks.Migrations(schema), CancellationToken.None);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, long? key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        if (key is long k)
        {
            command.Parameters.AddWithValue("key", k);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
