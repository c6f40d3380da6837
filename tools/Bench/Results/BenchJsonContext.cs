using System.Text.Json.Serialization;

namespace Messaging.Bench.Results;

/// <summary>Source-generated JSON for the bench's own records (the wire records use ContractsJsonContext).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(StepResult))]
[JsonSerializable(typeof(ComponentResult))]
public sealed partial class BenchJsonContext : JsonSerializerContext;
