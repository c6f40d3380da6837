using System.Text;
using System.Text.Json;
using Messaging.Router.Chats;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

public sealed class ChatStateCodecTests
{
    private readonly FakeDirectory _devices = new FakeDirectory().WithDevices("ana", "phone").WithDevices("bo", "phone");

    private ChatState BusyGroup()
    {
        var chat = new ChatDriver(_devices) { Offset = 100 };
        chat.Run(Group("g1", "ana", "Team ✨", "bo", "cy", "di"));
        chat.Run(Send("g1", "bo", clientMsgId: "c-1"));
        chat.Run(Grant("g1", "ana", "cy"));
        chat.Run(Remove("g1", "ana", "bo"));
        chat.Run(Send("g1", "di", clientMsgId: "c-2"));
        chat.Run(Send("g1", "di", clientMsgId: "c-3"));
        chat.Run(Send("g1", "di", clientMsgId: "c-4"));
        chat.Run(Send("g1", "di", clientMsgId: "c-5"));
        return chat.State!;
    }

    [Fact]
    public void A_state_snapshot_round_trips_members_roles_join_order_seq_offset_and_recent_sends()
    {
        var state = BusyGroup();

        var restored = ChatStateCodec.Decode(ChatStateCodec.Encode(state), recentCapacity: 3);

        restored.ChatId.Should().Be("g1");
        restored.Kind.Should().Be(state.Kind);
        restored.Title.Should().Be("Team ✨");
        restored.LastSeq.Should().Be(state.LastSeq);
        restored.LastCommandOffset.Should().Be(state.LastCommandOffset);
        restored.Members.Select(m => (m.UserId, m.Role, m.JoinedSeq)).Should().Equal(state.Members.Select(m => (m.UserId, m.Role, m.JoinedSeq)));
        restored.AdminCount.Should().Be(2);
        restored.RecentSends().Should().Equal(state.RecentSends());
    }

    [Fact]
    public void A_restored_state_decides_exactly_like_the_original()
    {
        var original = BusyGroup();
        var restored = ChatStateCodec.Decode(ChatStateCodec.Encode(original), recentCapacity: 3);
        var retry = Send("g1", "di", clientMsgId: "c-4");
        var fresh = Send("g1", "di", clientMsgId: "c-9");
        var ctx = new DecideContext(new ChatLimits(5, 16, 3), _devices, Now, 500);

        var a = ChatDecider.Decide(original, retry, ctx).Reply;
        var b = ChatDecider.Decide(restored, retry, ctx).Reply;
        var c = ChatDecider.Decide(original, fresh, ctx);
        var d = ChatDecider.Decide(restored, fresh, ctx);

        b.Should().BeEquivalentTo(a);
        d.Events.Single().Seq.Should().Be(c.Events.Single().Seq);
        d.Recipients.Single().Should().Equal(c.Recipients.Single());
    }

    [Fact]
    public void A_snapshot_carries_its_type_and_schema_version()
    {
        using var json = JsonDocument.Parse(ChatStateCodec.Encode(BusyGroup()));

        json.RootElement.GetProperty("type").GetString().Should().Be("ChatStateSnapshot");
        json.RootElement.GetProperty("v").GetInt32().Should().Be(1);
        json.RootElement.GetProperty("kind").GetString().Should().Be("Group");
    }

    [Fact]
    public void A_restored_window_keeps_only_the_newest_sends_when_the_capacity_shrank()
    {
        var restored = ChatStateCodec.Decode(ChatStateCodec.Encode(BusyGroup()), recentCapacity: 2);

        restored.RecentSends().Select(r => r.Key).Should().Equal("c-4", "c-5");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"type\":\"Something\",\"v\":1,\"chatId\":\"g\",\"kind\":\"Group\",\"lastSeq\":1,\"lastCommandOffset\":0,\"members\":[],\"recent\":[]}")]
    [InlineData("{\"type\":\"ChatStateSnapshot\",\"v\":2,\"chatId\":\"g\",\"kind\":\"Group\",\"lastSeq\":1,\"lastCommandOffset\":0,\"members\":[],\"recent\":[]}")]
    [InlineData("{\"type\":\"ChatStateSnapshot\",\"v\":1}")]
    public void An_unreadable_snapshot_fails_loudly_instead_of_restarting_the_chat_at_seq_1(string json)
    {
        var act = () => ChatStateCodec.Decode(Encoding.UTF8.GetBytes(json), 10);

        act.Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void The_flush_encoder_writes_exactly_the_codecs_bytes_for_every_field_and_flag_and_reuses_its_buffer()
    {
        var direct = new ChatState("d:ana:bo", Messaging.Contracts.Commands.ChatKind.Direct, title: null);
        direct.AddMember("ana", Messaging.Contracts.Events.MemberRole.Member, 1);
        direct.AddMember("bo", Messaging.Contracts.Events.MemberRole.Member, 1);
        direct.Remember("old-retry", new SentMessage(2, "m-2"), 10);
        direct.Remember(new RecentMessage("c-\"quoted\" <é>", 3, "m-3", "ana", Now, encrypted: true), 10);
        direct.Remember(new RecentMessage("c-4", 4, "m-4", "bo", Now.AddMilliseconds(1), encrypted: false) { Deleted = true }, 10);
        direct.RestoreSeq(4);
        direct.LastCommandOffset = 41;
        using var encoder = new ChatStateEncoder();

        foreach (var state in new[] { BusyGroup(), direct, new ChatState("g-empty", Messaging.Contracts.Commands.ChatKind.Group, ""), BusyGroup() })
        {
            Encoding.UTF8.GetString(encoder.Encode(state)).Should().Be(Encoding.UTF8.GetString(ChatStateCodec.Encode(state)));
        }
    }

    [Fact]
    public void A_captured_state_encodes_as_it_was_when_captured_whatever_the_decider_changes_after()
    {
        var state = BusyGroup();
        using var encoder = new ChatStateEncoder();
        var before = ChatStateCodec.Encode(state);

        var captured = ChatStateEncoder.Capture(state);
        var last = state.RecentMessages().Last();
        last.Deleted = true;
        state.Remember(new RecentMessage("c-late", state.TakeSeq(), "m-late", "di", Now, encrypted: false), 10);

        encoder.Encode(captured).Should().Equal(before);
    }
}
