namespace Messaging.Bench.Connections;

/// <summary>
/// One Edge node as the bench reaches it: the WebSocket URL given on the command line
/// (<c>ws://host:port</c>, <c>/ws</c> added when no path is given) and the HTTP base of the same
/// host and port, where the dev token endpoint lives.
/// </summary>
public sealed record EdgeEndpoint(int Node, Uri WebSocketUri, Uri HttpBase)
{
    private const string DefaultWebSocketPath = "/ws";

    public static EdgeEndpoint Parse(int node, string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "ws" && uri.Scheme != "wss"))
        {
            throw new FormatException($"--edge '{url}' is not a ws:// or wss:// URL.");
        }

        var path = uri.AbsolutePath == "/" ? DefaultWebSocketPath : uri.AbsolutePath;
        var webSocket = new UriBuilder(uri) { Path = path }.Uri;
        var http = new UriBuilder(uri) { Scheme = uri.Scheme == "wss" ? "https" : "http", Path = "/", Query = string.Empty }.Uri;
        return new EdgeEndpoint(node, webSocket, http);
    }

    public static IReadOnlyList<EdgeEndpoint> ParseAll(IReadOnlyList<string> urls)
    {
        var endpoints = new EdgeEndpoint[urls.Count];
        for (var i = 0; i < urls.Count; i++)
        {
            endpoints[i] = Parse(i, urls[i]);
        }

        return endpoints;
    }

    public override string ToString() => WebSocketUri.ToString();
}
