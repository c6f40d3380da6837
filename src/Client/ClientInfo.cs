namespace Messaging.Client;

/// <summary>Placeholder until the client lands.</summary>
public static class ClientInfo
{
    public const string ProtocolVersion = "v1";
}
