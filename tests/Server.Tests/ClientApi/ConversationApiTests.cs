// Expected values are written inline so each assertion reads as what it checks.
#pragma warning disable CA1861
using System.Net;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// Direct-message conversations (<c>/api/v1/conversations</c>): between two members of one instance, with the
/// <c>conversation</c> event on the direct stream, and with a member of another instance on loopback.
/// </summary>
public class ConversationApiTests
{
    FellowsInstance _a = null!;
    FellowsInstance _b = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Delivery:PollInterval"] = "00:00:00.300",
            ["Delivery:BackoffBase"] = "00:00:01",
            ["Delivery:BackoffCap"] = "00:00:02",
        };
        _a = await FellowsInstance.StartAsync("conversations-a", settings: settings);
        _b = await FellowsInstance.StartAsync("conversations-b", settings: settings);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    static async Task<JsonElement> DirectAsync(Member from, string text, string? inReplyTo = null) =>
        await from.PostJsonAsync("/api/v1/statuses", inReplyTo is null
            ? new { status = text, visibility = "direct" }
            : (object)new { status = text, visibility = "direct", in_reply_to_id = inReplyTo });

    static string[] Participants(JsonElement conversation) =>
        conversation.GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("acct").GetString()!).ToArray();

    static bool On(JsonElement m, string @event, string stream) =>
        m.TryGetProperty("event", out var e) && e.GetString() == @event && m.GetProperty("stream").EnumerateArray().Select(s => s.GetString()).SequenceEqual([stream]);

    [Test]
    public async Task Direct_messages_between_two_members_form_one_conversation_each()
    {
        var cat = await _a.CreateMemberAsync("cat");
        var dan = await _a.CreateMemberAsync("dan");
        var eli = await _a.CreateMemberAsync("eli");
        await using var danStream = await WebSocketStream.ConnectAsync(_a, dan.Token, "?stream=direct");
        await Api.EventuallyAsync(async () => await Task.FromResult(_a.Services.GetService(typeof(Features.Streaming.StreamingHub)) is Features.Streaming.StreamingHub hub
            && hub.Connections.Any(c => c.Viewer == dan.AccountId && c.Subscriptions().Any(s => s.Name == "direct"))), "dan's direct stream");

        var first = await DirectAsync(cat, "@dan are you coming to the meeting?");
        var firstId = first.GetProperty("id").GetString()!;

        var danSees = (await dan.GetJsonAsync("/api/v1/conversations")).EnumerateArray().ToList();
        Assert.That(danSees, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(danSees[0].GetProperty("unread").GetBoolean(), Is.True);
            Assert.That(Participants(danSees[0]), Is.EqualTo(new[] { "cat" }));
            Assert.That(danSees[0].GetProperty("last_status").GetProperty("id").GetString(), Is.EqualTo(firstId));
            Assert.That(danSees[0].GetProperty("id").GetString(), Is.Not.Empty);
        });
        var catSees = (await cat.GetJsonAsync("/api/v1/conversations")).EnumerateArray().Single();
        Assert.That(catSees.GetProperty("unread").GetBoolean(), Is.False, "the sender has read their own message");
        Assert.That(Participants(catSees), Is.EqualTo(new[] { "dan" }));
        Assert.That((await eli.GetJsonAsync("/api/v1/conversations")).GetArrayLength(), Is.Zero, "someone not addressed sees nothing");

        var streamed = await danStream.NextAsync(m => On(m, "conversation", "direct"), "the conversation event on dan's direct stream");
        var payload = JsonDocument.Parse(streamed.GetProperty("payload").GetString()!).RootElement;
        Assert.That(payload.GetProperty("id").GetString(), Is.EqualTo(danSees[0].GetProperty("id").GetString()));
        Assert.That(payload.GetProperty("last_status").GetProperty("id").GetString(), Is.EqualTo(firstId));

        // Marked read, then a reply in the thread updates the same conversation on both sides.
        var read = await dan.PostJsonAsync($"/api/v1/conversations/{danSees[0].GetProperty("id").GetString()}/read");
        Assert.That(read.GetProperty("unread").GetBoolean(), Is.False);
        var reply = await DirectAsync(dan, "@cat yes, see you there", firstId);
        var catNow = (await cat.GetJsonAsync("/api/v1/conversations")).EnumerateArray().ToList();
        Assert.That(catNow, Has.Count.EqualTo(1), "one thread with the same people is one conversation");
        Assert.Multiple(() =>
        {
            Assert.That(catNow[0].GetProperty("id").GetString(), Is.EqualTo(catSees.GetProperty("id").GetString()));
            Assert.That(catNow[0].GetProperty("unread").GetBoolean(), Is.True);
            Assert.That(catNow[0].GetProperty("last_status").GetProperty("id").GetString(), Is.EqualTo(reply.GetProperty("id").GetString()));
        });
        Assert.That((await dan.GetJsonAsync("/api/v1/conversations"))[0].GetProperty("unread").GetBoolean(), Is.False);

        // Another member cannot read or remove dan's conversation; dan can remove it from his list.
        var danConversation = danSees[0].GetProperty("id").GetString()!;
        Assert.That((await eli.Api.PostAsync(new Uri($"/api/v1/conversations/{danConversation}/read", UriKind.Relative), null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await eli.Api.DeleteAsync(new Uri($"/api/v1/conversations/{danConversation}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await dan.Api.DeleteAsync(new Uri($"/api/v1/conversations/{danConversation}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await dan.GetJsonAsync("/api/v1/conversations")).GetArrayLength(), Is.Zero);
        Assert.That((await cat.GetJsonAsync("/api/v1/conversations")).GetArrayLength(), Is.EqualTo(1), "cat's copy stays");
        // The messages themselves stay.
        Assert.That((await dan.Api.GetAsync(new Uri($"/api/v1/statuses/{firstId}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        // A public post that mentions someone is not a conversation.
        await cat.PostJsonAsync("/api/v1/statuses", new { status = "@dan public hello" });
        Assert.That((await dan.GetJsonAsync("/api/v1/conversations")).GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task Conversations_page_by_latest_message_with_link_header()
    {
        var fin = await _a.CreateMemberAsync("fin");
        var ids = new List<string>();
        foreach (var name in new[] { "gus", "hal", "ivo" })
        {
            await _a.CreateMemberAsync(name);
            ids.Add((await DirectAsync(fin, $"@{name} hello")).GetProperty("id").GetString()!);
        }
        var page = await fin.Api.GetAsync(new Uri("/api/v1/conversations?limit=2", UriKind.Relative));
        var first = await Api.JsonAsync(page);
        Assert.That(first.EnumerateArray().Select(c => c.GetProperty("last_status").GetProperty("id").GetString()), Is.EqualTo(new[] { ids[2], ids[1] }));
        Assert.That(page.Headers.GetValues("Link").Single(), Does.Contain($"max_id={ids[1]}"));
        var next = await fin.GetJsonAsync($"/api/v1/conversations?limit=2&max_id={ids[1]}");
        Assert.That(next.EnumerateArray().Select(c => Participants(c).Single()), Is.EqualTo(new[] { "gus" }));
    }

    [Test]
    public async Task Direct_message_from_another_instance_makes_a_conversation()
    {
        var jay = await _a.CreateMemberAsync("jay");
        var kim = await _b.CreateMemberAsync("kim");
        // kim resolves jay on her server, then writes to him.
        await kim.GetJsonAsync($"/api/v1/accounts/lookup?acct={jay.Handle}");
        var sent = await DirectAsync(kim, $"@{jay.Handle} a private word across co-ops");
        var jayConversation = (JsonElement)await Api.EventuallyAsync(async () =>
            (await jay.GetJsonAsync("/api/v1/conversations")).EnumerateArray().Cast<object>().FirstOrDefault(), "the direct message to arrive on A", seconds: 40);
        Assert.Multiple(() =>
        {
            Assert.That(Participants(jayConversation), Is.EqualTo(new[] { kim.Handle }));
            Assert.That(jayConversation.GetProperty("unread").GetBoolean(), Is.True);
            Assert.That(jayConversation.GetProperty("last_status").GetProperty("uri").GetString(), Is.EqualTo(sent.GetProperty("uri").GetString()));
            Assert.That(jayConversation.GetProperty("last_status").GetProperty("visibility").GetString(), Is.EqualTo("direct"));
        });
        var kimConversation = (await kim.GetJsonAsync("/api/v1/conversations")).EnumerateArray().Single();
        Assert.That(Participants(kimConversation), Is.EqualTo(new[] { jay.Handle }));

        // jay answers in the thread: kim's conversation on B gets it, unread.
        var lastOnA = jayConversation.GetProperty("last_status").GetProperty("id").GetString()!;
        var answer = await DirectAsync(jay, $"@{kim.Handle} received, thanks", lastOnA);
        try
        {
            await Api.EventuallyAsync(async () =>
            {
                var c = (await kim.GetJsonAsync("/api/v1/conversations")).EnumerateArray().ToList();
                return c.Count == 1 && c[0].GetProperty("unread").GetBoolean()
                    && c[0].GetProperty("last_status").GetProperty("uri").GetString() == answer.GetProperty("uri").GetString();
            }, "jay's answer to update kim's conversation on B", seconds: 40);
        }
        catch (AssertionException e)
        {
            throw new AssertionException($"{e.Message}; kim's conversations: {await kim.GetJsonAsync("/api/v1/conversations")}{Environment.NewLine}"
                + await FederationTrace.DescribeAsync(_a, _b));
        }
    }
}

/// <summary>
/// Replies from servers that write <c>published</c> in whole seconds (Fellows and Mastodon both do): on clocks
/// stopped mid-second, a reply sent within the same second as its parent still sorts after it.
/// </summary>
public class SameSecondReplyTests
{
    [Test]
    public async Task A_remote_reply_in_the_same_second_as_its_parent_is_the_conversations_latest_post_and_sorts_after_it()
    {
        await using var run = await ClockedInstances.StartAsync("same-second-a", "same-second-b");
        var (a, b) = (run[0], run[1]);
        var jay = await a.CreateMemberAsync("jay");
        var kim = await b.CreateMemberAsync("kim");
        await kim.GetJsonAsync($"/api/v1/accounts/lookup?acct={jay.Handle}");
        run.Advance(TimeSpan.FromMilliseconds(400));
        var sent = await kim.PostJsonAsync("/api/v1/statuses", new { status = $"@{jay.Handle} the keys are under the mat", visibility = "direct" });
        var onA = (JsonElement)await Api.EventuallyAsync(async () =>
            (await jay.GetJsonAsync("/api/v1/conversations")).EnumerateArray().Cast<object>().FirstOrDefault(), "kim's message on A", seconds: 40);

        // Still the same second on both clocks: the reply's `published` reads as an instant before kim's post.
        run.Advance(TimeSpan.FromMilliseconds(300));
        var answer = await jay.PostJsonAsync("/api/v1/statuses", new
        {
            status = $"@{kim.Handle} found them", visibility = "direct", in_reply_to_id = onA.GetProperty("last_status").GetProperty("id").GetString(),
        });
        var conversation = (JsonElement)await Api.EventuallyAsync(async () =>
            (await kim.GetJsonAsync("/api/v1/conversations")).EnumerateArray().Cast<object>()
                .FirstOrDefault(c => ((JsonElement)c).GetProperty("unread").GetBoolean()), "the reply to make kim's conversation unread", seconds: 40);
        var reply = conversation.GetProperty("last_status");
        Assert.Multiple(() =>
        {
            Assert.That(reply.GetProperty("uri").GetString(), Is.EqualTo(answer.GetProperty("uri").GetString()));
            Assert.That(long.Parse(reply.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                Is.GreaterThan(long.Parse(sent.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture)), "the reply's id sorts after its parent's");
            Assert.That(reply.GetProperty("in_reply_to_id").GetString(), Is.EqualTo(sent.GetProperty("id").GetString()));
        });
    }
}
