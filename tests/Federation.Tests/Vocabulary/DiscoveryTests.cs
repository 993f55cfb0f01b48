using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Discovery;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Vocabulary;

public class DiscoveryTests
{
    [TestCase("acct:alice@example.org", "alice", "example.org")]
    [TestCase("@alice@example.org", "alice", "example.org")]
    [TestCase("alice@Example.ORG", "alice", "example.org")]
    [TestCase(" acct:alice@example.org. ", "alice", "example.org")]
    [TestCase("bob@127.0.0.1:8181", "bob", "127.0.0.1:8181")]
    [TestCase("bob@localhost:3000", "bob", "localhost:3000")]
    [TestCase("carol@bücher.example", "carol", "xn--bcher-kva.example")]
    [TestCase("dave@[::1]:8080", "dave", "[::1]:8080")]
    [TestCase("first.last@example.org", "first.last", "example.org")]
    public void AccountHandle_TryParse_accepts_known_forms(string text, string user, string host)
    {
        Assert.That(AccountHandle.TryParse(text, out var handle), Is.True);
        Assert.That(handle!.User, Is.EqualTo(user));
        Assert.That(handle.Host, Is.EqualTo(host));
        Assert.That(handle.Resource, Is.EqualTo($"acct:{user}@{host}"));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("alice")]
    [TestCase("@alice")]
    [TestCase("alice@")]
    [TestCase("@@example.org")]
    [TestCase("al ice@example.org")]
    [TestCase("alice/../x@example.org")]
    [TestCase("alice@exa mple.org")]
    [TestCase("alice@example.org:99999")]
    [TestCase("alice@example.org:0")]
    [TestCase("alice@example.org/path")]
    public void AccountHandle_TryParse_rejects_malformed(string? text)
    {
        Assert.That(AccountHandle.TryParse(text, out var handle), Is.False);
        Assert.That(handle, Is.Null);
    }

    [Test]
    public void Jrd_for_actor_matches_snapshot()
    {
        var jrd = Jrd.ForActor("bob@fellows.example", "https://fellows.example/users/bob", "https://fellows.example/@bob", "https://fellows.example/authorize_interaction?uri={uri}");

        Assert.That(ActivityPubWriter.Serialize(jrd.ToJson()), Is.EqualTo(
            """{"subject":"acct:bob@fellows.example","aliases":["https://fellows.example/@bob","https://fellows.example/users/bob"],"links":[{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://fellows.example/@bob"},{"rel":"self","type":"application/activity+json","href":"https://fellows.example/users/bob"},{"rel":"http://ostatus.org/schema/1.0/subscribe","template":"https://fellows.example/authorize_interaction?uri={uri}"}]}"""));
    }

    [Test]
    public void Jrd_TryRead_finds_actor_from_ld_json_self_link()
    {
        using var document = JsonDocument.Parse("""
            {"subject": "acct:kit@gts.example", "aliases": "https://gts.example/users/kit",
             "links": [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "https://gts.example/@kit"},
                       {"rel": "self", "type": "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"", "href": "https://gts.example/users/kit"},
                       {"type": "broken"}, 7]}
            """);

        Assert.That(Jrd.TryRead(document.RootElement, out var jrd, out var error), Is.True, error);
        Assert.That(jrd!.Subject, Is.EqualTo("acct:kit@gts.example"));
        Assert.That(jrd.Aliases, Is.EqualTo(new[] { "https://gts.example/users/kit" }));
        Assert.That(jrd.Links, Has.Count.EqualTo(2));
        Assert.That(jrd.ActorId, Is.EqualTo("https://gts.example/users/kit"));
    }

    [Test]
    public void Jrd_TryRead_without_subject_fails()
    {
        using var document = JsonDocument.Parse("""{"links": []}""");

        Assert.That(Jrd.TryRead(document.RootElement, out _, out var error), Is.False);
        Assert.That(error, Is.EqualTo("JRD has no subject"));
    }

    [Test]
    public void NodeInfo_21_matches_snapshot()
    {
        var data = new NodeInfoData
        {
            SoftwareName = "fellows",
            SoftwareVersion = "0.1.0",
            Repository = "https://codeberg.example/fellows/fellows",
            Homepage = "https://fellows.example",
            UsersTotal = 12,
            ActiveMonth = 5,
            ActiveHalfyear = 9,
            LocalPosts = 340,
            OpenRegistrations = false,
            Metadata = new JsonObject { ["nodeName"] = "Bakers' Co-op" },
        };

        Assert.That(ActivityPubWriter.Serialize(NodeInfo.Document(data)), Is.EqualTo(
            """{"version":"2.1","software":{"name":"fellows","version":"0.1.0","repository":"https://codeberg.example/fellows/fellows","homepage":"https://fellows.example"},"protocols":["activitypub"],"services":{"inbound":[],"outbound":[]},"openRegistrations":false,"usage":{"users":{"total":12,"activeMonth":5,"activeHalfyear":9},"localPosts":340},"metadata":{"nodeName":"Bakers' Co-op"}}"""));
    }

    [Test]
    public void NodeInfo_20_omits_repository_and_homepage()
    {
        var data = new NodeInfoData { SoftwareName = "fellows", SoftwareVersion = "0.1.0", Repository = "https://r.example", Homepage = "https://h.example", UsersTotal = 1 };

        var json = NodeInfo.Document(data, NodeInfoVersion.V20);

        Assert.That(json["version"]!.GetValue<string>(), Is.EqualTo("2.0"));
        Assert.That(json["software"]!.AsObject().ContainsKey("repository"), Is.False);
        Assert.That(json["software"]!.AsObject().ContainsKey("homepage"), Is.False);
    }

    [Test]
    public void NodeInfo_well_known_links_both_versions()
    {
        var json = ActivityPubWriter.Serialize(NodeInfo.WellKnown("https://f.example/nodeinfo/2.0", "https://f.example/nodeinfo/2.1"));

        Assert.That(json, Is.EqualTo(
            """{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"https://f.example/nodeinfo/2.0"},{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.1","href":"https://f.example/nodeinfo/2.1"}]}"""));
    }

    [Test]
    public void HostMeta_xml_and_json()
    {
        Assert.That(HostMeta.Xml("https://f.example/"), Is.EqualTo(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"https://f.example/.well-known/webfinger?resource={uri}\"/>\n</XRD>\n"));
        Assert.That(ActivityPubWriter.Serialize(HostMeta.Json("https://f.example")), Is.EqualTo(
            """{"links":[{"rel":"lrdd","template":"https://f.example/.well-known/webfinger?resource={uri}"}]}"""));
    }
}
