using Messaging.Hosting;
using Messaging.Hosting.Postgres;
using Messaging.Projections;
using Messaging.Projections.Cli;

// `migrate`, `rebuild` and `deadletters` run the operator CLI with the same configuration instead of the service.
if (ProjectionsCli.Handles(args))
{
    return await ProjectionsCli.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults();
builder.AddMessagingPostgres();
builder.AddProjections();

var app = builder.Build();
app.MapServiceDefaults();
app.MapProjections();
await app.RunAsync();
return 0;
