using System.Text.Json;
using NUnit.Framework;

// Expected values read best inline in assertions; each runs once.
#pragma warning disable CA1861

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// masto.js and megalodon, as published on npm, used against one Fellows instance: what they decode must have the
/// shape and the values a Mastodon server would give them. The scenarios live in tests/interop/clients.
/// </summary>
[TestFixture]
public class ClientLibraryTests
{
    FellowsInstance _instance = null!;
    int _next;

    [OneTimeSetUp]
    public async Task StartAsync() => _instance = await FellowsInstance.StartAsync("clients", settings: new Dictionary<string, string?>
    {
        ["Instance:Name"] = "Riverside Co-op",
        ["Instance:ContactEmail"] = "council@riverside.test",
        ["Instance:Rules:0"] = "Decide together",
        ["Instance:Rules:1"] = "Be kind",
    });

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    /// <summary>A fresh alice and bob for each test (usernames differ per test, keys stay alice and bob).</summary>
    async Task<Dictionary<string, Member>> PairAsync()
    {
        var n = Interlocked.Increment(ref _next);
        return new Dictionary<string, Member>
        {
            ["alice"] = await _instance.CreateMemberAsync($"alice{n}"),
            ["bob"] = await _instance.CreateMemberAsync($"bob{n}"),
        };
    }

    static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    static string[][] Pages(JsonElement pages) => pages.EnumerateArray().Select(Strings).ToArray();

    [Test]
    public async Task Masto_reads_instance_documents_with_every_field()
    {
        var members = await PairAsync();
        var r = await ClientLibraries.RunAsync("masto", "instance", _instance, members);

        var v1 = r.GetProperty("v1");
        Assert.That(v1.GetProperty("uri").GetString(), Is.EqualTo(_instance.Domain));
        Assert.That(v1.GetProperty("title").GetString(), Is.EqualTo("Riverside Co-op"));
        Assert.That(v1.GetProperty("version").GetString(), Does.Match(@"^4\.2\.0 \(compatible; Fellows \d+\.\d+\.\d+\)$"));
        Assert.That(v1.GetProperty("streaming").GetString(), Is.EqualTo($"ws://{_instance.Domain}"));
        Assert.That(v1.GetProperty("userCount").GetInt32(), Is.GreaterThanOrEqualTo(2));
        var v2 = r.GetProperty("v2");
        Assert.That(v2.GetProperty("domain").GetString(), Is.EqualTo(_instance.Domain));
        Assert.That(v2.GetProperty("version").GetString(), Is.EqualTo(v1.GetProperty("version").GetString()));
        Assert.That(v2.GetProperty("maxCharacters").GetInt32(), Is.EqualTo(5000));
        Assert.That(v2.GetProperty("registrations").GetBoolean(), Is.True, "the default is sign-up with approval");
        Assert.That(v2.GetProperty("apiVersions").GetProperty("mastodon").GetInt32(), Is.EqualTo(1), "no more than 4.2 is claimed");
        Assert.That(Strings(v2.GetProperty("rules")), Is.EqualTo(new[] { "Decide together", "Be kind" }));
        Assert.That(Strings(r.GetProperty("rules")), Is.EqualTo(new[] { "Decide together", "Be kind" }));
        Assert.That(r.GetProperty("activityWeeks").GetInt32(), Is.EqualTo(12));
        Assert.That(r.GetProperty("activityFirst").GetProperty("week").GetString(), Does.Match(@"^\d+$"));
        Assert.That(r.GetProperty("emojis").GetArrayLength(), Is.Zero);
        Assert.That(r.GetProperty("trends").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 0, 0, 0 }));
        Assert.That(r.GetProperty("extendedDescription").GetString(), Does.StartWith("<p>"));

        // The thumbnail the documents point at is served.
        using var thumbnail = await _instance.Client.GetAsync(new Uri(v2.GetProperty("thumbnail").GetString()!));
        Assert.That(thumbnail.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/png"));
    }

    [Test]
    public async Task Masto_finds_people_edits_a_poll_and_retries_a_scheduled_post_as_the_audited_clients_do()
    {
        var members = await PairAsync();
        var r = await ClientLibraries.RunAsync("masto", "discovery", _instance, members);
        var alice = members["alice"].AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bob = members["bob"].AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.That(Strings(r.GetProperty("suggested")), Does.Contain(bob).And.Not.Contain(alice), "a fellow member, never oneself");
        Assert.That(Strings(r.GetProperty("bobSources")), Is.EqualTo(new[] { "featured" }));
        Assert.That(r.GetProperty("bobSource").GetString(), Is.EqualTo("staff"));
        Assert.That(Strings(r.GetProperty("afterDismissal")), Does.Not.Contain(bob), "dismissed");
        Assert.That(Strings(r.GetProperty("directory")), Does.Contain(bob).And.Contain(alice));
        Assert.That(Strings(r.GetProperty("byIds")), Is.EqualTo(new[] { bob, alice }));
        Assert.That(Strings(r.GetProperty("statusesByIds")), Is.EqualTo(new[] { r.GetProperty("bobPost").GetString() }));
        Assert.That(r.GetProperty("translationLanguages").EnumerateObject().Count(), Is.Zero);
        var keyword = r.GetProperty("keyword");
        Assert.That(keyword.GetProperty("keyword").GetString(), Is.EqualTo("season finale"));
        Assert.That(keyword.GetProperty("wholeWord").GetBoolean(), Is.False);
        Assert.That(keyword.GetProperty("again").GetString(), Is.EqualTo("season finale"));
        var scheduled = Strings(r.GetProperty("scheduled"));
        Assert.That(scheduled[1], Is.EqualTo(scheduled[0]), "the retry with the same Idempotency-Key gets the same ScheduledStatus");
        Assert.That(r.GetProperty("scheduledCount").GetInt32(), Is.EqualTo(1));
        Assert.That(r.GetProperty("pollVotes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 0, 1, 0 }),
            "bob's vote survives the same options and goes with new ones");
        Assert.That(Strings(r.GetProperty("pollOptions")), Is.EqualTo(new[] { "Tue", "Thu", "Fri" }));
        Assert.That(r.GetProperty("historyPolls").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 2, 2, 3 }));
    }

    [Test]
    public async Task Megalodon_reads_suggestions_and_the_directory_edits_a_poll_and_keeps_v1_filters()
    {
        var members = await PairAsync();
        var r = await ClientLibraries.RunAsync("megalodon", "discovery", _instance, members);
        var alice = members["alice"].AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bob = members["bob"].AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(Strings(r.GetProperty("suggested")), Does.Contain(bob).And.Not.Contain(alice));
        Assert.That(Strings(r.GetProperty("directory")).Take(2), Is.EqualTo(new[] { bob, alice }), "order=new: the latest to join first");
        Assert.That(r.GetProperty("votes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 1, 0 }));
        Assert.That(Strings(r.GetProperty("options")), Is.EqualTo(new[] { "Mon", "Tue", "Thu" }));
        Assert.That(r.GetProperty("bobVoted").GetBoolean(), Is.False, "bob may vote again on the new options");
        var filter = r.GetProperty("filter");
        Assert.That(filter.GetProperty("created").GetString(), Is.EqualTo("finale"));
        Assert.That(filter.GetProperty("updated").GetString(), Is.EqualTo("season finale"));
        Assert.That(Strings(filter.GetProperty("context")), Is.EqualTo(new[] { "home" }));
        Assert.That(filter.GetProperty("irreversible").GetBoolean(), Is.True);
        Assert.That(filter.GetProperty("remaining").GetInt32(), Is.Zero);
    }

    [Test]
    public async Task Megalodon_detects_a_mastodon_compatible_server_and_reads_it()
    {
        var members = await PairAsync();
        var r = await ClientLibraries.RunAsync("megalodon", "instance", _instance, members);
        Assert.That(r.GetProperty("sns").GetString(), Is.EqualTo("mastodon"));
        Assert.That(r.GetProperty("uri").GetString(), Is.EqualTo(_instance.Domain));
        Assert.That(r.GetProperty("streaming").GetString(), Is.EqualTo($"ws://{_instance.Domain}"));
        Assert.That(r.GetProperty("activityWeeks").GetInt32(), Is.EqualTo(12));
        Assert.That(r.GetProperty("peers").ValueKind, Is.EqualTo(JsonValueKind.Array));
        Assert.That(r.GetProperty("emojis").GetArrayLength(), Is.Zero);
        Assert.That(r.GetProperty("trends").GetArrayLength(), Is.Zero);
        Assert.That(r.GetProperty("preferences").GetProperty("posting:default:visibility").GetString(), Is.EqualTo("public"));
        Assert.That(r.GetProperty("preferences").GetProperty("reading:expand:spoilers").GetBoolean(), Is.False);
    }

    /// <summary>
    /// The issue's whole masto.js session: OAuth page with PKCE, media and a poll, timelines, a follow across two
    /// Fellows servers, a streamed post, a vote counted on the poll's server, and a streamed notification.
    /// </summary>
    [Test]
    public async Task Masto_session_signs_in_with_pkce_posts_follows_across_servers_streams_and_votes()
    {
        await using var away = await FellowsInstance.StartAsync("clientsaway");
        var n = Interlocked.Increment(ref _next);
        var carla = await _instance.CreateMemberAsync($"carla{n}");
        var dev = await away.CreateMemberAsync($"dev{n}");
        using var bitmap = new SkiaSharp.SKBitmap(40, 30);
        using (var canvas = new SkiaSharp.SKCanvas(bitmap)) canvas.Clear(SkiaSharp.SKColors.SeaGreen);
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        var png = Convert.ToBase64String(image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray());

        var r = await ClientLibraries.RunAsync("masto", "session", _instance, new Dictionary<string, Member> { ["remote"] = dev }, new
        {
            login = carla.Username, password = "correct horse battery", remoteBaseUrl = away.BaseUrl, remoteAcct = dev.Handle, imagePng = png,
        });

        var withMedia = r.GetProperty("withMedia");
        var withPoll = r.GetProperty("withPoll");
        Assert.Multiple(() =>
        {
            Assert.That(r.GetProperty("tokenScope").GetString(), Is.EqualTo("read write follow push"));
            Assert.That(r.GetProperty("acct").GetString(), Is.EqualTo(carla.Username));
            Assert.That(r.GetProperty("media").GetProperty("type").GetString(), Is.EqualTo("image"));
            Assert.That(r.GetProperty("media").GetProperty("url").GetString(), Does.StartWith(_instance.BaseUrl));
            Assert.That(r.GetProperty("media").GetProperty("description").GetString(), Is.EqualTo("The rota"));
            Assert.That(Strings(withMedia.GetProperty("attachments")), Is.EqualTo(new[] { r.GetProperty("media").GetProperty("id").GetString() }));
            Assert.That(Strings(withPoll.GetProperty("options")), Is.EqualTo(new[] { "Tuesday", "Thursday" }));
            Assert.That(Strings(r.GetProperty("home")), Does.Contain(withMedia.GetProperty("id").GetString()).And.Contain(withPoll.GetProperty("id").GetString()));
            Assert.That(Strings(r.GetProperty("local")), Does.Contain(withMedia.GetProperty("id").GetString()).And.Contain(withPoll.GetProperty("id").GetString()));
            Assert.That(r.GetProperty("arrived").GetProperty("content").GetString(), Does.Contain("share the van"));
            Assert.That(Strings(r.GetProperty("arrived").GetProperty("stream")), Is.EqualTo(new[] { "user" }));
            Assert.That(Strings(r.GetProperty("arrived").GetProperty("pollOptions")), Is.EqualTo(new[] { "Yes", "No" }));
            Assert.That(r.GetProperty("voted").GetProperty("voted").GetBoolean(), Is.True);
            Assert.That(r.GetProperty("voted").GetProperty("ownVotes").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 0 }));
            Assert.That(r.GetProperty("notification").GetProperty("type").GetString(), Is.EqualTo("follow"));
            Assert.That(r.GetProperty("notification").GetProperty("account").GetString(), Is.EqualTo(dev.Handle));
            Assert.That(r.GetProperty("remoteCounts").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { 1, 0 }), "counted on the poll's own server");
        });
    }

    [Test]
    public async Task Masto_conversation_between_two_members()
    {
        var members = await PairAsync();
        string alice = members["alice"].AccountId.ToString(), bob = members["bob"].AccountId.ToString();
        var r = await ClientLibraries.RunAsync("masto", "conversation", _instance, members);

        Assert.That(r.GetProperty("me").GetProperty("acct").GetString(), Is.EqualTo(members["alice"].Username));
        Assert.That(r.GetProperty("me").GetProperty("displayName").GetString(), Is.Not.Null);
        Assert.That(r.GetProperty("me").GetProperty("avatar").GetString(), Does.StartWith(_instance.BaseUrl + "/"));
        Assert.That(r.GetProperty("followed").GetProperty("following").GetBoolean(), Is.True);
        Assert.That(r.GetProperty("relationship").GetProperty("following").GetBoolean(), Is.True);

        var post = r.GetProperty("post");
        Assert.That(post.GetProperty("spoilerText").GetString(), Is.EqualTo("meeting"));
        Assert.That(post.GetProperty("sensitive").GetBoolean(), Is.True, "a content warning makes a post sensitive");
        Assert.That(post.GetProperty("visibility").GetString(), Is.EqualTo("public"));
        Assert.That(post.GetProperty("language").GetString(), Is.EqualTo("en"));
        Assert.That(Strings(post.GetProperty("mentions")), Is.EqualTo(new[] { members["bob"].Username }));
        Assert.That(post.GetProperty("editedAt").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var postId = post.GetProperty("id").GetString();
        Assert.That(r.GetProperty("seen").GetProperty("spoilerText").GetString(), Is.EqualTo("meeting"));

        var reply = r.GetProperty("reply");
        Assert.That(reply.GetProperty("inReplyToId").GetString(), Is.EqualTo(postId));
        Assert.That(reply.GetProperty("inReplyToAccountId").GetString(), Is.EqualTo(alice));
        Assert.That(reply.GetProperty("visibility").GetString(), Is.EqualTo("unlisted"));
        var replyId = reply.GetProperty("id").GetString();
        Assert.That(Strings(r.GetProperty("context").GetProperty("descendants")), Is.EqualTo(new[] { replyId }));
        Assert.That(Strings(r.GetProperty("replyContext").GetProperty("ancestors")), Is.EqualTo(new[] { postId }));

        Assert.That(r.GetProperty("favourited").GetBoolean(), Is.True);
        Assert.That(r.GetProperty("boost").GetProperty("reblogOf").GetString(), Is.EqualTo(postId));
        Assert.That(r.GetProperty("boost").GetProperty("reblogged").GetBoolean(), Is.True);
        Assert.That(Strings(r.GetProperty("accountStatuses")), Does.Contain(postId));

        // Bob followed, was mentioned back, favourited and boosted: alice heard of each, newest first.
        var notifications = r.GetProperty("notifications").EnumerateArray()
            .Select(n => (Type: n.GetProperty("type").GetString(), Account: n.GetProperty("account").GetString(), Status: n.GetProperty("status").GetString()))
            .ToList();
        Assert.That(notifications.Select(n => n.Type), Is.EqualTo(new[] { "reblog", "favourite", "mention", "follow" }));
        Assert.That(notifications.Select(n => n.Account), Is.All.EqualTo(bob));
        Assert.That(notifications.Single(n => n.Type == "mention").Status, Is.EqualTo(replyId));
        Assert.That(notifications.Single(n => n.Type == "favourite").Status, Is.EqualTo(postId));
        Assert.That(notifications.Single(n => n.Type == "follow").Status, Is.Null);
        Assert.That(Strings(r.GetProperty("mentions")), Is.EqualTo(new[] { "mention" }));
        Assert.That(Strings(r.GetProperty("withoutFollows")), Is.EqualTo(new[] { "reblog", "favourite", "mention" }));
        Assert.That(Strings(r.GetProperty("fromBob")), Has.Length.EqualTo(4).And.All.EqualTo(bob));
        Assert.That(r.GetProperty("afterDismiss").GetInt32(), Is.EqualTo(404));

        Assert.That(r.GetProperty("unboosted").GetBoolean(), Is.False);
        Assert.That(r.GetProperty("unfavourited").GetBoolean(), Is.False);
        Assert.That(r.GetProperty("afterUndo").GetArrayLength(), Is.Zero, "taking back a favourite or boost takes back its notification");
        Assert.That(r.GetProperty("deleted").GetProperty("text").GetString(), Is.EqualTo("followers only"));
        Assert.That(r.GetProperty("deletedFetch").GetInt32(), Is.EqualTo(404));
        Assert.That(r.GetProperty("afterClear").GetInt32(), Is.Zero);
    }

    [Test]
    public async Task Megalodon_conversation_between_two_members()
    {
        var members = await PairAsync();
        string alice = members["alice"].AccountId.ToString(), bob = members["bob"].AccountId.ToString();
        var r = await ClientLibraries.RunAsync("megalodon", "conversation", _instance, members);

        Assert.That(r.GetProperty("me").GetString(), Is.EqualTo(alice));
        Assert.That(r.GetProperty("found").GetString(), Is.EqualTo(alice));
        Assert.That(r.GetProperty("followed").GetBoolean(), Is.True);
        var post = r.GetProperty("post");
        var postId = post.GetProperty("id").GetString();
        Assert.That(post.GetProperty("spoiler").GetString(), Is.EqualTo("long"));
        Assert.That(post.GetProperty("visibility").GetString(), Is.EqualTo("unlisted"));
        Assert.That(r.GetProperty("reply").GetProperty("inReplyToId").GetString(), Is.EqualTo(postId));
        Assert.That(Strings(r.GetProperty("descendants")), Has.Length.EqualTo(1));
        Assert.That(r.GetProperty("favourited").GetBoolean(), Is.True);
        Assert.That(r.GetProperty("boostOf").GetString(), Is.EqualTo(postId));
        Assert.That(Strings(r.GetProperty("notifications")), Is.EqualTo(new[] { "reblog", "favourite", "mention", "follow" }));
        Assert.That(Strings(r.GetProperty("noMentions")), Is.EqualTo(new[] { "reblog", "favourite", "follow" }));
        Assert.That(Strings(r.GetProperty("fromBob")), Has.Length.EqualTo(4).And.All.EqualTo(bob));
        Assert.That(Strings(r.GetProperty("afterDismiss")), Has.Length.EqualTo(3).And.No.EqualTo(r.GetProperty("dismissed").GetString()));
        // megalodon rebuilds the deleted status without its source text; masto's test checks the text.
        Assert.That(r.GetProperty("deleted").GetString(), Is.EqualTo(postId));
        Assert.That(r.GetProperty("afterClear").GetInt32(), Is.Zero);
    }

    async Task<(Dictionary<string, Member> Members, string[] Posts)> FollowedAuthorWithPostsAsync(int count)
    {
        var members = await PairAsync();
        await members["bob"].PostJsonAsync($"/api/v1/accounts/{members["alice"].AccountId}/follow");
        var posts = new List<string>();
        for (var i = 0; i < count; i++)
            posts.Add((await members["alice"].PostJsonAsync("/api/v1/statuses", new { status = $"note {i}" })).GetProperty("id").GetString()!);
        posts.Reverse();
        return (members, posts.ToArray());
    }

    [Test]
    public async Task Masto_pages_timelines_by_following_link_headers()
    {
        var (members, posts) = await FollowedAuthorWithPostsAsync(7);
        var r = await ClientLibraries.RunAsync("masto", "paging", _instance, members, new { pageSize = 3 });

        var home = Pages(r.GetProperty("home"));
        Assert.That(home.Select(p => p.Length), Is.EqualTo(new[] { 3, 3, 1 }));
        Assert.That(home.SelectMany(p => p), Is.EqualTo(posts));
        var account = Pages(r.GetProperty("account"));
        Assert.That(account.SelectMany(p => p), Is.EqualTo(posts));
        // The local timeline holds other tests' posts too: alice's appear in order, each once.
        var local = Pages(r.GetProperty("publicLocal")).SelectMany(p => p).ToList();
        Assert.That(local, Is.Unique);
        Assert.That(local.Where(posts.Contains), Is.EqualTo(posts));
        Assert.That(local, Is.Ordered.Descending.Using<string>((a, b) => long.Parse(a).CompareTo(long.Parse(b))));
        // From the oldest towards the present with rel="prev": everything newer than the oldest post.
        var newer = Pages(r.GetProperty("newer")).SelectMany(p => p).ToList();
        Assert.That(newer, Is.EquivalentTo(posts.SkipLast(1)));
    }

    [Test]
    public async Task Megalodon_pages_timelines_by_max_id_from_link_headers()
    {
        var (members, posts) = await FollowedAuthorWithPostsAsync(5);
        var r = await ClientLibraries.RunAsync("megalodon", "paging", _instance, members, new { pageSize = 2 });
        var home = Pages(r.GetProperty("home"));
        Assert.That(home.Select(p => p.Length), Is.EqualTo(new[] { 2, 2, 1 }));
        Assert.That(home.SelectMany(p => p), Is.EqualTo(posts));
        Assert.That(Pages(r.GetProperty("account")).SelectMany(p => p), Is.EqualTo(posts));
        var local = Pages(r.GetProperty("local")).SelectMany(p => p).ToList();
        Assert.That(local, Is.Unique);
        Assert.That(local.Where(posts.Contains), Is.EqualTo(posts));
    }

    [Test]
    public async Task Masto_pages_notifications_and_keeps_a_marker()
    {
        var (members, posts) = await FollowedAuthorWithPostsAsync(4);
        foreach (var id in posts) await members["bob"].PostJsonAsync($"/api/v1/statuses/{id}/favourite");
        var r = await ClientLibraries.RunAsync("masto", "notificationPaging", _instance, members, new { pageSize = 2 });

        var pages = r.GetProperty("pages").EnumerateArray()
            .Select(p => p.EnumerateArray().Select(n => n.GetProperty("type").GetString()).ToArray()).ToArray();
        Assert.That(pages.Select(p => p.Length), Is.EqualTo(new[] { 2, 2, 1 }));
        Assert.That(pages.SelectMany(p => p), Is.EqualTo(new[] { "favourite", "favourite", "favourite", "favourite", "follow" }));
        var newest = r.GetProperty("pages")[0][0].GetProperty("id").GetString();
        Assert.That(r.GetProperty("saved").GetString(), Is.EqualTo(newest));
        Assert.That(r.GetProperty("marker").GetString(), Is.EqualTo(newest));
        Assert.That(r.GetProperty("unread").GetInt32(), Is.Zero);
    }

    [Test]
    public async Task Masto_lists_bookmarks_favourites_mutes_blocks_and_followers()
    {
        var members = await PairAsync();
        var carol = await _instance.CreateMemberAsync($"carol{_next}");
        await carol.PostJsonAsync($"/api/v1/accounts/{members["alice"].AccountId}/follow");
        string alice = members["alice"].AccountId.ToString(), bob = members["bob"].AccountId.ToString();
        var r = await ClientLibraries.RunAsync("masto", "collections", _instance, members);

        var posts = Strings(r.GetProperty("posts"));
        Assert.That(Strings(r.GetProperty("bookmarks")), Is.EqualTo(posts.Reverse()), "newest saved first, across pages of two");
        Assert.That(Strings(r.GetProperty("favourites")), Is.EqualTo(posts.Reverse()));
        Assert.That(r.GetProperty("unbookmarked").GetBoolean(), Is.False);
        Assert.That(Strings(r.GetProperty("followers")), Is.EqualTo(new[] { bob, carol.AccountId.ToString() }), "pages of one, followed by masto");
        Assert.That(Strings(r.GetProperty("following")), Is.EqualTo(new[] { alice }));
        Assert.That(r.GetProperty("muted").GetProperty("muting").GetBoolean(), Is.True);
        Assert.That(r.GetProperty("muted").GetProperty("mutingNotifications").GetBoolean(), Is.False);
        Assert.That(Strings(r.GetProperty("mutes")), Is.EqualTo(new[] { alice }));
        Assert.That(Strings(r.GetProperty("homeWhileMuted")), Does.Not.Contain(alice));
        Assert.That(r.GetProperty("blocked").GetBoolean(), Is.True);
        Assert.That(Strings(r.GetProperty("blocks")), Is.EqualTo(new[] { bob }));
    }

    [Test]
    public async Task Megalodon_lists_and_markers()
    {
        var members = await PairAsync();
        var carol = await _instance.CreateMemberAsync($"carol{_next}");
        await carol.PostJsonAsync($"/api/v1/accounts/{members["alice"].AccountId}/follow");
        string alice = members["alice"].AccountId.ToString(), bob = members["bob"].AccountId.ToString();
        var r = await ClientLibraries.RunAsync("megalodon", "collections", _instance, members);

        var post = r.GetProperty("post").GetString();
        Assert.That(r.GetProperty("bookmarked").GetBoolean(), Is.True);
        Assert.That(Strings(r.GetProperty("bookmarks")), Is.EqualTo(new[] { post }));
        Assert.That(Strings(r.GetProperty("favourites")), Is.EqualTo(new[] { post }));
        Assert.That(Strings(r.GetProperty("followers")), Is.EqualTo(new[] { bob, carol.AccountId.ToString() }), "megalodon's get_all follows rel=next");
        Assert.That(Strings(r.GetProperty("following")), Is.EqualTo(new[] { alice }));
        Assert.That(r.GetProperty("muting").GetBoolean(), Is.True);
        Assert.That(Strings(r.GetProperty("mutes")), Is.EqualTo(new[] { alice }));
        Assert.That(r.GetProperty("savedHome").GetString(), Is.EqualTo(post));
        Assert.That(r.GetProperty("markerHome").GetString(), Is.EqualTo(post));
    }
}
