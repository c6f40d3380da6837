using System.Collections.Concurrent;
using Messaging.Contracts.Delivery;

namespace Messaging.Edge.Devices;

/// <summary>
/// The device commands this node appended to <c>user.commands</c> and is waiting on, by command
/// id. The Router's <see cref="DeviceCommandDecided"/> arrives on this node's delivery topic and
/// completes the waiter; a reply nobody waits for any more (timed out) is dropped.
/// </summary>
internal sealed class DeviceCommandReplies
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DeviceCommandDecided>> _waiting = new(StringComparer.Ordinal);

    /// <summary>Registers a waiter before the command is produced, so a fast reply cannot be missed.</summary>
    public Task<DeviceCommandDecided> Expect(string commandId)
    {
        var waiter = new TaskCompletionSource<DeviceCommandDecided>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[commandId] = waiter;
        return waiter.Task;
    }

    public void Forget(string commandId) => _waiting.TryRemove(commandId, out _);

    /// <summary>Called by the delivery consumer; false when no one waits for this command.</summary>
    public bool Complete(DeviceCommandDecided reply)
    {
        if (!_waiting.TryRemove(reply.CommandId, out var waiter))
        {
            return false;
        }

        waiter.TrySetResult(reply);
        return true;
    }
}
