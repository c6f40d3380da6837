using System.ComponentModel.DataAnnotations;

namespace Messaging.Projections.Retention;

/// <summary>Section <c>Projections:Retention</c>.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Projections:Retention";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// History rows (<c>messages</c>) older than this are deleted (the product's 30-day promise):
    /// undelivered events expire with them, as a device's pending events are the history after its cursor.
    /// </summary>
    [Range(1, 36_500)]
    public int HistoryDays { get; set; } = 30;

    /// <summary>Time between sweeps.</summary>
    [Range(1, 86_400)]
    public int IntervalSeconds { get; set; } = 300;

    /// <summary>Rows per delete statement: each is its own short transaction, so the live projection never waits long on it.</summary>
    [Range(1, 1_000_000)]
    public int DeleteBatchRows { get; set; } = 5000;
}
