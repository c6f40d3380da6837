namespace Messaging.Contracts.Topics;

/// <summary>
/// Topic names, with an optional prefix so that integration tests (and several environments on
/// one broker) get an isolated namespace without code changes.
/// </summary>
public sealed class TopicNames
{
    public TopicNames(string prefix = "")
    {
        Prefix = prefix;
        ChatCommands = prefix + "chat.commands";
        ChatEvents = prefix + "chat.events";
        ChatState = prefix + "chat.state";
        DeviceSessions = prefix + "device.sessions";
        UserDevices = prefix + "user.devices";
        UserCommands = prefix + "user.commands";
        DeviceAcks = prefix + "device.acks";
        UserSettings = prefix + "user.settings";
        DeadLetter = prefix + "deadletter";
    }

    public string Prefix { get; }

    /// <summary>Commands from Edge, keyed by chat id.</summary>
    public string ChatCommands { get; }

    /// <summary>The public, versioned event log of every chat, keyed by chat id.</summary>
    public string ChatEvents { get; }

    /// <summary>
    /// Compacted changelog of the Router's per-chat state, keyed by chat id. Settable: the Router
    /// may be pointed at a fresh one (<c>Router:ChatStateTopic</c>), which it rebuilds from
    /// <see cref="ChatEvents"/> (docs/router.md).
    /// </summary>
    public string ChatState { get; init; }

    /// <summary>Compacted device → Edge node registry, keyed by device id.</summary>
    public string DeviceSessions { get; }

    /// <summary>Compacted device list per user, keyed by user id; written only by the Router.</summary>
    public string UserDevices { get; }

    /// <summary>Device registrations and removals from Edge, keyed by user id; decided in order per user by the Router.</summary>
    public string UserCommands { get; }

    /// <summary>Client acknowledgements, keyed by device id.</summary>
    public string DeviceAcks { get; }

    /// <summary>Compacted per-user settings (read receipts on/off), keyed by user id; written by Edge.</summary>
    public string UserSettings { get; }

    /// <summary>Records a consumer could not decode or apply, with the reason.</summary>
    public string DeadLetter { get; }

    /// <summary>The delivery topic Edge node <paramref name="node"/> reads.</summary>
    public string DeliveryNode(int node) => Prefix + "delivery.node-" + node.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
