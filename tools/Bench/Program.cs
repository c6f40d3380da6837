using System.CommandLine;
using Messaging.Bench.Charts;
using Messaging.Bench.Components;
using Messaging.Bench.Load;
using Messaging.Bench.Micro;
using Messaging.Bench.Smoke;
using Messaging.Hosting.Cli;

PlainConsole.UseForProcess();
var root = new RootCommand("Messaging bench: smoke test, open-loop load generator, component benchmarks, micro-benchmarks")
{
    SmokeCommand.Create(),
    RunCommand.Create(),
    MicroCommand.Create(),
    ChartCommand.Create(),
    ComponentCommands.Router(),
    ComponentCommands.Projections(),
    Messaging.Bench.Marten.MartenCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
