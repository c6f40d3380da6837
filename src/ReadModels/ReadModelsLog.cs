using Microsoft.Extensions.Logging;

namespace Messaging.ReadModels;

/// <summary>Every log line of the read-side library (source-generated).</summary>
internal static partial class ReadModelsLog
{
    [LoggerMessage(1, LogLevel.Information, "Applied migration {Version} {Name} to schema {Schema}")]
    public static partial void MigrationApplied(ILogger logger, int version, string name, string schema);
}
