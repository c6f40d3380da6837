using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Router.Chats;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

/// <summary>
/// Edits, deletes for everyone, reactions, replies and per-device payloads (issue 11): every rule
/// and refusal of the decider, with the clock moved explicitly (the context's <c>Now</c>).
/// </summary>
public sealed class ChatDeciderContentTests
{
    private static readonly ChatLimits Limits = new(MaxGroupMembers: 10, MaxBodyBytes: 16, RecentClientMsgIds: 3)
    {
        EditWindow = TimeSpan.FromMinutes(15),
        DeleteWindow = TimeSpan.FromHours(48),
    };

    private readonly FakeDirectory _devices = new FakeDirectory()
        .WithDevices("ana", "phone", "laptop")
        .WithDevices("bo", "phone")
        .WithDevices("cy", "phone");

    private ChatState? _state;
    private long _offset;

    private static string[] AllDevices => ["ana/phone", "ana/laptop", "bo/phone", "cy/phone"];

    private Decision Run(ChatCommand command, TimeSpan? after = null, ChatLimits? limits = null)
    {
        var decision = ChatDecider.Decide(_state, command, new DecideContext(limits ?? Limits, _devices, Now + (after ?? TimeSpan.Zero), _offset++));
        _state = decision.State;
        return decision;
    }

    /// <summary>Group g1 (ana admin, bo and cy members) and one message by bo; returns its id.</summary>
    private string GroupWithMessageFromBo()
    {
        Run(Group("g1", "ana", "Team", "bo", "cy")).Events.Should().ContainSingle();
        var send = Send("g1", "bo", body: "hello");
        Run(send).Events.Should().ContainSingle();
        return send.MessageId;
    }

    private static void ShouldBeRejected(Decision decision, string code, string origin)
    {
        decision.Events.Should().BeEmpty();
        var rejected = decision.Reply.Should().BeOfType<CommandRejected>().Subject;
        rejected.Code.Should().Be(code);
        rejected.Devices.Should().Equal(origin);
    }

    private static EditMessage Edit(string chatId, string by, string messageId, string body = "fixed", IReadOnlyDictionary<string, string>? payloads = null) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        RequestId = NextId("req-"),
        IssuedAt = Now,
        MessageId = messageId,
        Body = body,
        Payloads = payloads,
    };

    private static DeleteMessage Delete(string chatId, string by, string messageId) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        IssuedAt = Now,
        MessageId = messageId,
    };

    private static ReactToMessage React(string chatId, string by, string messageId, string? emoji) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        IssuedAt = Now,
        MessageId = messageId,
        Emoji = emoji,
    };

    private static Dictionary<string, string> Payloads(params string[] addresses) =>
        addresses.ToDictionary(a => a, a => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("c:" + a[..2])), StringComparer.Ordinal);

    // ---- edit ----

    [Fact]
    public void The_sender_edits_within_the_window_and_every_device_of_every_member_gets_MessageEdited()
    {
        var id = GroupWithMessageFromBo();

        var decision = Run(Edit("g1", "bo", id, "hello!"), after: TimeSpan.FromMinutes(14));

        var edited = decision.Events.Should().ContainSingle().Which.Should().BeOfType<MessageEdited>().Subject;
        edited.Seq.Should().Be(3);
        edited.MessageId.Should().Be(id);
        edited.MessageSeq.Should().Be(2);
        edited.Body.Should().Be("hello!");
        edited.Actor.Should().Be(Phone("bo"));
        edited.OccurredAt.Should().Be(Now + TimeSpan.FromMinutes(14));
        decision.Recipients.Single().Should().BeEquivalentTo(AllDevices);
        decision.Reply.Should().BeNull();
    }

    [Fact]
    public void An_edit_at_the_end_of_the_window_is_refused_and_one_millisecond_before_it_is_accepted()
    {
        var id = GroupWithMessageFromBo();

        ShouldBeRejected(Run(Edit("g1", "bo", id), after: TimeSpan.FromMinutes(15)), ErrorCodes.WindowPassed, "bo/phone");
        Run(Edit("g1", "bo", id), after: TimeSpan.FromMinutes(15) - TimeSpan.FromMilliseconds(1)).Events.Should().ContainSingle();
    }

    [Fact]
    public void A_zero_edit_window_turns_edits_off()
    {
        var id = GroupWithMessageFromBo();

        ShouldBeRejected(Run(Edit("g1", "bo", id), limits: Limits with { EditWindow = TimeSpan.Zero }), ErrorCodes.WindowPassed, "bo/phone");
    }

    [Fact]
    public void Another_member_even_an_admin_cannot_edit_a_message()
    {
        var id = GroupWithMessageFromBo();

        ShouldBeRejected(Run(Edit("g1", "cy", id)), ErrorCodes.NotAllowed, "cy/phone");
        ShouldBeRejected(Run(Edit("g1", "ana", id)), ErrorCodes.NotAllowed, "ana/phone");
        _state!.LastSeq.Should().Be(2, "a refusal takes no seq");
    }

    [Fact]
    public void A_sender_removed_from_the_group_can_no_longer_edit_or_delete_their_message()
    {
        var id = GroupWithMessageFromBo();
        Run(Remove("g1", "ana", "bo")).Events.Should().ContainSingle();

        ShouldBeRejected(Run(Edit("g1", "bo", id)), ErrorCodes.NotMember, "bo/phone");
        ShouldBeRejected(Run(Delete("g1", "bo", id)), ErrorCodes.NotMember, "bo/phone");
    }

    [Fact]
    public void Editing_in_an_unknown_chat_or_an_unknown_message_is_refused()
    {
        var id = GroupWithMessageFromBo();
        var other = _state;
        _state = null;
        ShouldBeRejected(Run(Edit("g2", "bo", id)), ErrorCodes.UnknownChat, "bo/phone");
        _state = other;

        ShouldBeRejected(Run(Edit("g1", "bo", "m-nowhere")), ErrorCodes.UnknownMessage, "bo/phone");
    }

    [Fact]
    public void A_message_that_fell_out_of_the_recent_index_is_unknown_to_edits_deletes_reactions_and_replies()
    {
        var id = GroupWithMessageFromBo();
        for (var i = 0; i < Limits.RecentClientMsgIds; i++)
        {
            Run(Send("g1", "cy")).Events.Should().ContainSingle();
        }

        ShouldBeRejected(Run(Edit("g1", "bo", id)), ErrorCodes.UnknownMessage, "bo/phone");
        ShouldBeRejected(Run(Delete("g1", "ana", id)), ErrorCodes.UnknownMessage, "ana/phone");
        ShouldBeRejected(Run(React("g1", "cy", id, "👍")), ErrorCodes.UnknownMessage, "cy/phone");
        ShouldBeRejected(Run(Send("g1", "cy") with { ReplyTo = id }), ErrorCodes.UnknownMessage, "cy/phone");
    }

    /// <summary>Bo's message at seq 2 pushed out of the index by three of cy's; the read side's facts about it.</summary>
    private (string Id, MessageFacts Facts) OlderMessageFromBo(bool deleted = false, bool encrypted = false)
    {
        var id = GroupWithMessageFromBo();
        for (var i = 0; i < Limits.RecentClientMsgIds; i++)
        {
            Run(Send("g1", "cy")).Events.Should().ContainSingle();
        }

        return (id, new MessageFacts { Seq = 2, SenderUserId = "bo", SentAt = Now, Deleted = deleted, Encrypted = encrypted });
    }

    [Fact]
    public void An_admin_deletes_a_message_older_than_the_recent_index_with_the_read_sides_facts()
    {
        var (id, facts) = OlderMessageFromBo();

        var decision = Run(Delete("g1", "ana", id) with { Target = facts }, after: TimeSpan.FromDays(400));

        var deleted = decision.Events.Should().ContainSingle().Which.Should().BeOfType<MessageDeleted>().Subject;
        deleted.MessageId.Should().Be(id);
        deleted.MessageSeq.Should().Be(2);
        deleted.Seq.Should().Be(6);
        decision.Recipients.Single().Should().BeEquivalentTo(AllDevices);
    }

    [Fact]
    public void Facts_about_an_older_message_still_apply_every_rule_of_sender_window_and_membership()
    {
        var (id, facts) = OlderMessageFromBo();

        ShouldBeRejected(Run(Delete("g1", "cy", id) with { Target = facts }), ErrorCodes.NotAllowed, "cy/phone");
        ShouldBeRejected(Run(Delete("g1", "bo", id) with { Target = facts }, after: TimeSpan.FromHours(48)), ErrorCodes.WindowPassed, "bo/phone");
        ShouldBeRejected(Run(Edit("g1", "bo", id) with { Target = facts }, after: TimeSpan.FromMinutes(15)), ErrorCodes.WindowPassed, "bo/phone");
        ShouldBeRejected(Run(Edit("g1", "ana", id) with { Target = facts }), ErrorCodes.NotAllowed, "ana/phone");
        Run(Edit("g1", "bo", id) with { Target = facts }).Events.Should().ContainSingle().Which.Should().BeOfType<MessageEdited>().Which.MessageSeq.Should().Be(2);
        Run(Delete("g1", "bo", id) with { Target = facts }, after: TimeSpan.FromHours(47)).Events.Should().ContainSingle().Which.Should().BeOfType<MessageDeleted>();
    }

    [Fact]
    public void A_member_reacts_and_replies_to_an_older_message_with_the_read_sides_facts()
    {
        var (id, facts) = OlderMessageFromBo();

        Run(React("g1", "cy", id, "👍") with { Target = facts }).Events.Should().ContainSingle().Which.Should().BeOfType<ReactionChanged>().Which.MessageSeq.Should().Be(2);
        var reply = (MessageSent)Run(Send("g1", "cy") with { ReplyTo = id, ReplyTarget = facts }).Events.Single();
        reply.ReplyTo.Should().Be(id);
    }

    [Fact]
    public void Facts_saying_the_older_message_was_deleted_refuse_edits_reactions_and_replies_and_a_second_delete_changes_nothing()
    {
        var (id, facts) = OlderMessageFromBo(deleted: true);

        ShouldBeRejected(Run(Edit("g1", "bo", id) with { Target = facts }), ErrorCodes.MessageDeleted, "bo/phone");
        ShouldBeRejected(Run(React("g1", "cy", id, "👍") with { Target = facts }), ErrorCodes.MessageDeleted, "cy/phone");
        ShouldBeRejected(Run(Send("g1", "cy") with { ReplyTo = id, ReplyTarget = facts }), ErrorCodes.MessageDeleted, "cy/phone");
        var again = Run(Delete("g1", "ana", id) with { Target = facts });
        again.Events.Should().BeEmpty();
        again.Reply.Should().BeNull();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(6)]
    public void Facts_are_not_believed_for_a_seq_the_index_would_still_hold_or_that_was_never_taken(long seq)
    {
        // The index holds seqs 3-5 (cy's sends); 6 is not taken yet; 0 never exists.
        var (id, facts) = OlderMessageFromBo();

        ShouldBeRejected(Run(Delete("g1", "ana", id) with { Target = facts with { Seq = seq } }), ErrorCodes.UnknownMessage, "ana/phone");
        _state!.LastSeq.Should().Be(5);
    }

    [Fact]
    public void A_message_in_the_recent_index_is_decided_from_the_index_whatever_facts_come_with_it()
    {
        var id = GroupWithMessageFromBo();
        var wrong = new MessageFacts { Seq = 1, SenderUserId = "cy", SentAt = Now - TimeSpan.FromDays(30), Deleted = true };

        var edited = Run(Edit("g1", "bo", id) with { Target = wrong }).Events.Should().ContainSingle().Which.Should().BeOfType<MessageEdited>().Subject;

        edited.MessageSeq.Should().Be(2);
    }

    [Theory]
    [InlineData("", ErrorCodes.BadFrame)]
    [InlineData("seventeen bytes!!", ErrorCodes.TooLarge)]
    [InlineData("nul\0", ErrorCodes.BadFrame)]
    public void An_edit_needs_a_storable_body_within_the_limit(string body, string code)
    {
        var id = GroupWithMessageFromBo();

        ShouldBeRejected(Run(Edit("g1", "bo", id, body)), code, "bo/phone");
    }

    [Fact]
    public void A_deleted_message_cannot_be_edited_reacted_to_or_replied_to()
    {
        var id = GroupWithMessageFromBo();
        Run(Delete("g1", "bo", id)).Events.Should().ContainSingle();

        ShouldBeRejected(Run(Edit("g1", "bo", id)), ErrorCodes.MessageDeleted, "bo/phone");
        ShouldBeRejected(Run(React("g1", "cy", id, "👍")), ErrorCodes.MessageDeleted, "cy/phone");
        ShouldBeRejected(Run(Send("g1", "cy") with { ReplyTo = id }), ErrorCodes.MessageDeleted, "cy/phone");
    }

    // ---- delete for everyone ----

    [Fact]
    public void The_sender_deletes_for_everyone_within_the_window_and_the_message_becomes_a_tombstone()
    {
        var id = GroupWithMessageFromBo();

        var decision = Run(Delete("g1", "bo", id), after: TimeSpan.FromHours(47));

        var deleted = decision.Events.Should().ContainSingle().Which.Should().BeOfType<MessageDeleted>().Subject;
        deleted.Seq.Should().Be(3);
        deleted.MessageId.Should().Be(id);
        deleted.MessageSeq.Should().Be(2);
        decision.Recipients.Single().Should().BeEquivalentTo(AllDevices);
        _state!.TryGetMessage(id, out var entry).Should().BeTrue();
        entry.Deleted.Should().BeTrue();
    }

    [Fact]
    public void The_sender_cannot_delete_for_everyone_after_the_window()
    {
        var id = GroupWithMessageFromBo();

        ShouldBeRejected(Run(Delete("g1", "bo", id), after: TimeSpan.FromHours(48)), ErrorCodes.WindowPassed, "bo/phone");
    }

    [Fact]
    public void A_member_who_is_not_an_admin_cannot_delete_another_members_message()
    {
        var id = GroupWithMessageFromBo();

        ShouldBeRejected(Run(Delete("g1", "cy", id)), ErrorCodes.NotAllowed, "cy/phone");
    }

    [Fact]
    public void A_group_admin_deletes_any_members_message_at_any_time()
    {
        var id = GroupWithMessageFromBo();

        var deleted = Run(Delete("g1", "ana", id), after: TimeSpan.FromDays(400)).Events.Should().ContainSingle().Which.Should().BeOfType<MessageDeleted>().Subject;

        deleted.Actor.Should().Be(Phone("ana"));
    }

    [Fact]
    public void A_granted_admin_may_delete_others_messages_too()
    {
        var id = GroupWithMessageFromBo();
        Run(Grant("g1", "ana", "cy")).Events.Should().ContainSingle();

        Run(Delete("g1", "cy", id)).Events.Should().ContainSingle().Which.Should().BeOfType<MessageDeleted>();
    }

    [Fact]
    public void In_a_direct_chat_only_the_sender_deletes_for_everyone()
    {
        var first = Send(ChatIds.Direct("ana", "bo"), "ana", peer: "bo");
        Run(first).Events.Should().HaveCount(2);

        ShouldBeRejected(Run(Delete(first.ChatId, "bo", first.MessageId)), ErrorCodes.NotAllowed, "bo/phone");
        Run(Delete(first.ChatId, "ana", first.MessageId)).Events.Should().ContainSingle();
    }

    [Fact]
    public void Deleting_a_deleted_message_again_changes_nothing_and_refuses_nothing()
    {
        var id = GroupWithMessageFromBo();
        Run(Delete("g1", "bo", id)).Events.Should().ContainSingle();

        var again = Run(Delete("g1", "ana", id));

        again.Events.Should().BeEmpty();
        again.Reply.Should().BeNull();
        _state!.LastSeq.Should().Be(3);
    }

    // ---- reactions ----

    [Fact]
    public void A_member_reacts_replaces_the_reaction_and_removes_it_with_null()
    {
        var id = GroupWithMessageFromBo();

        var first = (ReactionChanged)Run(React("g1", "cy", id, "👍")).Events.Single();
        var second = (ReactionChanged)Run(React("g1", "cy", id, "❤️")).Events.Single();
        var removed = Run(React("g1", "cy", id, null));

        first.Emoji.Should().Be("👍");
        first.MessageSeq.Should().Be(2);
        first.Seq.Should().Be(3);
        second.Emoji.Should().Be("❤️");
        var removal = removed.Events.Should().ContainSingle().Which.Should().BeOfType<ReactionChanged>().Subject;
        removal.Emoji.Should().BeNull();
        removal.MessageId.Should().Be(id);
        removed.Recipients.Single().Should().BeEquivalentTo(AllDevices);
    }

    [Fact]
    public void Only_members_react_and_only_to_known_messages()
    {
        var id = GroupWithMessageFromBo();
        _devices.WithDevices("eve", "phone");

        ShouldBeRejected(Run(React("g1", "eve", id, "👍")), ErrorCodes.NotMember, "eve/phone");
        ShouldBeRejected(Run(React("g1", "cy", "m-nowhere", "👍")), ErrorCodes.UnknownMessage, "cy/phone");
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789012345678901234567890123")]
    [InlineData("\0")]
    public void A_reaction_is_one_to_32_characters_of_storable_text(string emoji)
    {
        var id = GroupWithMessageFromBo();

        ShouldBeRejected(Run(React("g1", "cy", id, emoji)), ErrorCodes.BadFrame, "cy/phone");
    }

    // ---- replies ----

    [Fact]
    public void A_reply_names_a_message_of_the_same_chat()
    {
        var id = GroupWithMessageFromBo();

        var reply = (MessageSent)Run(Send("g1", "cy") with { ReplyTo = id }).Events.Single();

        reply.ReplyTo.Should().Be(id);
    }

    [Fact]
    public void A_reply_to_another_chats_message_is_refused_and_takes_no_seq()
    {
        GroupWithMessageFromBo();
        var g1 = _state;
        _state = null;
        Run(Group("g2", "cy", "Other", "bo")).Events.Should().ContainSingle();
        var elsewhere = Send("g2", "cy");
        Run(elsewhere).Events.Should().ContainSingle();
        _state = g1;

        ShouldBeRejected(Run(Send("g1", "bo") with { ReplyTo = elsewhere.MessageId }), ErrorCodes.UnknownMessage, "bo/phone");
        _state!.LastSeq.Should().Be(2);
    }

    [Fact]
    public void The_first_message_of_a_direct_chat_cannot_be_a_reply_and_creates_nothing_when_refused()
    {
        var decision = Run(Send(ChatIds.Direct("ana", "bo"), "ana", peer: "bo") with { ReplyTo = "m-elsewhere" });

        ShouldBeRejected(decision, ErrorCodes.UnknownMessage, "ana/phone");
        decision.State.Should().BeNull();
    }

    [Fact]
    public void A_reply_id_outside_the_id_rules_is_a_bad_frame()
    {
        GroupWithMessageFromBo();

        ShouldBeRejected(Run(Send("g1", "bo") with { ReplyTo = "not an id" }), ErrorCodes.BadFrame, "bo/phone");
    }

    // ---- per-device payloads ----

    [Fact]
    public void Payloads_for_exactly_the_chats_devices_are_accepted_and_carried_by_the_event()
    {
        GroupWithMessageFromBo();
        var payloads = Payloads(AllDevices);

        var sent = (MessageSent)Run(Send("g1", "ana", body: "") with { Payloads = payloads }).Events.Single();

        sent.Body.Should().BeEmpty();
        sent.Payloads.Should().BeEquivalentTo(payloads);
        _state!.TryGetMessage(sent.MessageId, out var entry).Should().BeTrue();
        entry.Encrypted.Should().BeTrue();
    }

    [Theory]
    [InlineData("ana/laptop")]
    [InlineData("bo/phone")]
    public void Payloads_missing_a_device_are_refused_with_the_current_device_list(string missing)
    {
        GroupWithMessageFromBo();

        var decision = Run(Send("g1", "ana", body: "") with { Payloads = Payloads([.. AllDevices.Where(d => d != missing)]) });

        ShouldBeRejected(decision, ErrorCodes.DeviceListChanged, "ana/phone");
        ((CommandRejected)decision.Reply!).CurrentDevices.Should().BeEquivalentTo(AllDevices);
        _state!.LastSeq.Should().Be(2);
    }

    [Fact]
    public void Payloads_for_a_device_that_is_not_in_the_chat_are_refused_with_the_current_device_list()
    {
        GroupWithMessageFromBo();

        var decision = Run(Send("g1", "ana", body: "") with { Payloads = Payloads([.. AllDevices, "bo/old-phone"]) });

        ShouldBeRejected(decision, ErrorCodes.DeviceListChanged, "ana/phone");
        ((CommandRejected)decision.Reply!).CurrentDevices.Should().BeEquivalentTo(AllDevices);
    }

    [Fact]
    public void A_device_registered_since_the_client_encrypted_makes_the_set_stale()
    {
        GroupWithMessageFromBo();
        var payloads = Payloads(AllDevices);
        _devices.WithDevices("bo", "phone", "tablet");

        var decision = Run(Send("g1", "ana", body: "") with { Payloads = payloads });

        ((CommandRejected)decision.Reply!).CurrentDevices.Should().Contain("bo/tablet");
    }

    [Theory]
    [InlineData("not base64!", ErrorCodes.BadFrame)]
    [InlineData("abc", ErrorCodes.BadFrame)]
    [InlineData("", ErrorCodes.BadFrame)]
    [InlineData("QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", ErrorCodes.TooLarge)]
    public void Each_payload_is_base64_within_the_body_limit(string ciphertext, string code)
    {
        GroupWithMessageFromBo();
        var payloads = Payloads(AllDevices);
        payloads["bo/phone"] = ciphertext;

        ShouldBeRejected(Run(Send("g1", "ana", body: "") with { Payloads = payloads }), code, "ana/phone");
    }

    [Fact]
    public void A_payload_key_that_is_not_a_device_address_is_a_bad_frame()
    {
        GroupWithMessageFromBo();
        var payloads = Payloads(AllDevices);
        payloads["phone"] = "QUJD";

        ShouldBeRejected(Run(Send("g1", "ana", body: "") with { Payloads = payloads }), ErrorCodes.BadFrame, "ana/phone");
    }

    [Fact]
    public void A_message_carries_a_body_or_payloads_not_both()
    {
        GroupWithMessageFromBo();

        ShouldBeRejected(Run(Send("g1", "ana", body: "plain") with { Payloads = Payloads(AllDevices) }), ErrorCodes.BadFrame, "ana/phone");
    }

    [Fact]
    public void The_first_message_of_a_direct_chat_may_be_encrypted_and_a_stale_one_creates_nothing()
    {
        var chatId = ChatIds.Direct("ana", "bo");

        var stale = Run(Send(chatId, "ana", body: "", peer: "bo") with { Payloads = Payloads("ana/phone", "bo/phone") });
        ShouldBeRejected(stale, ErrorCodes.DeviceListChanged, "ana/phone");
        stale.State.Should().BeNull();
        ((CommandRejected)stale.Reply!).CurrentDevices.Should().BeEquivalentTo("ana/phone", "ana/laptop", "bo/phone");

        var sent = Run(Send(chatId, "ana", body: "", peer: "bo") with { Payloads = Payloads("ana/phone", "ana/laptop", "bo/phone") });
        sent.Events.Should().HaveCount(2);
        ((MessageSent)sent.Events[1]).Payloads.Should().HaveCount(3);
    }

    [Fact]
    public void An_encrypted_message_is_edited_with_payloads_for_the_current_devices_and_a_plain_one_with_a_body()
    {
        GroupWithMessageFromBo();
        var encrypted = Send("g1", "ana", body: "") with { Payloads = Payloads(AllDevices) };
        Run(encrypted).Events.Should().ContainSingle();
        var plain = Send("g1", "ana", body: "plain");
        Run(plain).Events.Should().ContainSingle();

        ShouldBeRejected(Run(Edit("g1", "ana", encrypted.MessageId, "leak")), ErrorCodes.BadFrame, "ana/phone");
        ShouldBeRejected(Run(Edit("g1", "ana", plain.MessageId, "", Payloads(AllDevices))), ErrorCodes.BadFrame, "ana/phone");
        ShouldBeRejected(Run(Edit("g1", "ana", encrypted.MessageId, "", Payloads("ana/phone"))), ErrorCodes.DeviceListChanged, "ana/phone");

        var edited = (MessageEdited)Run(Edit("g1", "ana", encrypted.MessageId, "", Payloads(AllDevices))).Events.Single();
        edited.Body.Should().BeEmpty();
        edited.Payloads.Should().HaveCount(4);
    }

    // ---- the index in the snapshot ----

    [Fact]
    public void A_restored_state_keeps_sender_time_and_flags_and_decides_edits_and_deletes_like_the_original()
    {
        var id = GroupWithMessageFromBo();
        var encrypted = Send("g1", "ana", body: "") with { Payloads = Payloads(AllDevices) };
        Run(encrypted);
        var gone = Send("g1", "cy", body: "oops");
        Run(gone);
        Run(Delete("g1", "cy", gone.MessageId));
        var original = _state!;

        var restored = ChatStateCodec.Decode(ChatStateCodec.Encode(original), Limits.RecentClientMsgIds);

        foreach (var (messageId, sender) in new[] { (id, "bo"), (encrypted.MessageId, "ana"), (gone.MessageId, "cy") })
        {
            restored.TryGetMessage(messageId, out var r).Should().BeTrue();
            original.TryGetMessage(messageId, out var o).Should().BeTrue();
            (r.Seq, r.Sender, r.SentAt, r.Encrypted, r.Deleted).Should().Be((o.Seq, sender, o.SentAt, o.Encrypted, o.Deleted));
        }

        var late = new DecideContext(Limits, _devices, Now + TimeSpan.FromMinutes(15) - TimeSpan.FromMilliseconds(1), 99);
        foreach (var command in new ChatCommand[] { Edit("g1", "bo", id), Edit("g1", "cy", gone.MessageId), Delete("g1", "cy", id) })
        {
            var a = ChatDecider.Decide(ChatStateCodec.Decode(ChatStateCodec.Encode(original), 3), command, late);
            var b = ChatDecider.Decide(ChatStateCodec.Decode(ChatStateCodec.Encode(restored), 3), command, late);
            b.Events.Should().BeEquivalentTo(a.Events, o => o.RespectingRuntimeTypes());
            b.RejectionCode.Should().Be(a.RejectionCode);
        }
    }

    [Fact]
    public void An_entry_restored_from_an_older_snapshot_without_sender_can_be_deleted_by_an_admin_but_not_edited()
    {
        GroupWithMessageFromBo();
        _state!.Remember("c-old", new SentMessage(2, "m-old"), Limits.RecentClientMsgIds);

        ShouldBeRejected(Run(Edit("g1", "bo", "m-old")), ErrorCodes.NotAllowed, "bo/phone");
        Run(React("g1", "bo", "m-old", "👍")).Events.Should().ContainSingle();
        Run(Delete("g1", "ana", "m-old")).Events.Should().ContainSingle();
    }
}
