using System.ComponentModel.DataAnnotations;

namespace Messaging.Projections.Retention;

/// <summary>Section <c>Projections:Retention</c>.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Projections:Retention";

    public bool Enabled { get; set; } = true;

    /// <summary>Undelivered inbox rows older than this are deleted (the product's 30-day promise).</summary>
    [Range(1, 36_500)]
    public int InboxDays { get; set; } = 30;

    /// <summary>History rows (<c>messages</c>) older than this are deleted.</summary>
    [Range(1, 36_500)]
    public int HistoryDays { get; set; } = 30;

    /// <summary>Time between sweeps.</summary>
    [Range(1, 86_400)]
    public int IntervalSeconds { get; set; } = 300;

    /// <summary>Rows per delete statement: each is its own short transaction, so the live projection never waits long on it.</summary>
    [Range(1, 1_000_000)]
    public int DeleteBatchRows { get; set; } = 5000;
}
