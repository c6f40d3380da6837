using Messaging.Contracts.Protocol;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// The edit and delete windows end to end, with windows configured to zero
/// (<c>Chat:EditWindowMinutes</c>, <c>Chat:DeleteWindowHours</c>) instead of waiting them out:
/// every later edit or sender's delete is outside them, an admin's delete is not bound by them.
/// </summary>
public sealed class MessageWindowTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2, configure: s =>
    {
        s["Chat:EditWindowMinutes"] = "0";
        s["Chat:DeleteWindowHours"] = "0";
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task An_edit_or_a_senders_delete_outside_the_window_is_refused_and_an_admins_delete_is_not()
    {
        var (ana, bo) = ("ana-" + Guid.NewGuid().ToString("N")[..6], "bo-" + Guid.NewGuid().ToString("N")[..6]);
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo], "Late");
        var sent = await boPhone.SendMessageAsync(chatId, "too late to fix");
        await anaPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);

        (await MessageContentTests.RefusalAsync(boPhone, () => boPhone.EditMessageAsync(chatId, sent.MessageId, "fixed"))).Code.Should().Be(ErrorCodes.WindowPassed);
        (await MessageContentTests.RefusalAsync(boPhone, () => boPhone.DeleteMessageAsync(chatId, sent.MessageId))).Code.Should().Be(ErrorCodes.WindowPassed);

        await anaPhone.DeleteMessageAsync(chatId, sent.MessageId);
        (await boPhone.WaitForAsync<MessageDeletedFrame>(d => d.MessageId == sent.MessageId, Timeout)).Actor.UserId.Should().Be(ana);
    }
}
