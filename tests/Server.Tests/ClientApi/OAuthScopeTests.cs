using Fellows.Server.Features.Auth;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

#pragma warning disable CA1861 // expected arrays inline read best in tests

/// <summary>Mastodon's scope hierarchy as the authorization checks apply it.</summary>
public class OAuthScopeTests
{
    [TestCase("read", "read:statuses", true)]
    [TestCase("read", "read", true)]
    [TestCase("read:statuses", "read", false)]
    [TestCase("read", "write:statuses", false)]
    [TestCase("read", "admin:read:accounts", false)]
    [TestCase("write", "write:follows", true)]
    [TestCase("follow", "read:follows", true)]
    [TestCase("follow", "write:blocks", true)]
    [TestCase("follow", "write:mutes", true)]
    [TestCase("follow", "read:statuses", false)]
    [TestCase("follow", "write:statuses", false)]
    [TestCase("admin:read", "admin:read:accounts", true)]
    [TestCase("admin:read", "admin:write:accounts", false)]
    [TestCase("read", "profile", true)]
    [TestCase("read:accounts", "profile", true)]
    [TestCase("profile", "read:accounts", false)]
    [TestCase("read:statuses", "read:statusesx", false)]
    [TestCase("push", "read", false)]
    public void Covers_follows_the_hierarchy(string granted, string required, bool expected) =>
        Assert.That(Scopes.Covers([granted], required), Is.EqualTo(expected));

    [Test]
    public void Parse_splits_on_spaces_and_pluses_and_drops_duplicates()
    {
        Assert.That(Scopes.Parse("read+write  follow read"), Is.EqualTo(new[] { "read", "write", "follow" }));
        Assert.That(Scopes.Parse(null), Is.Empty);
        Assert.That(Scopes.IsKnown("write:statuses"), Is.True);
        Assert.That(Scopes.IsKnown("write:everything"), Is.False);
        Assert.That(Scopes.AllCovered(["read", "follow"], ["read:lists", "write:follows"]), Is.True);
        Assert.That(Scopes.AllCovered(["read"], ["read:lists", "write:lists"]), Is.False);
    }
}
