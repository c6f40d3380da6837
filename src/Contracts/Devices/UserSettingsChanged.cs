namespace Messaging.Contracts.Devices;

/// <summary>
/// <c>user.settings</c> (compacted, key: user id; written by Edge on <c>settings.set</c>): the
/// user's settings as a whole, latest record wins. A user without a record has the defaults.
/// </summary>
public sealed record UserSettingsChanged : DeviceRecord
{
    public required string UserId { get; init; }

    /// <summary>Read receipts (default on). Off: the user's reads are shown to nobody and the user sees nobody's.</summary>
    public required bool ReadReceipts { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }
}
