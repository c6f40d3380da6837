using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// allocreport FILE.nettrace [frames]: AllocationTick samples by type, and by type + top app frames
var path = args[0];
var depth = args.Length > 1 ? int.Parse(args[1]) : 6;
var etlx = TraceLog.CreateFromEventPipeDataFile(path);
using var log = new TraceLog(etlx);
var byType = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
long total = 0;
foreach (var ev in log.Events)
{
    if (ev is not GCAllocationTickTraceData tick) continue;
    var bytes = tick.AllocationAmount64;
    total += bytes;
    var type = tick.TypeName ?? "?";
    byType[type] = byType.GetValueOrDefault(type) + bytes;
    var frames = new List<string>();
    for (var cs = ev.CallStack(); cs != null && frames.Count < depth; cs = cs.Caller)
    {
        var name = cs.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(name)) name = cs.CodeAddress.ModuleName + "!?";
        frames.Add(name.Length > 110 ? name[..110] : name);
    }
    var key = type + "\n      " + string.Join("\n      ", frames);
    byStack[key] = byStack.GetValueOrDefault(key) + bytes;
}
Console.WriteLine($"sampled bytes {total:N0}");
foreach (var (k, v) in byType.OrderByDescending(p => p.Value).Take(40)) Console.WriteLine($"{100.0 * v / total,6:0.0}%  {k}");
Console.WriteLine();
foreach (var (k, v) in byStack.OrderByDescending(p => p.Value).Take(40)) Console.WriteLine($"{100.0 * v / total,6:0.0}%  {k}\n");
