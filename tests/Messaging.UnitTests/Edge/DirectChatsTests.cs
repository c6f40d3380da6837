using Messaging.Edge.Commands;

namespace Messaging.UnitTests.Edge;

public sealed class DirectChatsTests
{
    [Theory]
    [InlineData("ana", "bo", "d:ana:bo")]
    [InlineData("bo", "ana", "d:ana:bo")]
    [InlineData("Bo", "ana", "d:Bo:ana")]
    [InlineData("user-10", "user-9", "d:user-10:user-9")]
    public void The_direct_chat_id_orders_the_two_users_ordinally(string a, string b, string expected) =>
        DirectChats.Id(a, b).Should().Be(expected);

    [Fact]
    public void Both_users_get_the_same_id() =>
        DirectChats.Id("ärger", "zed").Should().Be(DirectChats.Id("zed", "ärger"));
}
