using Messaging.Edge;
using Messaging.Hosting;
using Messaging.Hosting.Postgres;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddMessagingPostgres();
builder.AddPostgresHealthCheck();
builder.AddEdge();

var app = builder.Build();

app.MapServiceDefaults();
app.MapEdge();

app.Run();
