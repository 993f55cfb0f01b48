using System.Text;
using System.Text.Json;
using Fellows.Federation.Html;
using Fellows.Federation.Json;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

#pragma warning disable CA1861 // expected arrays inline read best in tests

namespace Fellows.Federation.Tests.Vocabulary;

/// <summary>Wrong shapes and hostile content must come out as "absent" or a refusal, never an exception.</summary>
public class HostileInputTests
{
    private static JsonDocument Parse(string json)
    {
        var result = JsonLimits.Parse(Encoding.UTF8.GetBytes(json));
        Assert.That(result.IsSuccess, Is.True, result.Error);
        return result.Document!;
    }

    [TestCase("{}", "actor has no http(s) id")]
    [TestCase("{\"id\": 5, \"type\": \"Person\", \"inbox\": \"https://a.example/inbox\"}", "actor has no http(s) id")]
    [TestCase("{\"id\": \"javascript:alert(1)\", \"type\": \"Person\", \"inbox\": \"https://a.example/inbox\"}", "actor has no http(s) id")]
    [TestCase("{\"id\": \"https://a.example/u\", \"type\": \"Note\", \"inbox\": \"https://a.example/inbox\"}", "not an actor type")]
    [TestCase("{\"id\": \"https://a.example/u\", \"type\": [\"Person\"], \"inbox\": {\"nope\": 1}}", "actor has no http(s) inbox")]
    [TestCase("{\"id\": \"https://a.example/u\", \"type\": 7, \"inbox\": \"https://a.example/inbox\"}", "not an actor type")]
    public void RemoteActor_TryRead_bad_document_fails_with_reason(string json, string reason)
    {
        using var document = Parse(json);

        var ok = RemoteActor.TryRead(document.RootElement, out var actor, out var error);

        Assert.That(ok, Is.False);
        Assert.That(actor, Is.Null);
        Assert.That(error, Is.EqualTo(reason));
    }

    [Test]
    public void RemoteActor_TryRead_wrong_shapes_everywhere_reads_as_absent()
    {
        using var document = Parse("""
            {
              "id": "https://a.example/u",
              "type": ["Person", "https://a.example/ns#Bot"],
              "inbox": ["https://a.example/inbox"],
              "outbox": 12,
              "preferredUsername": ["x"],
              "name": {"en": "x"},
              "summary": false,
              "url": "javascript:alert(1)",
              "icon": [42, {"url": {"href": "https://a.example/i.png", "type": "Link"}}],
              "image": {"url": "data:image/png;base64,AAAA"},
              "endpoints": "https://a.example/shared",
              "manuallyApprovesFollowers": "maybe",
              "discoverable": 1,
              "published": "yesterday",
              "alsoKnownAs": [null, 5, "https://b.example/u", {"id": "https://c.example/u"}],
              "movedTo": {"type": "Person"},
              "publicKey": [{"id": "https://a.example/u#k"}, "https://a.example/u#k2", {"id": "https://a.example/u#k3", "owner": {"id": "https://a.example/u"}, "publicKeyPem": "PEM"}],
              "assertionMethod": "https://a.example/u#m",
              "attachment": {"type": "PropertyValue", "name": "Only", "value": {"html": true}},
              "tag": [{"type": "Emoji", "name": ":x:"}, {"type": "Emoji", "name": ":y:", "icon": "https://a.example/y.png"}]
            }
            """);

        Assert.That(RemoteActor.TryRead(document.RootElement, out var actor, out var error), Is.True, error);

        Assert.That(actor!.Type, Is.EqualTo("Person"));
        Assert.That(actor.Inbox, Is.EqualTo("https://a.example/inbox"));
        Assert.That(actor.Outbox, Is.Null);
        Assert.That(actor.PreferredUsername, Is.Null);
        Assert.That(actor.Name, Is.Null);
        Assert.That(actor.Summary, Is.Null);
        Assert.That(actor.Url, Is.Null, "javascript: URL dropped");
        Assert.That(actor.IconUrl, Is.EqualTo("https://a.example/i.png"));
        Assert.That(actor.ImageUrl, Is.Null, "data: URL dropped");
        Assert.That(actor.SharedInbox, Is.Null);
        Assert.That(actor.ManuallyApprovesFollowers, Is.False);
        Assert.That(actor.Discoverable, Is.Null);
        Assert.That(actor.Published, Is.Null);
        Assert.That(actor.AlsoKnownAs, Is.EqualTo(new[] { "https://b.example/u", "https://c.example/u" }));
        Assert.That(actor.MovedTo, Is.Null);
        Assert.That(actor.PublicKeys.Single().Id, Is.EqualTo("https://a.example/u#k3"));
        Assert.That(actor.PublicKey!.Owner, Is.EqualTo("https://a.example/u"));
        Assert.That(actor.AssertionMethods, Is.Empty);
        Assert.That(actor.Fields, Is.Empty);
        Assert.That(actor.Emoji.Single().Name, Is.EqualTo(":y:"));
    }

    [Test]
    public void RemoteObject_TryRead_wrong_shapes_read_as_absent()
    {
        using var document = Parse("""
            {
              "id": "https://a.example/n/1",
              "type": "Note",
              "attributedTo": [{"type": "Group", "id": "https://a.example/g"}, 5],
              "content": ["not", "a", "string"],
              "contentMap": {"en": 5, "fr": "<p>bonjour</p>"},
              "sensitive": "yes",
              "inReplyTo": {"type": "Note"},
              "to": "https://www.w3.org/ns/activitystreams#Public",
              "cc": {"id": "https://a.example/followers"},
              "tag": [{"type": "Mention", "href": "javascript:alert(1)"}, {"type": "Hashtag"}, "junk", [1]],
              "attachment": [{"type": "Image", "url": "javascript:alert(1)"}, {"type": "Image", "url": [{"href": "https://a.example/m.png", "mediaType": "image/png"}], "width": -3, "height": 1e30}],
              "url": [{"type": "Link", "href": "ftp://a.example/x"}, "https://a.example/n/1.html"],
              "published": 12345,
              "oneOf": [{"name": "x"}]
            }
            """);

        Assert.That(RemoteObject.TryRead(document.RootElement, out var note, out var error), Is.True, error);

        Assert.That(note!.AttributedTo, Is.EqualTo("https://a.example/g"));
        Assert.That(note.Content, Is.EqualTo("<p>bonjour</p>"), "falls back to contentMap");
        Assert.That(note.Sensitive, Is.False);
        Assert.That(note.InReplyTo, Is.Null);
        Assert.That(note.To, Is.EqualTo(new[] { ActivityStreams.Public }));
        Assert.That(note.Cc, Is.EqualTo(new[] { "https://a.example/followers" }));
        Assert.That(note.Mentions, Is.Empty);
        Assert.That(note.Hashtags, Is.Empty);
        Assert.That(note.Attachments.Single().Url, Is.EqualTo("https://a.example/m.png"));
        Assert.That(note.Attachments.Single().Width, Is.Null);
        Assert.That(note.Attachments.Single().Height, Is.Null);
        Assert.That(note.Url, Is.EqualTo("https://a.example/n/1.html"));
        Assert.That(note.Published, Is.Null);
        Assert.That(note.Poll, Is.Null, "oneOf on a Note is not a poll");
    }

    [TestCase("{\"type\": \"Note\"}", "object has no http(s) id")]
    [TestCase("{\"id\": \"https://a.example/1\"}", "object has no type")]
    [TestCase("{\"id\": \"https://a.example/1\", \"type\": \"Person\"}", "Person is an actor, not an object")]
    public void RemoteObject_TryRead_bad_document_fails_with_reason(string json, string reason)
    {
        using var document = Parse(json);

        Assert.That(RemoteObject.TryRead(document.RootElement, out _, out var error), Is.False);
        Assert.That(error, Is.EqualTo(reason));
    }

    [TestCase("{\"type\": \"Follow\"}", "activity has no http(s) actor")]
    [TestCase("{\"actor\": \"https://a.example/u\"}", "activity has no type")]
    [TestCase("{\"type\": \"Like\", \"actor\": {\"type\": \"Person\"}}", "activity has no http(s) actor")]
    public void RemoteActivity_TryRead_bad_document_fails_with_reason(string json, string reason)
    {
        using var document = Parse(json);

        Assert.That(RemoteActivity.TryRead(document.RootElement, out _, out var error), Is.False);
        Assert.That(error, Is.EqualTo(reason));
    }

    [Test]
    public void RemoteActivity_TryRead_embedded_actor_object_is_accepted()
    {
        using var document = Parse("""{"id": "https://a.example/a/1", "type": "Like", "actor": {"id": "https://a.example/u", "type": "Person"}, "object": "https://b.example/n/1"}""");

        Assert.That(RemoteActivity.TryRead(document.RootElement, out var like, out _), Is.True);
        Assert.That(like!.Actor, Is.EqualTo("https://a.example/u"));
    }

    [Test]
    public void RemoteActivity_TryRead_deeply_nested_undo_stops_reading_inner_activities()
    {
        var json = "\"https://a.example/n/1\"";
        for (var i = 0; i < 20; i++)
        {
            json = $"{{\"id\": \"https://a.example/a/{i}\", \"type\": \"Undo\", \"actor\": \"https://a.example/u\", \"object\": {json}}}";
        }

        using var document = Parse(json);

        Assert.That(RemoteActivity.TryRead(document.RootElement, out var undo, out _), Is.True);
        var depth = 0;
        for (var inner = undo; inner is not null; inner = inner.InnerActivity)
        {
            depth++;
        }

        Assert.That(depth, Is.EqualTo(RemoteActivity.MaxEmbedding));
    }

    [Test]
    public void JsonLd_accessors_on_non_objects_return_absent()
    {
        using var document = Parse("""{"a": [1, 2], "b": "text", "c": null}""");
        var array = document.RootElement.GetProperty("a");
        var text = document.RootElement.GetProperty("b");

        Assert.That(array.GetString("x"), Is.Null);
        Assert.That(text.GetIds("x"), Is.Empty);
        Assert.That(text.GetTypes(), Is.Empty);
        Assert.That(document.RootElement.GetId("c"), Is.Null);
        Assert.That(document.RootElement.GetBoolean("b"), Is.Null);
        Assert.That(document.RootElement.GetInt64("b"), Is.Null);
        Assert.That(document.RootElement.GetImageUrl("a"), Is.Null);
        Assert.That(document.RootElement.GetLanguageMap("b"), Is.Empty);
    }

    [TestCase("<p>hi</p><script>alert(1)</script>", "<p>hi</p>")]
    [TestCase("<p onclick=\"alert(1)\">hi</p>", "<p>hi</p>")]
    [TestCase("<img src=x onerror=alert(1)>hi", "hi")]
    [TestCase("<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>")]
    [TestCase("<a href=\"JaVaScRiPt:alert(1)\">x</a>", "<a>x</a>")]
    [TestCase("<a href=\"java&#x09;script:alert(1)\">x</a>", "<a>x</a>")]
    [TestCase("<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", "<a>x</a>")]
    [TestCase("<a href=\"/relative\">x</a>", "<a>x</a>")]
    [TestCase("<iframe src=\"https://evil.example\"></iframe>ok", "ok")]
    [TestCase("<style>p{color:red}</style><p style=\"color:red\">x</p>", "<p>x</p>")]
    [TestCase("<svg><script>alert(1)</script></svg>ok", "ok")]
    [TestCase("<form action=\"https://evil.example\"><input name=a></form>ok", "ok")]
    [TestCase("<p class=\"mention evil-overlay\">x</p>", "<p class=\"mention\">x</p>")]
    [TestCase("<div><b>bold</b></div>", "<b>bold</b>")]
    [TestCase("<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>ok", "ok")]
    [TestCase("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>", "\"&gt;")]
    public void Sanitize_hostile_html_is_neutralised(string html, string expected)
    {
        Assert.That(RemoteHtml.Sanitize(html), Is.EqualTo(expected));
    }
}
