using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Hosting.Postgres;

public static class PostgresExtensions
{
    /// <summary>Registers one pooled <see cref="NpgsqlDataSource"/> whose search path is the configured schema.</summary>
    public static IHostApplicationBuilder AddMessagingPostgres(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PostgresOptions>()
            .Bind(builder.Configuration.GetSection(PostgresOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var connectionString = builder.Configuration.GetConnectionString("Messaging")
                ?? throw new InvalidOperationException("ConnectionStrings:Messaging is not set.");
            var options = sp.GetRequiredService<IOptions<PostgresOptions>>().Value;
            var csb = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = options.Schema, MaxPoolSize = options.MaxPoolSize };
            return new NpgsqlDataSourceBuilder(csb.ConnectionString).Build();
        });
        return builder;
    }
}
