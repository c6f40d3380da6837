using System.Text;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Router.Chats;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

/// <summary>
/// <see cref="ChatEvolver.Evolve"/> is the decider's state as a fold of its events: for random
/// command sequences over every command type (sends, replies, encrypted sends, membership, edits,
/// deletes, reactions, read markers, with the clock moving past the edit window), the state folded
/// from the emitted events alone encodes to the same <c>chat.state</c> snapshot as the state the
/// decider kept, after every step. Seeded like <see cref="ChatDeciderPropertyTests"/>.
/// </summary>
public sealed class ChatEvolverTests
{
    private const int Users = 6;
    private static readonly string[] Chats = ["g0", "g1", "d:u0:u1"];
    private static readonly ChatLimits Limits = new(MaxGroupMembers: 5, MaxBodyBytes: 8, RecentClientMsgIds: 4)
    {
        EditWindow = TimeSpan.FromMinutes(15),
        DeleteWindow = TimeSpan.FromHours(48),
    };

    [Theory]
    [MemberData(nameof(ChatDeciderPropertyTests.Seeds), MemberType = typeof(ChatDeciderPropertyTests))]
    public void Folding_the_deciders_events_reproduces_the_state_it_keeps_after_every_command(int seed) =>
        Drive(seed).Should().Contain(nameof(MessageSent), $"seed {seed} exercises sends");

    [Fact]
    public void Every_event_type_is_covered_by_the_random_sequences()
    {
        // The theory above is only exhaustive if the generator reaches every event the decider emits.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var seed in Enumerable.Range(1, 200))
        {
            seen.UnionWith(Drive(seed));
        }

        var all = typeof(ChatEvent).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ChatEvent)) && !t.IsAbstract).Select(t => t.Name);
        seen.Should().BeEquivalentTo(all);
    }

    [Fact]
    public void Events_appended_again_after_a_crash_change_nothing()
    {
        var devices = new FakeDirectory().WithDevices("ana", "phone").WithDevices("bo", "phone");
        var state = (ChatState?)null;
        var events = new List<ChatEvent>();
        foreach (var command in new ChatCommand[] { Group("g", "ana", "T", "bo"), Send("g", "bo", body: "a"), Send("g", "ana", body: "b"), Leave("g", "ana") })
        {
            var decision = ChatDecider.Decide(state, command, new DecideContext(Limits, devices, Now, 0));
            state = decision.State;
            events.AddRange(decision.Events);
        }

        var once = Fold(events);
        var twice = Fold([.. events, .. events.Skip(1)]);
        Encode(twice).Should().Be(Encode(once));
        once!.LastSeq.Should().Be(4);
        once.Members.Should().ContainSingle().Which.Role.Should().Be(MemberRole.Admin, "bo was promoted when ana left");
    }

    [Fact]
    public void A_read_marker_and_events_of_a_chat_never_created_change_nothing()
    {
        var sent = new MessageSent { ChatId = "g", Seq = 2, Actor = Phone("bo"), OccurredAt = Now, MessageId = "m1", ClientMsgId = "c1", Body = "x" };
        ChatEvolver.Evolve(null, sent, 4).Should().BeNull("a log cut before the chat's creation has nothing to rebuild into");

        var state = ChatEvolver.Evolve(null, new ChatCreated { ChatId = "g", Seq = 1, Actor = Phone("bo"), OccurredAt = Now, Kind = ChatKind.Group, Title = "T", Members = [new ChatMember("bo", MemberRole.Admin)] }, 4)!;
        var before = Encode(state);
        ChatEvolver.Evolve(state, new MessagesRead { ChatId = "g", Seq = 1, Actor = Phone("bo"), OccurredAt = Now }, 4);
        Encode(state).Should().Be(before);
    }

    /// <summary>One seeded sequence: after every command, the fold of the events so far encodes like the decider's state. Returns the event types emitted.</summary>
    private static HashSet<string> Drive(int seed)
    {
        var random = new Random(seed);
        var devices = new FakeDirectory();
        for (var u = 0; u < Users; u++)
        {
            devices.WithDevices("u" + u, [.. Enumerable.Range(0, 1 + (u % 2)).Select(d => $"d{d}")]);
        }

        var decided = new Dictionary<string, ChatState>(StringComparer.Ordinal);
        var folded = new Dictionary<string, ChatState>(StringComparer.Ordinal);
        var messages = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var eventTypes = new HashSet<string>(StringComparer.Ordinal);
        var now = Now;
        for (var step = 0; step < 300; step++)
        {
            now += TimeSpan.FromSeconds(random.Next(0, 120));
            var chatId = Chats[random.Next(Chats.Length)];
            decided.TryGetValue(chatId, out var before);
            var command = RandomCommand(random, chatId, before, messages.GetValueOrDefault(chatId) ?? [], devices);
            var decision = ChatDecider.Decide(before, command, new DecideContext(Limits, devices, now, step));
            if (decision.State is { } after)
            {
                decided[chatId] = after;
            }

            folded.TryGetValue(chatId, out var fold);
            foreach (var evt in decision.Events)
            {
                eventTypes.Add(evt.GetType().Name);
                fold = ChatEvolver.Evolve(fold, evt, Limits.RecentClientMsgIds);
                if (evt is MessageSent sent)
                {
                    (messages.TryGetValue(chatId, out var ids) ? ids : messages[chatId] = []).Add(sent.MessageId);
                }
            }

            if (fold is not null)
            {
                folded[chatId] = fold;
            }

            var because = $"seed {seed}, step {step}, command {command.GetType().Name} by {command.Origin.UserId} on {chatId}";
            ShouldEncodeAlike(decided.GetValueOrDefault(chatId), folded.GetValueOrDefault(chatId), because);
        }

        return eventTypes;
    }

    private static ChatState? Fold(IEnumerable<ChatEvent> events)
    {
        ChatState? state = null;
        foreach (var evt in events)
        {
            state = ChatEvolver.Evolve(state, evt, Limits.RecentClientMsgIds);
        }

        return state;
    }

    private static void ShouldEncodeAlike(ChatState? decided, ChatState? folded, string because)
    {
        if (decided is null)
        {
            folded.Should().BeNull(because);
            return;
        }

        folded.Should().NotBeNull(because);

        // No event carries the command offset: the rebuild sets it (docs/router.md).
        folded!.LastCommandOffset = decided.LastCommandOffset;
        Encode(folded).Should().Be(Encode(decided), because);
    }

    private static string? Encode(ChatState? state) => state is null ? null : Encoding.UTF8.GetString(ChatStateCodec.Encode(state));

    private static ChatCommand RandomCommand(Random random, string chatId, ChatState? state, List<string> messageIds, FakeDirectory devices)
    {
        var user = "u" + random.Next(Users);
        var other = "u" + random.Next(Users);
        string Target() => messageIds.Count > 0 && random.Next(8) > 0 ? messageIds[messageIds.Count - 1 - random.Next(Math.Min(6, messageIds.Count))] : "m-nowhere";
        if (chatId.StartsWith("d:", StringComparison.Ordinal))
        {
            var pair = chatId[2..].Split(':');
            user = pair[random.Next(2)];
        }

        var roll = random.Next(100);
        return roll switch
        {
            < 6 when !chatId.StartsWith("d:", StringComparison.Ordinal) => Group(chatId, user, "T", [.. Enumerable.Range(0, random.Next(5)).Select(_ => "u" + random.Next(Users))]),
            < 40 => Send(chatId, user, clientMsgId: "c" + random.Next(12), body: random.Next(8) == 0 ? new string('x', 9) : "hi", peer: chatId.StartsWith("d:", StringComparison.Ordinal) ? (user == "u0" ? "u1" : "u0") : null) with
            {
                ReplyTo = random.Next(5) == 0 ? Target() : null,
            },
            < 44 => EncryptedSend(chatId, user, state, devices),
            < 52 => Add(chatId, user, [.. Enumerable.Range(0, 1 + random.Next(2)).Select(_ => "u" + random.Next(Users))]),
            < 58 => Remove(chatId, user, other),
            < 63 => Leave(chatId, user),
            < 68 => Grant(chatId, user, other),
            < 78 => new EditMessage { CommandId = NextId("cmd-"), ChatId = chatId, Origin = Phone(user), OriginNode = 0, IssuedAt = Now, MessageId = Target(), Body = "ed" },
            < 86 => new DeleteMessage { CommandId = NextId("cmd-"), ChatId = chatId, Origin = Phone(user), OriginNode = 0, IssuedAt = Now, MessageId = Target() },
            < 94 => new ReactToMessage { CommandId = NextId("cmd-"), ChatId = chatId, Origin = Phone(user), OriginNode = 0, IssuedAt = Now, MessageId = Target(), Emoji = random.Next(3) == 0 ? null : "+1" },
            _ => Read(chatId, user, 1 + random.Next((int)Math.Max(1, state?.LastSeq ?? 1))),
        };
    }

    /// <summary>A send with one payload per device of every current member (so it is accepted when the sender is a member).</summary>
    private static SendMessage EncryptedSend(string chatId, string user, ChatState? state, FakeDirectory devices)
    {
        var payloads = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in state?.Members ?? [])
        {
            foreach (var address in devices.AddressesOf(member.UserId))
            {
                payloads[address] = "YWJj";
            }
        }

        return Send(chatId, user, body: "") with { Payloads = payloads.Count > 0 ? payloads : new Dictionary<string, string> { ["x/y"] = "YWJj" } };
    }
}
