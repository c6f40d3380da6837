using Messaging.Contracts.Protocol;
using Messaging.Edge.Commands;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Messaging.Edge;

/// <summary>
/// Answers any HTTP request whose PostgreSQL or Kafka call failed for lack of the service with
/// 503 problem details, code <c>unavailable</c>: the client should retry later, and nothing is
/// wrong with its request (a 500 said the opposite). Other exceptions stay 500.
/// </summary>
internal sealed class UnavailableExceptionHandler(IProblemDetailsService problems, ILogger<UnavailableExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client should wait before retrying (<c>Retry-After</c>).</summary>
    private const int RetryAfterSeconds = 5;

    /// <summary>
    /// The database or the broker could not be reached or refused for lack of resources: Npgsql's
    /// transient errors (connection refused or lost, timeouts, PostgreSQL shutting down or out of
    /// connections) and Kafka client errors. An SQL error (a bug) is not among them.
    /// </summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is NpgsqlException { IsTransient: true } || EdgeProducer.IsUnavailable(exception);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsUnavailable(exception))
        {
            return false;
        }

        EdgeLog.HttpUnavailable(logger, exception, httpContext.Request.Path);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service Unavailable",
                Detail = "a backing service (PostgreSQL or Kafka) is unavailable; retry later",
                Extensions = { ["code"] = ErrorCodes.Unavailable },
            },
        });
    }
}
