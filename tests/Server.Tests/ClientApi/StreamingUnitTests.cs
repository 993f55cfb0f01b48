using Fellows.Server.Common;
using Fellows.Server.Features.Streaming;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>The pieces of the streaming API that need no server: event parsing, stream resolution, the send queue.</summary>
public class StreamingUnitTests
{
    [Test]
    public void Parse_accepts_the_contract_and_ignores_anything_else()
    {
        var update = StreamEvent.Parse("""{"event":"update","status_id":123,"account_id":4,"visibility":0,"local":true,"reblog_of_id":null}""");
        Assert.That(update, Is.EqualTo(new StreamEvent { Event = "update", StatusId = 123, AccountId = 4, Visibility = 0, Local = true }));
        Assert.That(StreamEvent.Parse("""{"event":"notification","account_id":4,"notification_id":9}""")?.NotificationId, Is.EqualTo(9));
        Assert.Multiple(() =>
        {
            Assert.That(StreamEvent.Parse("""{"event":"notification","account_id":4}"""), Is.Null, "notification without its id");
            Assert.That(StreamEvent.Parse("""{"event":"delete"}"""), Is.Null, "delete without a status");
            Assert.That(StreamEvent.Parse("""{"event":"announcement","account_id":4}"""), Is.Null, "unknown event");
            Assert.That(StreamEvent.Parse("not json"), Is.Null);
            Assert.That(StreamEvent.Parse("""{"event":"update","status_id":"x"}"""), Is.Null, "wrong type");
        });
    }

    [Test]
    public void Resolve_checks_names_parameters_and_scopes()
    {
        string[] read = ["read"];
        Assert.Multiple(() =>
        {
            Assert.That(StreamSubscription.Resolve("hashtag", "#Coop", null, read).Value, Is.EqualTo(new StreamSubscription("hashtag", "coop")));
            Assert.That(string.Join('|', StreamSubscription.Resolve("hashtag", "Coop", null, read).Value.StreamArray), Is.EqualTo("hashtag|Coop"));
            Assert.That(StreamSubscription.Resolve("public:remote:media", null, null, ["read:statuses"]).IsOk, Is.True);
            Assert.That(StreamSubscription.Resolve("hashtag", null, null, read).Error!.Kind, Is.EqualTo(ErrorKind.Validation));
            Assert.That(StreamSubscription.Resolve("hashtag", "a b", null, read).Error!.Kind, Is.EqualTo(ErrorKind.Validation));
            // A list id is read here; whether the member owns it is the database's question (OwnedAsync).
            Assert.That(StreamSubscription.Resolve("list", null, " 3", read).Value.ListId, Is.EqualTo(3));
            Assert.That(StreamSubscription.Resolve("list", null, "three", read).Error!.Kind, Is.EqualTo(ErrorKind.NotFound));
            Assert.That(StreamSubscription.Resolve("list", null, "-3", read).Error!.Kind, Is.EqualTo(ErrorKind.NotFound));
            Assert.That(StreamSubscription.Resolve("list", null, null, read).Error!.Kind, Is.EqualTo(ErrorKind.Validation));
            Assert.That(StreamSubscription.Resolve("list", null, "3", ["read:notifications"]).Error!.Kind, Is.EqualTo(ErrorKind.Unauthorized));
            Assert.That(StreamSubscription.Resolve("everything", null, null, read).Error!.Message, Is.EqualTo("Unknown stream type"));
            Assert.That(StreamSubscription.Resolve("user", null, null, ["read:notifications"]).Error!.Kind, Is.EqualTo(ErrorKind.Unauthorized));
            Assert.That(StreamSubscription.Resolve("user:notification", null, null, ["read:notifications"]).IsOk, Is.True);
            Assert.That(StreamSubscription.Resolve("user:notification", null, null, ["read:statuses"]).Error!.Kind, Is.EqualTo(ErrorKind.Unauthorized));
            Assert.That(StreamSubscription.Resolve("public", null, null, ["write"]).Error!.Kind, Is.EqualTo(ErrorKind.Unauthorized));
        });
    }

    [Test]
    public void Connection_that_falls_too_far_behind_is_cut_off()
    {
        using var connection = new StreamConnection(1, ["read"]);
        for (var i = 0; i < StreamConnection.QueueLimit; i++)
            connection.Enqueue(new StreamMessage(["public"], "delete", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(connection.Overflowed.IsCancellationRequested, Is.False);
        connection.Enqueue(new StreamMessage(["public"], "delete", "one too many"));
        Assert.That(connection.Overflowed.IsCancellationRequested, Is.True);
    }

    [Test]
    public void Subscriptions_are_a_set_with_a_limit()
    {
        using var connection = new StreamConnection(1, ["read"]);
        Assert.That(connection.Subscribe(new StreamSubscription("hashtag", "Coop")), Is.True);
        Assert.That(connection.Subscribe(new StreamSubscription("hashtag", "coop")), Is.False, "tags compare without case");
        connection.Unsubscribe(new StreamSubscription("hashtag", "COOP"));
        Assert.That(connection.Subscriptions(), Is.Empty);
        for (var i = 0; i < StreamConnection.SubscriptionLimit; i++)
            Assert.That(connection.Subscribe(new StreamSubscription("hashtag", $"t{i}")), Is.True);
        Assert.That(connection.Subscribe(new StreamSubscription("public", null)), Is.False);
    }
}
