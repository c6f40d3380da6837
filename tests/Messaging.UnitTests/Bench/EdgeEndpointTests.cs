using Messaging.Bench.Cli;
using Messaging.Bench.Connections;

namespace Messaging.UnitTests.Bench;

public sealed class EdgeEndpointTests
{
    [Fact]
    public void A_bare_ws_url_gets_the_ws_path_and_an_http_base_on_the_same_port()
    {
        var edge = EdgeEndpoint.Parse(1, "ws://127.0.0.1:8081");

        edge.WebSocketUri.Should().Be(new Uri("ws://127.0.0.1:8081/ws"));
        edge.HttpBase.Should().Be(new Uri("http://127.0.0.1:8081/"));
    }

    [Fact]
    public void An_explicit_path_is_kept()
    {
        EdgeEndpoint.Parse(0, "wss://chat.example:443/socket").WebSocketUri.Should().Be(new Uri("wss://chat.example/socket"));
    }

    [Fact]
    public void An_http_url_is_refused_with_the_flag_named()
    {
        var parse = () => EdgeEndpoint.Parse(0, "http://127.0.0.1:8080");

        parse.Should().Throw<FormatException>().WithMessage("*--edge*");
    }

    [Theory]
    [InlineData("250,500,1000", new[] { 250.0, 500, 1000 })]
    [InlineData("4000", new[] { 4000.0 })]
    [InlineData(" 250 , 500 ", new[] { 250.0, 500 })]
    public void Rates_are_a_comma_separated_list(string text, double[] expected)
    {
        CommonOptions.TryParseRates(text, out var rates, out _).Should().BeTrue();

        rates.Should().Equal(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("250,-1")]
    public void Rates_that_are_not_positive_numbers_are_refused(string text)
    {
        CommonOptions.TryParseRates(text, out _, out var error).Should().BeFalse();

        error.Should().Contain("--rates");
    }

    [Fact]
    public void The_token_reply_is_read_from_token_or_access_token()
    {
        DevTokenClient.ReadToken("{\"token\":\"abc\",\"expiresAt\":\"2026-01-01T00:00:00Z\"}"u8).Should().Be("abc");
        DevTokenClient.ReadToken("{\"accessToken\":\"xyz\"}"u8).Should().Be("xyz");
        DevTokenClient.ReadToken("{\"nope\":1}"u8).Should().BeNull();
        DevTokenClient.ReadToken("garbage"u8).Should().BeNull();
    }
}
