using System.Text;
using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

/// <summary>Every frame of protocol v1 survives a round trip through the source-generated context, as Edge writes it.</summary>
public sealed class ProtocolJsonTests
{
    private static readonly DateTimeOffset At = new(2026, 5, 6, 7, 8, 9, TimeSpan.Zero);

    public static TheoryData<ClientFrame> ClientFrames() =>
    [
        new CreateChatFrame { Id = "1", Members = ["bo", "cy"], Title = "t" },
        new SendMessageFrame { Id = "2", ChatId = "c", ClientMsgId = "m", Body = "héllo", Attachments = [new Attachment("m/1", "image/png", 3, "a.png")] },
        new SendMessageFrame { Id = "3", ToUserId = "bo", ClientMsgId = "m", Body = "hi" },
        new AckFrame { ChatId = "c", Seq = 9 },
        new SyncFrame { Id = "4", Limit = 10 },
        new HistoryFrame { Id = "5", ChatId = "c", BeforeSeq = 7, Limit = 3 },
        new AddMembersFrame { Id = "6", ChatId = "c", UserIds = ["x"] },
        new RemoveMemberFrame { Id = "7", ChatId = "c", UserId = "x" },
        new LeaveChatFrame { Id = "8", ChatId = "c" },
        new GrantAdminFrame { Id = "9", ChatId = "c", UserId = "x" },
        new RemoveDeviceFrame { Id = "10", DeviceId = "d" },
        new UploadMediaFrame { Id = "11", ContentType = "image/png", Size = 5, FileName = "a.png" },
        new PingFrame { Id = "12" },
        new GetPresenceFrame { Id = "13", UserIds = ["bo"] },
        new WatchPresenceFrame { Id = "14", UserIds = ["bo", "cy"] },
        new UnwatchPresenceFrame { Id = "15", UserIds = ["cy"] },
    ];

    public static TheoryData<ServerFrame> ServerFrames() =>
    [
        new ChatCreatedFrame("1", "c"),
        new MessageAcceptedFrame { Id = "2", ClientMsgId = "m", ChatId = "c", MessageId = "mid" },
        new MessageAcceptedFrame { Id = "3", ClientMsgId = "m", ChatId = "c", MessageId = "mid", Seq = 4 },
        new AcceptedFrame("4"),
        Message(),
        new ChatUpdatedFrame { ChatId = "c", Seq = 2, Change = "members.added", Actor = new DeviceRef("ana", "p"), UserIds = ["bo"], At = At },
        new SyncDoneFrame("5", 12),
        new HistoryPageFrame { Id = "6", ChatId = "c", Messages = [Message()], HasMore = true },
        new MediaUploadUrlFrame { Id = "7", Key = "m/1", UploadUrl = "http://s3/x?sig", ExpiresAt = At },
        new ErrorFrame("8", ErrorCodes.NotMember, "no"),
        new PongFrame("9"),
        new PresenceFrame { Id = "10", Users = [new UserPresence { UserId = "bo", Online = true, DevicesOnline = 2 }, new UserPresence { UserId = "cy", Online = false, LastSeen = At, DevicesOnline = 0 }] },
        new PresenceChangedFrame { UserId = "bo", Online = false, LastSeen = At },
    ];

    [Theory]
    [MemberData(nameof(ClientFrames))]
    public void Client_frames_round_trip(ClientFrame frame)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, ContractsJsonContext.Default.ClientFrame);
        var decoded = Codecs.ClientFrames.Decode(bytes);
        decoded.Status.Should().Be(DecodeStatus.Ok, decoded.Error);
        decoded.Value.Should().BeEquivalentTo(frame, o => o.RespectingRuntimeTypes());
    }

    [Theory]
    [MemberData(nameof(ServerFrames))]
    public void Server_frames_round_trip_through_the_pooled_encoder(ServerFrame frame)
    {
        var shared = SharedFrame.Encode(frame);
        try
        {
            var decoded = Codecs.ServerFrames.Decode(shared.Memory.Span);
            decoded.Status.Should().Be(DecodeStatus.Ok, decoded.Error);
            decoded.Value.Should().BeEquivalentTo(frame, o => o.RespectingRuntimeTypes());
        }
        finally
        {
            shared.Release();
        }
    }

    [Fact]
    public void Frames_are_camel_case_with_a_type_and_without_null_fields()
    {
        var shared = SharedFrame.Encode(new MessageAcceptedFrame { Id = "r1", ClientMsgId = "m", ChatId = "c", MessageId = "x" });
        var json = Encoding.UTF8.GetString(shared.Memory.Span);
        shared.Release();
        json.Should().StartWith("""{"type":"message.accepted","id":"r1","clientMsgId":"m","chatId":"c","messageId":"x"}""");
        json.Should().NotContain("seq");
    }

    private static MessageFrame Message() => new()
    {
        ChatId = "c",
        Seq = 3,
        MessageId = "mid",
        ClientMsgId = "m",
        Sender = new DeviceRef("ana", "phone"),
        Body = "hi",
        SentAt = At,
        Attachments = [new Attachment("m/1", "image/png", 3, "a.png")],
    };
}
