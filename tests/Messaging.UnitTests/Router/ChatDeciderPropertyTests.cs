using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Router.Chats;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

/// <summary>
/// Property tests over random command sequences (FsCheck is not in the package registry here, so
/// the generator is a seeded <see cref="Random"/>: a failure names its seed and step, and re-running
/// that seed replays it exactly). Each sequence drives a few chats through the decider and checks
/// the invariants after every step against a model folded from the emitted events alone.
/// </summary>
public sealed class ChatDeciderPropertyTests
{
    private const int Users = 8;
    private static readonly string[] Chats = ["g0", "g1", "d:u0:u1", "d:u2:u5"];

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= 200; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_command_sequences_keep_every_chat_invariant(int seed)
    {
        var random = new Random(seed);
        var devices = new FakeDirectory();
        for (var u = 0; u < Users; u++)
        {
            devices.WithDevices("u" + u, [.. Enumerable.Range(0, 1 + (u % 3)).Select(d => $"d{d}")]);
        }

        var limits = new ChatLimits(MaxGroupMembers: 5, MaxBodyBytes: 8, RecentClientMsgIds: 4);
        var states = new Dictionary<string, ChatState>();
        var models = new Dictionary<string, Model>();
        long offset = 0;

        for (var step = 0; step < 300; step++)
        {
            var chatId = Chats[random.Next(Chats.Length)];
            var command = RandomCommand(random, chatId);
            states.TryGetValue(chatId, out var before);
            var beforeSeq = before?.LastSeq ?? 0;
            var beforeOffset = before?.LastCommandOffset ?? -1;
            var decision = ChatDecider.Decide(before, command, new DecideContext(limits, devices, Now, offset++));
            var because = $"seed {seed}, step {step}, command {command.GetType().Name} by {command.Origin.UserId} on {chatId}";

            // A command yields events or a reply, never both.
            (decision.Events.Count > 0 && decision.Reply is not null).Should().BeFalse(because);
            if (decision.Reply is { } reply)
            {
                reply.Devices.Should().Equal([command.Origin.Address], because);
            }

            if (decision.State is { } after)
            {
                states[chatId] = after;
            }

            models.TryGetValue(chatId, out var model);
            var expectedSeq = beforeSeq;
            decision.Recipients.Should().HaveSameCount(decision.Events, because);
            for (var e = 0; e < decision.Events.Count; e++)
            {
                // Seqs are dense and increasing per chat.
                var evt = decision.Events[e];
                evt.Seq.Should().Be(++expectedSeq, because);
                evt.ChatId.Should().Be(chatId, because);
                model ??= new Model();
                model.Apply(evt, decision.Recipients[e], devices, because);
            }

            if (model is not null)
            {
                models[chatId] = model;
            }

            if (decision.Events.Count == 0)
            {
                (decision.State?.LastSeq ?? 0).Should().Be(beforeSeq, because);
                (decision.State?.LastCommandOffset ?? -1).Should().Be(beforeOffset, because);
            }

            if (decision.Reply is DuplicateSendIgnored duplicate)
            {
                model!.Sent.Should().ContainKey(duplicate.ClientMsgId, because);
                model.Sent[duplicate.ClientMsgId].Should().Be((duplicate.Seq, duplicate.MessageId), because);
            }

            if (states.TryGetValue(chatId, out var state))
            {
                CheckState(state, models[chatId], limits, because);
            }
        }
    }

    private static void CheckState(ChatState state, Model model, ChatLimits limits, string because)
    {
        // Members are a set, within the limit, and match what the events said.
        var ids = state.Members.Select(m => m.UserId).ToList();
        ids.Should().OnlyHaveUniqueItems(because);
        ids.Count.Should().BeLessThanOrEqualTo(limits.MaxGroupMembers, because);
        ids.Should().BeEquivalentTo(model.Members.Keys, because);
        foreach (var m in state.Members)
        {
            m.Role.Should().Be(model.Members[m.UserId], because);
        }

        state.AdminCount.Should().Be(state.Members.Count(m => m.Role == MemberRole.Admin), because);
        if (state.Kind == ChatKind.Group && state.Members.Count > 0)
        {
            state.AdminCount.Should().BePositive(because);
        }

        state.LastSeq.Should().Be(model.LastSeq, because);
        state.RecentCount.Should().BeLessThanOrEqualTo(limits.RecentClientMsgIds, because);
    }

    private static ChatCommand RandomCommand(Random random, string chatId)
    {
        var user = "u" + random.Next(Users);
        var other = "u" + random.Next(Users);
        var roll = random.Next(100);
        if (chatId.StartsWith("d:", StringComparison.Ordinal))
        {
            var pair = chatId[2..].Split(':');
            user = random.Next(5) == 0 ? user : pair[random.Next(2)];
            var peer = user == pair[0] ? pair[1] : pair[0];
            return Send(chatId, user, clientMsgId: "c" + random.Next(12), body: RandomBody(random), peer: random.Next(2) == 0 ? peer : null);
        }

        return roll switch
        {
            < 8 => Group(chatId, user, random.Next(6) == 0 ? null : "T", [.. Enumerable.Range(0, random.Next(7)).Select(_ => "u" + random.Next(Users))]),
            < 55 => Send(chatId, user, clientMsgId: "c" + random.Next(12), body: RandomBody(random)),
            < 68 => Add(chatId, user, [.. Enumerable.Range(0, 1 + random.Next(3)).Select(_ => "u" + random.Next(Users))]),
            < 78 => Remove(chatId, user, other),
            < 90 => Leave(chatId, user),
            _ => Grant(chatId, user, other),
        };
    }

    private static string RandomBody(Random random) => random.Next(10) switch
    {
        0 => new string('é', 5),
        1 => new string('x', 9),
        _ => new string('x', random.Next(1, 9)),
    };

    /// <summary>What the events alone say about a chat: used to check recipients and state.</summary>
    private sealed class Model
    {
        public Dictionary<string, MemberRole> Members { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (long Seq, string MessageId)> Sent { get; } = new(StringComparer.Ordinal);

        public long LastSeq { get; private set; }

        public void Apply(ChatEvent evt, string[] recipients, FakeDirectory devices, string because)
        {
            LastSeq = evt.Seq;
            switch (evt)
            {
                case ChatCreated created:
                    created.Seq.Should().Be(1, because);
                    foreach (var m in created.Members)
                    {
                        Members[m.UserId] = m.Role;
                    }

                    ShouldReachExactlyMembers(recipients, devices, because);
                    break;
                case MessageSent sent:
                    Members.Should().ContainKey(sent.Actor.UserId, because);
                    Sent[sent.ClientMsgId] = (sent.Seq, sent.MessageId);
                    ShouldReachExactlyMembers(recipients, devices, because);
                    break;
                case MembersAdded added:
                    Members[added.Actor.UserId].Should().Be(MemberRole.Admin, because);
                    foreach (var u in added.UserIds)
                    {
                        Members.Should().NotContainKey(u, because);
                        Members[u] = MemberRole.Member;
                    }

                    ShouldReachExactlyMembers(recipients, devices, because);
                    break;
                case MemberRemoved removed:
                    Members[removed.Actor.UserId].Should().Be(MemberRole.Admin, because);
                    // Addressed to the members before the removal: the removed user learns it, then nothing more.
                    ShouldReachExactlyMembers(recipients, devices, because);
                    Members.Remove(removed.UserId).Should().BeTrue(because);
                    break;
                case MemberLeft left:
                    ShouldReachExactlyMembers(recipients, devices, because);
                    Members.Remove(left.UserId).Should().BeTrue(because);
                    if (left.PromotedAdmin is { } promoted)
                    {
                        Members[promoted].Should().Be(MemberRole.Member, because);
                        Members[promoted] = MemberRole.Admin;
                    }

                    break;
                case AdminGranted granted:
                    Members[granted.Actor.UserId].Should().Be(MemberRole.Admin, because);
                    Members[granted.UserId].Should().Be(MemberRole.Member, because);
                    Members[granted.UserId] = MemberRole.Admin;
                    ShouldReachExactlyMembers(recipients, devices, because);
                    break;
            }
        }

        private void ShouldReachExactlyMembers(string[] recipients, FakeDirectory devices, string because)
        {
            var expected = Members.Keys.SelectMany(devices.AddressesOf).ToList();
            recipients.Should().BeEquivalentTo(expected, because);
            recipients.Should().OnlyHaveUniqueItems(because);
        }
    }
}
