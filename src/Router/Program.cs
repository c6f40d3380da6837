using Messaging.Hosting;
using Messaging.Router;
using Messaging.Router.Devices;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRouter();
builder.AddRouterDevices();

var app = builder.Build();
app.MapServiceDefaults();
app.Run();
