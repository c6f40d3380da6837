using Messaging.Contracts.Protocol;

namespace Messaging.Client;

/// <summary>The server answered a request with an <c>error</c> frame (see <see cref="ErrorCodes"/>).</summary>
public sealed class ChatServerException : Exception
{
    public ChatServerException(ErrorFrame error)
        : base($"{error.Code}: {error.Message}")
    {
        Error = error;
    }

    public ChatServerException()
        : this(new ErrorFrame(null, ErrorCodes.Internal, "unknown error"))
    {
    }

    public ChatServerException(string message)
        : this(new ErrorFrame(null, ErrorCodes.Internal, message))
    {
    }

    public ChatServerException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = new ErrorFrame(null, ErrorCodes.Internal, message);
    }

    public ErrorFrame Error { get; }

    public string Code => Error.Code;
}

/// <summary>The connection closed (or was closed by the server) while a request was waiting.</summary>
public sealed class ChatConnectionClosedException : Exception
{
    public ChatConnectionClosedException(int? closeStatus, string? description)
        : base($"connection closed ({closeStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no status"}: {description})")
    {
        CloseStatus = closeStatus;
    }

    public ChatConnectionClosedException()
        : this((int?)null, null)
    {
    }

    public ChatConnectionClosedException(string message)
        : base(message)
    {
    }

    public ChatConnectionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int? CloseStatus { get; }
}
