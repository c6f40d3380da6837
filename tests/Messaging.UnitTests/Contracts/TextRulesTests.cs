using Messaging.Contracts;

namespace Messaging.UnitTests.Contracts;

public sealed class TextRulesTests
{
    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("Grüße ✨ 你好")]
    [InlineData("emoji \U0001F600 pair")]
    [InlineData("\U0001F600")]
    [InlineData("tab\tnew\nline \u0001 and \uFFFF")]
    public void Text_without_nul_or_lone_surrogates_is_storable(string text) => TextRules.IsStorable(text).Should().BeTrue();

    // Built in code and passed by index: xUnit replaces lone surrogates in serialized theory data.
    private static readonly string[] Unstorable =
    [
        "\0",
        "a\0b",
        "ends with nul\0",
        "\U0001F600 then nul \0",
        "\uD800",
        "lone high \uD83D at the end \uD83D",
        "lone high \uD83D in the middle",
        "lone low \uDE00 first",
        "reversed pair \uDE00\uD83D",
        "\U0001F600\uDE00",
    ];

    public static TheoryData<int> UnstorableCases() => [.. Enumerable.Range(0, Unstorable.Length)];

    [Theory]
    [MemberData(nameof(UnstorableCases))]
    public void Nul_and_unpaired_surrogates_are_not_storable(int index) => TextRules.IsStorable(Unstorable[index]).Should().BeFalse();

    [Fact]
    public void An_absent_text_is_storable() => TextRules.IsStorable((string?)null).Should().BeTrue();

    [Fact]
    public void A_nul_far_into_a_long_text_is_found() =>
        TextRules.IsStorable(new string('x', 100_000) + "\0" + new string('y', 10)).Should().BeFalse();

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef", true)]
    [InlineData("b1.3.4711.123456789", true)]
    [InlineData("dev:phone-1", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("slash/inside", false)]
    [InlineData("nul\0", false)]
    [InlineData("é", false)]
    public void A_client_message_id_uses_the_device_id_character_set(string id, bool valid) =>
        Ids.IsValidClientMsgId(id).Should().Be(valid);

    [Fact]
    public void A_client_message_id_is_at_most_the_id_length() =>
        Ids.IsValidClientMsgId(new string('m', Ids.MaxLength + 1)).Should().BeFalse();
}
