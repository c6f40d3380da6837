using System.Diagnostics;

namespace Messaging.Router.Routing;

/// <summary>The Router's span of a traced message: <c>chat.command decide</c>, a child of Edge's accept span.</summary>
public static class RouterTracing
{
    public const string Decide = "chat.command decide";

    public static readonly ActivitySource Source = new(RouterMetrics.MeterName);
}
