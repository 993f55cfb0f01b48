using System.Text.Json.Nodes;
using Fellows.Federation.Json;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Vocabulary;

/// <summary>Pins the exact bytes of what we publish, so any change to outgoing documents is deliberate.</summary>
public class WriterSnapshotTests
{
    private static readonly DateTimeOffset Noon = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    internal static LocalActor SampleActor => new()
    {
        Id = "https://fellows.example/users/bob",
        Type = "Person",
        PreferredUsername = "bob",
        Name = "Bob",
        SummaryHtml = "<p>Baker & member</p>",
        Url = "https://fellows.example/@bob",
        Inbox = "https://fellows.example/users/bob/inbox",
        Outbox = "https://fellows.example/users/bob/outbox",
        Followers = "https://fellows.example/users/bob/followers",
        Following = "https://fellows.example/users/bob/following",
        Featured = "https://fellows.example/users/bob/collections/featured",
        SharedInbox = "https://fellows.example/inbox",
        ManuallyApprovesFollowers = true,
        Discoverable = true,
        Published = Noon,
        Icon = new ImageRef("https://fellows.example/media/bob.png", "image/png"),
        PublicKeyPem = "-----BEGIN PUBLIC KEY-----\nMII\n-----END PUBLIC KEY-----\n",
        Multikeys = [new LocalMultikey("https://fellows.example/users/bob#ed25519-key", "z6MkSample")],
        Fields = [new ProfileField("Co-op", "Bakery")],
    };

    internal static LocalNote SampleNote => new()
    {
        Id = "https://fellows.example/users/bob/notes/1",
        AttributedTo = "https://fellows.example/users/bob",
        ContentHtml = "<p>Hi <span class=\"h-card\"><a href=\"https://mastodon.example/@alice\" class=\"u-url mention\">@alice</a></span> <a href=\"https://fellows.example/tags/coop\" class=\"mention hashtag\" rel=\"tag\">#coop</a></p>",
        Language = "en",
        Published = Noon,
        Url = "https://fellows.example/@bob/1",
        To = [ActivityStreams.Public],
        Cc = ["https://fellows.example/users/bob/followers", "https://mastodon.example/users/alice"],
        Mentions = [new MentionTag("https://mastodon.example/users/alice", "@alice@mastodon.example")],
        Hashtags = [new HashtagTag("https://fellows.example/tags/coop", "coop")],
        Attachments = [new MediaAttachment("Document", "image/jpeg", "https://fellows.example/media/bread.jpg", "A loaf", 800, 600, "LEHV6nWB2yk8")],
        Replies = "https://fellows.example/users/bob/notes/1/replies",
    };

    [Test]
    public void Actor_sample_matches_snapshot()
    {
        var json = ActivityPubWriter.Serialize(ActivityPubWriter.Actor(SampleActor));

        Assert.That(json, Is.EqualTo(
            """{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1","https://w3id.org/security/multikey/v1",{"manuallyApprovesFollowers":"as:manuallyApprovesFollowers","toot":"http://joinmastodon.org/ns#","featured":{"@id":"toot:featured","@type":"@id"},"featuredTags":{"@id":"toot:featuredTags","@type":"@id"},"alsoKnownAs":{"@id":"as:alsoKnownAs","@type":"@id"},"movedTo":{"@id":"as:movedTo","@type":"@id"},"schema":"http://schema.org#","PropertyValue":"schema:PropertyValue","value":"schema:value","discoverable":"toot:discoverable","indexable":"toot:indexable","Emoji":"toot:Emoji","Hashtag":"as:Hashtag","sensitive":"as:sensitive"}],"id":"https://fellows.example/users/bob","type":"Person","preferredUsername":"bob","name":"Bob","summary":"<p>Baker & member</p>","url":"https://fellows.example/@bob","inbox":"https://fellows.example/users/bob/inbox","outbox":"https://fellows.example/users/bob/outbox","followers":"https://fellows.example/users/bob/followers","following":"https://fellows.example/users/bob/following","featured":"https://fellows.example/users/bob/collections/featured","endpoints":{"sharedInbox":"https://fellows.example/inbox"},"manuallyApprovesFollowers":true,"discoverable":true,"indexable":false,"published":"2024-05-01T12:00:00Z","icon":{"type":"Image","mediaType":"image/png","url":"https://fellows.example/media/bob.png"},"publicKey":{"id":"https://fellows.example/users/bob#main-key","owner":"https://fellows.example/users/bob","publicKeyPem":"-----BEGIN PUBLIC KEY-----\nMII\n-----END PUBLIC KEY-----\n"},"assertionMethod":[{"id":"https://fellows.example/users/bob#ed25519-key","type":"Multikey","controller":"https://fellows.example/users/bob","publicKeyMultibase":"z6MkSample"}],"attachment":[{"type":"PropertyValue","name":"Co-op","value":"Bakery"}],"tag":[]}"""));
    }

    [Test]
    public void Note_sample_matches_snapshot()
    {
        var json = ActivityPubWriter.Serialize(ActivityPubWriter.Note(SampleNote));

        Assert.That(json, Is.EqualTo(
            """{"@context":["https://www.w3.org/ns/activitystreams",{"sensitive":"as:sensitive","Hashtag":"as:Hashtag","toot":"http://joinmastodon.org/ns#","Emoji":"toot:Emoji","blurhash":"toot:blurhash","votersCount":"toot:votersCount"}],"id":"https://fellows.example/users/bob/notes/1","type":"Note","attributedTo":"https://fellows.example/users/bob","summary":null,"sensitive":false,"inReplyTo":null,"published":"2024-05-01T12:00:00Z","url":"https://fellows.example/@bob/1","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://fellows.example/users/bob/followers","https://mastodon.example/users/alice"],"content":"<p>Hi <span class=\"h-card\"><a href=\"https://mastodon.example/@alice\" class=\"u-url mention\">@alice</a></span> <a href=\"https://fellows.example/tags/coop\" class=\"mention hashtag\" rel=\"tag\">#coop</a></p>","contentMap":{"en":"<p>Hi <span class=\"h-card\"><a href=\"https://mastodon.example/@alice\" class=\"u-url mention\">@alice</a></span> <a href=\"https://fellows.example/tags/coop\" class=\"mention hashtag\" rel=\"tag\">#coop</a></p>"},"attachment":[{"type":"Document","mediaType":"image/jpeg","url":"https://fellows.example/media/bread.jpg","name":"A loaf","blurhash":"LEHV6nWB2yk8","width":800,"height":600}],"tag":[{"type":"Mention","href":"https://mastodon.example/users/alice","name":"@alice@mastodon.example"},{"type":"Hashtag","href":"https://fellows.example/tags/coop","name":"#coop"}],"replies":"https://fellows.example/users/bob/notes/1/replies"}"""));
    }

    [Test]
    public void Create_sample_matches_snapshot()
    {
        var json = ActivityPubWriter.Serialize(ActivityPubWriter.Create("https://fellows.example/users/bob/notes/1/activity", SampleNote with { Attachments = [], Mentions = [], Hashtags = [], ContentHtml = "<p>Hi</p>", Language = null, Cc = ["https://fellows.example/users/bob/followers"] }));

        Assert.That(json, Is.EqualTo(
            """{"@context":["https://www.w3.org/ns/activitystreams",{"sensitive":"as:sensitive","Hashtag":"as:Hashtag","toot":"http://joinmastodon.org/ns#","Emoji":"toot:Emoji","blurhash":"toot:blurhash","votersCount":"toot:votersCount"}],"id":"https://fellows.example/users/bob/notes/1/activity","type":"Create","actor":"https://fellows.example/users/bob","published":"2024-05-01T12:00:00Z","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://fellows.example/users/bob/followers"],"object":{"id":"https://fellows.example/users/bob/notes/1","type":"Note","attributedTo":"https://fellows.example/users/bob","summary":null,"sensitive":false,"inReplyTo":null,"published":"2024-05-01T12:00:00Z","url":"https://fellows.example/@bob/1","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://fellows.example/users/bob/followers"],"content":"<p>Hi</p>","attachment":[],"tag":[],"replies":"https://fellows.example/users/bob/notes/1/replies"}}"""));
    }

    [Test]
    public void Follow_sample_matches_snapshot()
    {
        var json = ActivityPubWriter.Serialize(ActivityPubWriter.Follow("https://fellows.example/activities/follow/1", "https://fellows.example/users/bob", "https://mastodon.example/users/alice"));

        Assert.That(json, Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://fellows.example/activities/follow/1","type":"Follow","actor":"https://fellows.example/users/bob","to":["https://mastodon.example/users/alice"],"object":"https://mastodon.example/users/alice"}"""));
    }

    [Test]
    public void Accept_sample_matches_snapshot()
    {
        var json = ActivityPubWriter.Serialize(ActivityPubWriter.Accept(
            "https://fellows.example/users/bob#accepts/1",
            "https://fellows.example/users/bob",
            "https://mastodon.example/2f1a",
            "https://mastodon.example/users/alice"));

        Assert.That(json, Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://fellows.example/users/bob#accepts/1","type":"Accept","actor":"https://fellows.example/users/bob","to":["https://mastodon.example/users/alice"],"object":{"id":"https://mastodon.example/2f1a","type":"Follow","actor":"https://mastodon.example/users/alice","object":"https://fellows.example/users/bob"}}"""));
    }

    [Test]
    public void OrderedCollectionPage_sample_matches_snapshot()
    {
        var json = ActivityPubWriter.Serialize(ActivityPubWriter.OrderedCollectionPage(new LocalCollectionPage
        {
            Id = "https://fellows.example/users/bob/followers?page=2",
            PartOf = "https://fellows.example/users/bob/followers",
            Next = "https://fellows.example/users/bob/followers?page=3",
            Prev = "https://fellows.example/users/bob/followers?page=1",
            TotalItems = 42,
            OrderedItems = [JsonValue.Create("https://mastodon.example/users/alice")!, JsonValue.Create("https://gts.example/users/kit")!],
        }));

        Assert.That(json, Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://fellows.example/users/bob/followers?page=2","type":"OrderedCollectionPage","totalItems":42,"partOf":"https://fellows.example/users/bob/followers","next":"https://fellows.example/users/bob/followers?page=3","prev":"https://fellows.example/users/bob/followers?page=1","orderedItems":["https://mastodon.example/users/alice","https://gts.example/users/kit"]}"""));
    }

    [Test]
    public void OrderedCollection_without_total_omits_it()
    {
        var json = ActivityPubWriter.Serialize(ActivityPubWriter.OrderedCollection("https://fellows.example/users/bob/outbox", first: "https://fellows.example/users/bob/outbox?page=true"));

        Assert.That(json, Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://fellows.example/users/bob/outbox","type":"OrderedCollection","first":"https://fellows.example/users/bob/outbox?page=true"}"""));
    }

    [Test]
    public void Note_written_reads_back_through_RemoteObject()
    {
        using var document = System.Text.Json.JsonDocument.Parse(ActivityPubWriter.SerializeToUtf8(ActivityPubWriter.Note(SampleNote)));

        Assert.That(RemoteObject.TryRead(document.RootElement, out var note, out var error), Is.True, error);
        Assert.That(note!.Mentions.Single().Href, Is.EqualTo("https://mastodon.example/users/alice"));
        Assert.That(note.Hashtags.Single().Name, Is.EqualTo("#coop"));
        Assert.That(note.Attachments.Single().Name, Is.EqualTo("A loaf"));
        Assert.That(note.Language, Is.EqualTo("en"));
        Assert.That(note.Published, Is.EqualTo(Noon));
    }

    [Test]
    public void Actor_written_reads_back_through_RemoteActor()
    {
        using var document = System.Text.Json.JsonDocument.Parse(ActivityPubWriter.SerializeToUtf8(ActivityPubWriter.Actor(SampleActor)));

        Assert.That(RemoteActor.TryRead(document.RootElement, out var actor, out var error), Is.True, error);
        Assert.That(actor!.SharedInbox, Is.EqualTo("https://fellows.example/inbox"));
        Assert.That(actor.PublicKey!.Owner, Is.EqualTo(actor.Id));
        Assert.That(actor.AssertionMethods.Single().PublicKeyMultibase, Is.EqualTo("z6MkSample"));
        Assert.That(actor.Fields.Single(), Is.EqualTo(new ProfileField("Co-op", "Bakery")));
        Assert.That(actor.ManuallyApprovesFollowers, Is.True);
    }

    [Test]
    public void Serialize_same_input_twice_is_identical()
    {
        var first = ActivityPubWriter.SerializeToUtf8(ActivityPubWriter.Create("https://fellows.example/a/1", SampleNote));
        var second = ActivityPubWriter.SerializeToUtf8(ActivityPubWriter.Create("https://fellows.example/a/1", SampleNote));

        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Undo_of_follow_embeds_follow_without_context()
    {
        var follow = ActivityPubWriter.Follow("https://fellows.example/activities/follow/1", "https://fellows.example/users/bob", "https://mastodon.example/users/alice");

        var json = ActivityPubWriter.Serialize(ActivityPubWriter.Undo("https://fellows.example/activities/follow/1/undo", "https://fellows.example/users/bob", follow, ["https://mastodon.example/users/alice"]));

        Assert.That(json, Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://fellows.example/activities/follow/1/undo","type":"Undo","actor":"https://fellows.example/users/bob","to":["https://mastodon.example/users/alice"],"object":{"id":"https://fellows.example/activities/follow/1","type":"Follow","actor":"https://fellows.example/users/bob","to":["https://mastodon.example/users/alice"],"object":"https://mastodon.example/users/alice"}}"""));
    }

    [Test]
    public void Delete_Move_Flag_Announce_Like_Block_Reject_have_expected_shape()
    {
        var delete = ActivityPubWriter.Delete("https://f.example/n/1#delete", "https://f.example/u/bob", "https://f.example/n/1", [ActivityStreams.Public]);
        var move = ActivityPubWriter.Move("https://f.example/u/bob#move", "https://f.example/u/bob", "https://new.example/u/bob", ["https://f.example/u/bob/followers"]);
        var flag = ActivityPubWriter.Flag("https://f.example/flag/1", "https://f.example/actor", "https://bad.example/u/x", ["https://bad.example/n/1"], "spam");
        var announce = ActivityPubWriter.Announce("https://f.example/n/9/activity", "https://f.example/u/bob", "https://m.example/n/1", [ActivityStreams.Public], ["https://m.example/u/a"], Noon);
        var like = ActivityPubWriter.Like("https://f.example/likes/1", "https://f.example/u/bob", "https://m.example/n/1", "https://m.example/u/a");
        var block = ActivityPubWriter.Block("https://f.example/blocks/1", "https://f.example/u/bob", "https://bad.example/u/x");
        var reject = ActivityPubWriter.Reject("https://f.example/rejects/1", "https://f.example/u/bob", "https://m.example/f/1", "https://m.example/u/a");

        Assert.That(ActivityPubWriter.Serialize(delete), Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://f.example/n/1#delete","type":"Delete","actor":"https://f.example/u/bob","to":["https://www.w3.org/ns/activitystreams#Public"],"object":{"id":"https://f.example/n/1","type":"Tombstone"}}"""));
        Assert.That(ActivityPubWriter.Serialize(move), Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://f.example/u/bob#move","type":"Move","actor":"https://f.example/u/bob","to":["https://f.example/u/bob/followers"],"object":"https://f.example/u/bob","target":"https://new.example/u/bob"}"""));
        Assert.That(ActivityPubWriter.Serialize(flag), Is.EqualTo(
            """{"@context":"https://www.w3.org/ns/activitystreams","id":"https://f.example/flag/1","type":"Flag","actor":"https://f.example/actor","object":["https://bad.example/u/x","https://bad.example/n/1"],"content":"spam"}"""));
        Assert.That(announce["published"]!.GetValue<string>(), Is.EqualTo("2024-05-01T12:00:00Z"));
        Assert.That(like["object"]!.GetValue<string>(), Is.EqualTo("https://m.example/n/1"));
        Assert.That(block["to"]![0]!.GetValue<string>(), Is.EqualTo("https://bad.example/u/x"));
        Assert.That(reject["object"]!["type"]!.GetValue<string>(), Is.EqualTo("Follow"));
    }

    [Test]
    public void Update_of_actor_uses_actor_context_and_embeds_actor_without_context()
    {
        var update = ActivityPubWriter.Update("https://fellows.example/users/bob#updates/1", SampleActor, [ActivityStreams.Public]);

        Assert.That(update["@context"]![1]!.GetValue<string>(), Is.EqualTo(ActivityPubWriter.SecurityContext));
        Assert.That(update["object"]!["@context"], Is.Null);
        Assert.That(update["object"]!["id"]!.GetValue<string>(), Is.EqualTo("https://fellows.example/users/bob"));
    }
}
