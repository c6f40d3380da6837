namespace Messaging.Contracts;

/// <summary>A user's device: the unit that receives messages and acknowledges them.</summary>
public sealed record DeviceRef(string UserId, string DeviceId);
