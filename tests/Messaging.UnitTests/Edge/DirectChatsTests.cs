using Messaging.Contracts;

namespace Messaging.UnitTests.Edge;

public sealed class DirectChatsTests
{
    [Theory]
    [InlineData("ana", "bo", "d:ana:bo")]
    [InlineData("bo", "ana", "d:ana:bo")]
    [InlineData("Bo", "ana", "d:Bo:ana")]
    [InlineData("user-10", "user-9", "d:user-10:user-9")]
    public void The_direct_chat_id_orders_the_two_users_ordinally(string a, string b, string expected) =>
        ChatIds.Direct(a, b).Should().Be(expected);

    [Fact]
    public void Both_users_get_the_same_id() =>
        ChatIds.Direct("ärger", "zed").Should().Be(ChatIds.Direct("zed", "ärger"));
}
