using System.Globalization;
using BenchmarkDotNet.Attributes;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Router.Chats;
using Messaging.Router.Directory;
using Messaging.Router.Routing;

namespace Messaging.Bench.Micro;

/// <summary>
/// The Router's pure per-command work for a send to a group of 10: the decision (membership,
/// de-duplication, seq, recipients) and grouping the recipients by Edge node.
/// </summary>
[MemoryDiagnoser]
public class RouterDecisionBenchmarks
{
    /// <summary>More distinct sends than the de-duplication window (1000), so the window is full and evicting, as in steady state.</summary>
    private const int DistinctSends = 4096;

    private const int EdgeNodes = 2;

    private readonly List<string>[] _byNode = [[], []];
    private SendMessage[] _sends = [];
    private ChatState _state = null!;
    private DecideContext _context;
    private FixedDirectory _directory = null!;
    private IReadOnlyList<string> _recipients = [];
    private int _next;

    [GlobalSetup]
    public void SetUp()
    {
        var devices = SampleRecords.DeviceAddresses(SampleRecords.GroupSize);
        _directory = new FixedDirectory(devices, EdgeNodes);
        _context = new DecideContext(new ChatLimits(), _directory, SampleRecords.At);
        var origin = new DeviceRef("bench-u0", "d0");
        var members = new string[SampleRecords.GroupSize - 1];
        for (var i = 1; i < SampleRecords.GroupSize; i++)
        {
            members[i - 1] = "bench-u" + i.ToString(CultureInfo.InvariantCulture);
        }

        var create = new CreateChat { CommandId = "c0", ChatId = "g-bench", Origin = origin, OriginNode = 0, IssuedAt = SampleRecords.At, Title = "bench", Members = members };
        _state = ChatDecider.Decide(null, create, _context).State ?? throw new InvalidOperationException("the group was not created");
        _sends = new SendMessage[DistinctSends];
        for (var i = 0; i < DistinctSends; i++)
        {
            var id = i.ToString(CultureInfo.InvariantCulture);
            _sends[i] = new SendMessage
            {
                CommandId = "c" + id,
                ChatId = "g-bench",
                Origin = origin,
                OriginNode = 0,
                IssuedAt = SampleRecords.At,
                ClientMsgId = "m" + id,
                MessageId = "id" + id,
                Body = SampleRecords.Body,
            };
        }

        // Warm the de-duplication window past its capacity.
        for (var i = 0; i < DistinctSends; i++)
        {
            Decide();
        }

        _recipients = SampleRecords.DeviceAddresses(SampleRecords.GroupSize);
    }

    [Benchmark(Description = "ChatDecider.Decide SendMessage (group of 10)")]
    public int Decide()
    {
        var send = _sends[_next];
        _next = (_next + 1) % DistinctSends;
        return ChatDecider.Decide(_state, send, _context).Events.Count;
    }

    [Benchmark(Description = "NodeFanOut.Group 10 recipients over 2 nodes")]
    public int GroupByNode() => NodeFanOut.Group(_recipients, _directory, SampleRecords.At, _byNode);

    /// <summary>Every user has one device, all online, spread round-robin over the nodes.</summary>
    private sealed class FixedDirectory : IDeviceDirectory
    {
        private readonly Dictionary<string, string[]> _addressesByUser = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _nodeByAddress = new(StringComparer.Ordinal);

        public FixedDirectory(string[] addresses, int nodes)
        {
            for (var i = 0; i < addresses.Length; i++)
            {
                _addressesByUser["bench-u" + i.ToString(CultureInfo.InvariantCulture)] = [addresses[i]];
                _nodeByAddress[addresses[i]] = i % nodes;
            }
        }

        public IReadOnlyList<string> AddressesOf(string userId) => _addressesByUser.TryGetValue(userId, out var addresses) ? addresses : [];

        public int NodeOf(string address, DateTimeOffset now) => _nodeByAddress.TryGetValue(address, out var node) ? node : -1;

        /// <summary>Nothing to read: the directory is fixed.</summary>
        public bool CatchUp(TimeSpan timeout, CancellationToken cancellationToken) => true;
    }
}
