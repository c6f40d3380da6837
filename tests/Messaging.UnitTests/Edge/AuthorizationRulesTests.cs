using Messaging.Contracts.Protocol;
using Messaging.Edge.Auth;
using Messaging.Edge.Commands;
using Messaging.Edge.Media;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

/// <summary>The pure authorization rules: safe deployments, acks, attachment keys.</summary>
public sealed class AuthorizationRulesTests
{
    private const string StrongKey = "a-signing-key-of-at-least-32-bytes!!";

    [Theory]
    [InlineData("Local")]
    [InlineData("Development")]
    [InlineData("Testing")]
    public void Dev_tokens_are_allowed_in_the_development_environments(string environment) =>
        AuthOptionsValidator.Check(new AuthOptions { SigningKey = StrongKey, DevTokens = true }, environment).Should().BeNull();

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("")]
    public void Dev_tokens_are_refused_anywhere_else(string environment) =>
        AuthOptionsValidator.Check(new AuthOptions { SigningKey = StrongKey, DevTokens = true }, environment).Should().Contain("Auth:DevTokens=true is refused");

    [Theory]
    [InlineData("Production")]
    [InlineData("Local")]
    public void A_signing_key_under_256_bits_is_refused(string environment)
    {
        AuthOptionsValidator.Check(new AuthOptions { SigningKey = new string('k', 31) }, environment).Should().Contain("248 bits");
        AuthOptionsValidator.Check(new AuthOptions { SigningKey = new string('k', 32) }, environment).Should().BeNull();
    }

    [Fact]
    public void Some_way_to_check_a_signature_is_required_and_none_is_never_an_algorithm()
    {
        AuthOptionsValidator.Check(new AuthOptions(), "Production").Should().Contain("Auth:SigningKey");
        AuthOptionsValidator.Check(new AuthOptions { Authority = "https://id.example" }, "Production").Should().BeNull();
        AuthOptionsValidator.Check(new AuthOptions { Authority = "https://id.example", DevTokens = true }, "Local").Should().Contain("needs Auth:SigningKey");
        AuthOptionsValidator.Check(new AuthOptions { Authority = "https://id.example", Algorithms = ["RS256", "none"] }, "Production").Should().Contain("'none'");
    }

    [Fact]
    public void An_ack_needs_a_membership_and_a_seq_the_chat_has_for_that_member()
    {
        AckRules.Check(5, null).Should().Be(ErrorCodes.NotMember);
        AckRules.Check(5, new AckScope(LastSeq: 5, LeftSeq: null)).Should().BeNull();
        AckRules.Check(1, new AckScope(LastSeq: 5, LeftSeq: null)).Should().BeNull();
        AckRules.Check(6, new AckScope(LastSeq: 5, LeftSeq: null)).Should().Be(ErrorCodes.BadFrame);

        // A former member acks what their inbox holds: up to the seq they left at.
        AckRules.Check(3, new AckScope(LastSeq: 9, LeftSeq: 3)).Should().BeNull();
        AckRules.Check(4, new AckScope(LastSeq: 9, LeftSeq: 3)).Should().Be(ErrorCodes.BadFrame);
    }

    [Fact]
    public void Ackable_seqs_keep_the_highest_per_chat_and_stay_bounded()
    {
        var ackable = new AckableSeqs(capacity: 2);
        ackable.Covers("a", 1).Should().BeFalse();
        ackable.Note("a", 5);
        ackable.Note("a", 3);
        ackable.Covers("a", 5).Should().BeTrue();
        ackable.Covers("a", 6).Should().BeFalse();
        ackable.Note("b", 1);
        ackable.Note("c", 1);
        ackable.Covers("c", 1).Should().BeTrue();
        ackable.Covers("a", 1).Should().BeFalse("the third chat cleared the full memory; a miss costs one lookup");
    }

    [Fact]
    public void Attachment_keys_name_their_uploader_and_old_keys_have_none()
    {
        var id = Guid.CreateVersion7();
        var key = MediaKeys.New("ana", id);
        key.Should().Be("m/ana/" + id.ToString("N"));
        MediaKeys.TryParse(key, out var uploader).Should().BeTrue();
        uploader.Should().Be("ana");

        MediaKeys.TryParse("m/" + id.ToString("N"), out var none).Should().BeTrue();
        none.Should().BeNull();
    }

    [Theory]
    [InlineData("")]
    [InlineData("m/")]
    [InlineData("m/ana/")]
    [InlineData("m/ana/not-a-uuid-0000000000000000000")]
    [InlineData("x/ana/0190a1b2c3d4e5f60718293a4b5c6d7e")]
    [InlineData("m/d:ana/0190a1b2c3d4e5f60718293a4b5c6d7e")]
    [InlineData("m/a/b/0190a1b2c3d4e5f60718293a4b5c6d7e")]
    [InlineData("m//0190a1b2c3d4e5f60718293a4b5c6d7e")]
    [InlineData("m/ana0190a1b2c3d4e5f60718293a4b5c6d7e")]
    [InlineData("../etc/passwd")]
    public void Anything_else_is_not_an_attachment_key(string key) => MediaKeys.IsValid(key).Should().BeFalse();
}
