using Messaging.Hosting;
using Messaging.Router;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRouter();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
