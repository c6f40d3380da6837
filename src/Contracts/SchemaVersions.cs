namespace Messaging.Contracts;

/// <summary>
/// The schema version (<c>v</c>) each record family is written with and the highest its codec
/// reads: one number per family, shared by the records' defaults, the codecs, the published
/// schemas and the Router's hand-written <c>EventRouted</c> encoder. docs/events.md lists what
/// each version changed.
/// </summary>
public static class SchemaVersions
{
    /// <summary>
    /// 3: no <c>recipientDevices</c> (the Router resolves devices for its node deliveries and keeps
    /// them out of the log); 2: recipients are device addresses <c>userId/deviceId</c> (v1: bare device ids).
    /// </summary>
    public const int ChatEvents = 3;

    /// <summary>
    /// 2: <c>device.sessions</c> and <c>device.acks</c> are keyed by the device address (v1: by the
    /// bare device id); <c>UserDevicesChanged</c> adds removed devices and a per-user version (a v1
    /// record reads as version 0 with nothing removed). Still 2 with <c>registered</c> added to
    /// <c>UserDevicesChanged</c>: an optional field older readers ignore, and a list without it
    /// reads as devices registered before registration times were recorded.
    /// </summary>
    public const int DeviceRecords = 2;

    /// <summary>2: <c>devices</c> (addresses) replaced v1's <c>deviceIds</c>.</summary>
    public const int NodeDeliveries = 2;

    /// <summary>Chat and device commands, parked records and client/server frames: unchanged since v1.</summary>
    public const int Initial = 1;
}
