using System.Text.Json.Serialization;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;

namespace Messaging.Contracts.Serialization;

/// <summary>
/// The one source-generated JSON context for every wire record: topics and WebSocket frames.
/// Out-of-order metadata is allowed so that a <c>type</c> property written after the payload by a
/// non-.NET producer still decodes.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    AllowOutOfOrderMetadataProperties = true,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(ChatCommand))]
[JsonSerializable(typeof(ChatEvent))]
[JsonSerializable(typeof(DeviceCommand))]
[JsonSerializable(typeof(DeviceRecord))]
[JsonSerializable(typeof(NodeDelivery))]
[JsonSerializable(typeof(ParkedRecord))]
[JsonSerializable(typeof(ClientFrame))]
[JsonSerializable(typeof(ServerFrame))]
[JsonSerializable(typeof(MessageFrame))]
[JsonSerializable(typeof(IReadOnlyList<MessageFrame>))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
