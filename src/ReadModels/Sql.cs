using Npgsql;
using NpgsqlTypes;

namespace Messaging.ReadModels;

/// <summary>Small helpers for positional batch parameters.</summary>
public static class Sql
{
    public static NpgsqlParameter P(object? value, NpgsqlDbType type) =>
        new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    public static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var p in parameters)
        {
            command.Parameters.Add(p);
        }

        return command;
    }
}
