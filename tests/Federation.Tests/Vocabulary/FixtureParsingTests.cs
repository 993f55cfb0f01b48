using System.Text.Json;
using Fellows.Federation.Html;
using Fellows.Federation.Vocabulary;
using NUnit.Framework;

// Expected values read best inline; these arrays are built once per test run, so CA1861 buys nothing here.
#pragma warning disable CA1861

namespace Fellows.Federation.Tests.Vocabulary;

/// <summary>Reads captured and documented payloads from each server family and checks concrete fields.</summary>
public class FixtureParsingTests
{
    private static RemoteActor Actor(string name)
    {
        using var document = Fixture.Load(name);
        Assert.That(RemoteActor.TryRead(document.RootElement, out var actor, out var error), Is.True, error);
        return actor!;
    }

    private static RemoteObject Object(string name)
    {
        using var document = Fixture.Load(name);
        Assert.That(RemoteObject.TryRead(document.RootElement, out var value, out var error), Is.True, error);
        return value!;
    }

    /// <summary>Reads an activity; the document stays alive for the embedded object, so the caller disposes it.</summary>
    private static RemoteActivity Activity(string name, out JsonDocument document)
    {
        document = Fixture.Load(name);
        Assert.That(RemoteActivity.TryRead(document.RootElement, out var activity, out var error), Is.True, error);
        return activity!;
    }

    // Mastodon

    [Test]
    public void RemoteActor_mastodon_person_reads_endpoints_and_key()
    {
        var actor = Actor("mastodon/person.json");

        Assert.That(actor.Id, Is.EqualTo("https://masto.qa.urbanwildlife.biz/users/mastodon"));
        Assert.That(actor.Type, Is.EqualTo("Person"));
        Assert.That(actor.PreferredUsername, Is.EqualTo("mastodon"));
        Assert.That(actor.Inbox, Is.EqualTo("https://masto.qa.urbanwildlife.biz/users/mastodon/inbox"));
        Assert.That(actor.SharedInbox, Is.EqualTo("https://masto.qa.urbanwildlife.biz/inbox"));
        Assert.That(actor.Featured, Is.EqualTo("https://masto.qa.urbanwildlife.biz/users/mastodon/collections/featured"));
        Assert.That(actor.FeaturedTags, Is.EqualTo("https://masto.qa.urbanwildlife.biz/users/mastodon/collections/tags"));
        Assert.That(actor.PublicKey!.Id, Is.EqualTo("https://masto.qa.urbanwildlife.biz/users/mastodon#main-key"));
        Assert.That(actor.PublicKey.Owner, Is.EqualTo(actor.Id));
        Assert.That(actor.PublicKey.PublicKeyPem, Does.StartWith("-----BEGIN PUBLIC KEY-----"));
        Assert.That(actor.IconUrl, Does.EndWith("2cf61ff96e94cb1d.png"));
        Assert.That(actor.ManuallyApprovesFollowers, Is.False);
        Assert.That(actor.Discoverable, Is.False);
        Assert.That(actor.Indexable, Is.Null);
        Assert.That(actor.Published, Is.EqualTo(new DateTimeOffset(2022, 10, 3, 0, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void RemoteActor_mastodon_full_profile_reads_keys_fields_emoji_and_aliases()
    {
        var actor = Actor("mastodon/person_full.json");

        Assert.That(actor.PublicKeys, Has.Count.EqualTo(1), "publicKey sent as an array");
        Assert.That(actor.PublicKey!.Owner, Is.EqualTo("https://mastodon.example/users/alice"));
        Assert.That(actor.AssertionMethods, Has.Count.EqualTo(1));
        Assert.That(actor.AssertionMethods[0].Id, Is.EqualTo("https://mastodon.example/users/alice#ed25519-key"));
        Assert.That(actor.AssertionMethods[0].Controller, Is.EqualTo(actor.Id));
        Assert.That(actor.AssertionMethods[0].PublicKeyMultibase, Does.StartWith("z6Mk"));
        Assert.That(actor.Fields.Select(f => f.Name), Is.EqualTo(new[] { "Website", "Pronouns" }));
        Assert.That(actor.Fields[1].Value, Is.EqualTo("she/her"));
        Assert.That(actor.Emoji.Single().Name, Is.EqualTo(":coop:"));
        Assert.That(actor.Emoji.Single().IconUrl, Is.EqualTo("https://mastodon.example/system/custom_emojis/coop.png"));
        Assert.That(actor.AlsoKnownAs, Is.EqualTo(new[] { "https://old.example/users/alice" }));
        Assert.That(actor.ManuallyApprovesFollowers, Is.True, "\"true\" as a string");
        Assert.That(actor.Discoverable, Is.True);
        Assert.That(actor.Indexable, Is.False);
        Assert.That(actor.ImageUrl, Is.EqualTo("https://mastodon.example/headers/alice.jpg"), "image as an array");
        Assert.That(actor.Url, Is.EqualTo("https://mastodon.example/@alice"));
    }

    [Test]
    public void RemoteObject_mastodon_note_reads_reply_mentions_and_audience()
    {
        var note = Object("mastodon/note.json");

        Assert.That(note.Type, Is.EqualTo("Note"));
        Assert.That(note.AttributedTo, Is.EqualTo("https://mastodon.madrid/users/felix"));
        Assert.That(note.InReplyTo, Is.EqualTo("https://mamot.fr/users/retiolus/statuses/107224244380204526"));
        Assert.That(note.To, Is.EqualTo(new[] { "https://mastodon.madrid/users/felix/followers" }));
        Assert.That(note.Cc, Does.Contain("https://mamot.fr/users/retiolus"));
        Assert.That(note.IsPublic, Is.True);
        Assert.That(note.Mentions.Single(), Is.EqualTo(new MentionTag("https://mamot.fr/users/retiolus", "@retiolus@mamot.fr")));
        Assert.That(note.Language, Is.EqualTo("en"));
        Assert.That(note.Summary, Is.Null);
        Assert.That(note.Sensitive, Is.False);
        Assert.That(note.Replies, Is.EqualTo("https://mastodon.madrid/users/felix/statuses/107224289116410645/replies"));
        Assert.That(note.Context, Is.EqualTo("tag:mamot.fr,2021-11-05:objectId=64635960:objectType=Conversation"));
        Assert.That(note.Url, Is.EqualTo("https://mastodon.madrid/@felix/107224289116410645"));
        Assert.That(RemoteHtml.Sanitize(note.Content), Is.EqualTo(
            "<p><span class=\"h-card\"><a href=\"https://mamot.fr/@retiolus\" class=\"u-url mention\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">@<span>retiolus</span></a></span> i have never been disappointed by a thinkpad. if you want to save money, get a model from a few years ago, there isnt a huge difference anyway.</p>"));
    }

    [Test]
    public void RemoteObject_mastodon_note_with_media_reads_attachment()
    {
        var note = Object("mastodon/note_2.json");

        var media = note.Attachments.Single();
        Assert.That(media.Type, Is.EqualTo("Document"));
        Assert.That(media.MediaType, Is.EqualTo("image/jpeg"));
        Assert.That(media.Url, Does.EndWith("c8d906a2f2ab2334.jpg"));
        Assert.That(media.Name, Does.StartWith("The KDE dragons"));
        Assert.That(media.Width, Is.EqualTo(1500));
        Assert.That(media.Height, Is.EqualTo(1095));
        Assert.That(media.Blurhash, Is.EqualTo("USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc"));
        Assert.That(RemoteHtml.Sanitize(note.Content), Does.Contain("<span class=\"invisible\">https://</span><span>kde.org/donate/</span>"));
    }

    [Test]
    public void RemoteObject_mastodon_question_reads_poll()
    {
        var poll = Object("mastodon/question.json");

        Assert.That(poll.Type, Is.EqualTo("Question"));
        Assert.That(poll.Poll, Is.Not.Null);
        Assert.That(poll.Poll!.Multiple, Is.False);
        Assert.That(poll.Poll.Options, Is.EqualTo(new[] { new PollOption("Monday", 3), new PollOption("Friday", 4) }));
        Assert.That(poll.Poll.EndTime, Is.EqualTo(new DateTimeOffset(2024, 5, 2, 10, 0, 0, TimeSpan.Zero)));
        Assert.That(poll.Poll.Closed, Is.True);
        Assert.That(poll.Poll.VotersCount, Is.EqualTo(7));
        Assert.That(poll.Hashtags.Single(), Is.EqualTo(new HashtagTag("https://mastodon.example/tags/coop", "#coop")));
        Assert.That(poll.To, Is.EqualTo(new[] { ActivityStreams.Public }));
    }

    [Test]
    public void RemoteActivity_mastodon_create_embeds_note()
    {
        var create = Activity("mastodon/create_note.json", out var document);
        using var owner = document;

        Assert.That(create.Type, Is.EqualTo("Create"));
        Assert.That(create.Actor, Is.EqualTo("https://mastodon.madrid/users/felix"));
        Assert.That(create.ObjectId, Is.EqualTo("https://mastodon.madrid/users/felix/statuses/107224289116410645"));
        Assert.That(create.InnerActivity, Is.Null, "a Note is not an activity");
        Assert.That(create.Published, Is.EqualTo(new DateTimeOffset(2021, 11, 5, 11, 46, 50, TimeSpan.Zero)));
        Assert.That(RemoteObject.TryRead(create.EmbeddedObject!.Value, out var note, out _), Is.True);
        Assert.That(note!.AttributedTo, Is.EqualTo(create.Actor));
    }

    [Test]
    public void RemoteActivity_mastodon_delete_carries_tombstone()
    {
        var delete = Activity("mastodon/delete.json", out var document);
        using var owner = document;

        Assert.That(delete.Type, Is.EqualTo("Delete"));
        Assert.That(delete.ObjectId, Is.EqualTo("https://mastodon.madrid/users/felix/statuses/107773559874184870"));
        Assert.That(RemoteObject.TryRead(delete.EmbeddedObject!.Value, out var tombstone, out _), Is.True);
        Assert.That(tombstone!.IsTombstone, Is.True);
    }

    [Test]
    public void RemoteActivity_mastodon_follow_and_undo_follow()
    {
        var follow = Activity("mastodon/follow.json", out var followDocument);
        using var a = followDocument;
        var undo = Activity("mastodon/undo_follow.json", out var undoDocument);
        using var b = undoDocument;

        Assert.That(follow.Type, Is.EqualTo("Follow"));
        Assert.That(follow.ObjectId, Is.EqualTo("https://ds9.lemmy.ml/c/testcom"));
        Assert.That(undo.Type, Is.EqualTo("Undo"));
        Assert.That(undo.InnerActivity!.Type, Is.EqualTo("Follow"));
        Assert.That(undo.InnerActivity.Id, Is.EqualTo(follow.Id));
        Assert.That(undo.InnerActivity.ObjectId, Is.EqualTo("https://ds9.lemmy.ml/c/testcom"));
    }

    [Test]
    public void RemoteActivity_mastodon_accept_announce_update_move_like_flag()
    {
        var accept = Activity("mastodon/accept_follow.json", out var d1);
        var announce = Activity("mastodon/announce.json", out var d2);
        var update = Activity("mastodon/update_note.json", out var d3);
        var move = Activity("mastodon/move.json", out var d4);
        var like = Activity("mastodon/like.json", out var d5);
        var flag = Activity("mastodon/flag.json", out var d6);
        using var _1 = d1;
        using var _2 = d2;
        using var _3 = d3;
        using var _4 = d4;
        using var _5 = d5;
        using var _6 = d6;

        Assert.That(accept.InnerActivity!.Actor, Is.EqualTo("https://fellows.example/users/bob"));
        Assert.That(accept.InnerActivity.Id, Is.EqualTo("https://fellows.example/activities/follow/1"));
        Assert.That(announce.ObjectId, Is.EqualTo("https://fellows.example/users/bob/notes/1"));
        Assert.That(announce.IsPublic, Is.True);
        Assert.That(RemoteObject.TryRead(update.EmbeddedObject!.Value, out var edited, out _), Is.True);
        Assert.That(edited!.Updated, Is.EqualTo(new DateTimeOffset(2024, 5, 1, 11, 0, 0, TimeSpan.Zero)));
        Assert.That(edited.Summary, Is.EqualTo("spoilers"));
        Assert.That(edited.Sensitive, Is.True);
        Assert.That(move.ObjectId, Is.EqualTo("https://old.example/users/alice"));
        Assert.That(move.Target, Is.EqualTo("https://mastodon.example/users/alice"));
        Assert.That(like.ObjectId, Is.EqualTo("https://ds9.lemmy.ml/post/147"));
        Assert.That(flag.ObjectIds, Has.Count.EqualTo(3));
        Assert.That(flag.Content, Is.EqualTo("Please take a look at this user and their posts"));
        Assert.That(flag.To, Is.EqualTo(new[] { "https://example.com/users/1" }), "to as a bare string");
    }

    // Pleroma / Akkoma

    [Test]
    public void RemoteActor_pleroma_reads_emoji_and_shared_inbox()
    {
        var actor = Actor("pleroma/person.json");

        Assert.That(actor.Id, Is.EqualTo("https://queer.hacktivis.me/users/lanodan"));
        Assert.That(actor.SharedInbox, Is.EqualTo("https://queer.hacktivis.me/inbox"));
        Assert.That(actor.PublicKey!.Owner, Is.EqualTo(actor.Id));
        Assert.That(actor.Emoji.Select(e => e.Name), Does.Contain(":bzh:"));
        Assert.That(actor.ImageUrl, Does.StartWith("https://queer.hacktivis.me/media/"));
    }

    [Test]
    public void RemoteObject_pleroma_note_with_null_sensitive_and_empty_summary()
    {
        var note = Object("pleroma/note.json");

        Assert.That(note.Content, Is.EqualTo("Have what?"));
        Assert.That(note.Sensitive, Is.False);
        Assert.That(note.Summary, Is.Null);
        Assert.That(note.Mentions.Single().Href, Is.EqualTo("https://pleroma.popolon.org/users/popolon"));
        Assert.That(note.InReplyTo, Is.EqualTo("https://enterprise.lemmy.ml/post/55143"));
    }

    [Test]
    public void RemoteActivity_pleroma_follow_delete_emoji_react_undo_like()
    {
        var follow = Activity("pleroma/follow.json", out var d1);
        var delete = Activity("pleroma/delete.json", out var d2);
        var react = Activity("pleroma/emoji_react.json", out var d3);
        var undo = Activity("pleroma/undo_like.json", out var d4);
        var create = Activity("pleroma/create_note.json", out var d5);
        using var _1 = d1;
        using var _2 = d2;
        using var _3 = d3;
        using var _4 = d4;
        using var _5 = d5;

        Assert.That(follow.ObjectId, Is.EqualTo("https://lemmy.ca/u/kinetix"));
        Assert.That(delete.ObjectId, Is.EqualTo("https://greenish.red/objects/38e2b983-ebf5-4387-9bc2-3b80305469c9"));
        Assert.That(delete.EmbeddedObject, Is.Null);
        Assert.That(react.Type, Is.EqualTo("EmojiReact"));
        Assert.That(react.Content, Is.EqualTo(":mouse:"));
        Assert.That(react.Emoji.Single().IconUrl, Is.EqualTo("https://example.org/emoji/mouse.png"));
        Assert.That(undo.InnerActivity!.Type, Is.EqualTo("Like"));
        Assert.That(undo.InnerActivity.ObjectId, Is.EqualTo("https://enterprise.lemmy.ml/post/55143"));
        Assert.That(create.Type, Is.EqualTo("Create"));
    }

    // Lemmy

    [Test]
    public void RemoteActor_lemmy_person_and_group()
    {
        var person = Actor("lemmy/person.json");
        var group = Actor("lemmy/group.json");

        Assert.That(person.Type, Is.EqualTo("Person"));
        Assert.That(person.Name, Is.EqualTo("Jean-Luc Picard"));
        Assert.That(person.SharedInbox, Is.EqualTo("https://enterprise.lemmy.ml/inbox"));
        Assert.That(person.Outbox, Is.EqualTo("https://enterprise.lemmy.ml/u/picard/outbox"));
        Assert.That(group.Type, Is.EqualTo("Group"));
        Assert.That(group.PreferredUsername, Is.EqualTo("tenforward"));
        Assert.That(group.Followers, Is.EqualTo("https://enterprise.lemmy.ml/c/tenforward/followers"));
        Assert.That(group.PublicKey!.Owner, Is.EqualTo("https://enterprise.lemmy.ml/c/tenforward"));
        Assert.That(RemoteHtml.Sanitize(group.Summary), Is.EqualTo("<p>Lounge and recreation facility</p>\n\n<p>Welcome to the Enterprise!.</p>\n"));
    }

    [Test]
    public void RemoteObject_lemmy_page_has_audience_title_and_link()
    {
        var page = Object("lemmy/page.json");

        Assert.That(page.Type, Is.EqualTo("Page"));
        Assert.That(page.Name, Is.EqualTo("Post title"));
        Assert.That(page.Audience, Is.EqualTo("https://enterprise.lemmy.ml/c/tenforward"));
        Assert.That(page.AttributedTo, Is.EqualTo("https://enterprise.lemmy.ml/u/picard"));
        Assert.That(page.Attachments.Single().Type, Is.EqualTo("Link"));
        Assert.That(page.Attachments.Single().Url, Is.EqualTo("https://enterprise.lemmy.ml/pictrs/image/eOtYb9iEiB.png"));
        Assert.That(page.Mentions.Single().Href, Is.EqualTo("https://enterprise.lemmy.ml/c/tenforward"));
        Assert.That(page.Hashtags, Is.Empty, "CommunityPostTag is not a Hashtag");
    }

    [Test]
    public void RemoteActivity_lemmy_follow_accept_undo_create_update_delete_like_announce()
    {
        var follow = Activity("lemmy/follow.json", out var d1);
        var accept = Activity("lemmy/accept.json", out var d2);
        var undo = Activity("lemmy/undo_follow.json", out var d3);
        var create = Activity("lemmy/create_page.json", out var d4);
        var update = Activity("lemmy/update_page.json", out var d5);
        var delete = Activity("lemmy/delete_page.json", out var d6);
        var like = Activity("lemmy/like_note.json", out var d7);
        var announce = Activity("lemmy/announce_create_page.json", out var d8);
        using var _1 = d1;
        using var _2 = d2;
        using var _3 = d3;
        using var _4 = d4;
        using var _5 = d5;
        using var _6 = d6;
        using var _7 = d7;
        using var _8 = d8;

        Assert.That(follow.Type, Is.EqualTo("Follow"));
        Assert.That(accept.Actor, Is.EqualTo("http://enterprise.lemmy.ml/c/main"));
        Assert.That(accept.InnerActivity!.Id, Is.EqualTo("http://ds9.lemmy.ml/activities/follow/6abcd50b-b8ca-4952-86b0-a6dd8cc12866"));
        Assert.That(undo.InnerActivity!.Type, Is.EqualTo("Follow"));
        Assert.That(create.Type, Is.EqualTo("Create"));
        Assert.That(update.Type, Is.EqualTo("Update"));
        Assert.That(delete.ObjectId, Is.EqualTo("http://ds9.lemmy.ml/post/1"));
        Assert.That(delete.Audience, Is.EqualTo("https://enterprise.lemmy.ml/c/main"));
        Assert.That(like.Audience, Is.EqualTo("https://enterprise.lemmy.ml/c/tenforward"));
        Assert.That(announce.Actor, Is.EqualTo("http://enterprise.lemmy.ml/c/main"));
        Assert.That(announce.InnerActivity!.Type, Is.EqualTo("Create"));
        Assert.That(announce.InnerActivity.Actor, Is.EqualTo("http://enterprise.lemmy.ml/u/lemmy_beta"));
        Assert.That(RemoteObject.TryRead(announce.InnerActivity.EmbeddedObject!.Value, out var page, out _), Is.True);
        Assert.That(page!.Name, Is.EqualTo("post 4"));
    }

    // PeerTube

    [Test]
    public void RemoteActor_peertube_account_with_icon_array()
    {
        var actor = Actor("peertube/person.json");
        var channel = Actor("peertube/group.json");

        Assert.That(actor.Inbox, Is.EqualTo("https://tilvids.com/accounts/thelinuxexperiment/inbox"));
        Assert.That(actor.SharedInbox, Is.EqualTo("https://tilvids.com/inbox"));
        Assert.That(actor.IconUrl, Does.StartWith("https://tilvids.com/lazy-static/avatars/"));
        Assert.That(actor.PublicKey!.Owner, Is.EqualTo(actor.Id));
        Assert.That(channel.Type, Is.EqualTo("Group"));
    }

    [Test]
    public void RemoteObject_peertube_video_picks_person_author_and_html_url()
    {
        var video = Object("peertube/video.json");

        Assert.That(video.Type, Is.EqualTo("Video"));
        Assert.That(video.AttributedTo, Is.EqualTo("https://tilvids.com/accounts/thelinuxexperiment"));
        Assert.That(video.AttributedToAll, Has.Count.EqualTo(2));
        Assert.That(video.Url, Is.EqualTo("https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1"));
        Assert.That(video.Name, Does.StartWith("Mesa, Wayland"));
        Assert.That(video.MediaType, Is.EqualTo("text/markdown"));
    }

    [Test]
    public void RemoteObject_peertube_comment_and_announce()
    {
        var comment = Object("peertube/note.json");
        var announce = Activity("peertube/announce_video.json", out var document);
        using var owner = document;

        Assert.That(comment.Mentions.Single().Name, Is.EqualTo("@af2@bae.st"));
        Assert.That(comment.InReplyTo, Is.EqualTo("https://bae.st/objects/87c1cbf5-542a-491d-af57-0414c8648381"));
        Assert.That(announce.Type, Is.EqualTo("Announce"));
        Assert.That(announce.ObjectId, Is.Not.Null);
    }

    // Friendica

    [Test]
    public void RemoteActor_friendica_reads_fields()
    {
        var actor = Actor("friendica/person.json");

        Assert.That(actor.ManuallyApprovesFollowers, Is.True);
        Assert.That(actor.SharedInbox, Is.EqualTo("https://soc.schuerz.at/inbox"));
        Assert.That(actor.Fields.Select(f => f.Name), Does.Contain("Lemmy"));
        Assert.That(RemoteHtml.Sanitize(actor.Fields.First(f => f.Name == "Lemmy").Value),
            Is.EqualTo("<a href=\"https://lemmy.schuerz.at/u/jakob\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">https://lemmy.schuerz.at/u/jakob</a>"));
    }

    [Test]
    public void RemoteObject_friendica_note_keeps_content_and_map()
    {
        var note = Object("friendica/note.json");

        Assert.That(note.Content, Does.Contain("test"));
        Assert.That(note.ContentMap.Keys, Is.EqualTo(new[] { "de" }));
        Assert.That(note.Language, Is.EqualTo("de"));
        Assert.That(note.Url, Is.EqualTo("https://soc.schuerz.at/display/4edd2508-4361-edb8-c4d8-b45181083984"));
        Assert.That(note.To, Does.Contain("https://lemmy.schuerz.at/c/test"));
        Assert.That(RemoteHtml.Sanitize(note.ContentMap["de"]), Does.Contain("class=\"mention\""));
    }

    [Test]
    public void RemoteActivity_friendica_create_update_delete_like()
    {
        var create = Activity("friendica/create_note.json", out var d1);
        var update = Activity("friendica/update_note.json", out var d2);
        var delete = Activity("friendica/delete.json", out var d3);
        var like = Activity("friendica/like_page.json", out var d4);
        using var _1 = d1;
        using var _2 = d2;
        using var _3 = d3;
        using var _4 = d4;

        Assert.That(create.Type, Is.EqualTo("Create"));
        Assert.That(update.Actor, Is.EqualTo("https://pirati.ca/profile/heluecht"));
        Assert.That(delete.ObjectId, Is.EqualTo("https://pirati.ca/objects/ec054ce7-4762-3c1c-3c25-0cc665717210"));
        Assert.That(delete.IsPublic, Is.True);
        Assert.That(like.Type, Is.EqualTo("Like"));
    }

    // Misskey

    [Test]
    public void RemoteActor_misskey_with_null_image()
    {
        var actor = Actor("misskey/person.json");

        Assert.That(actor.Id, Is.EqualTo("https://misskey.example/users/9a8b7c6d5e"));
        Assert.That(actor.ImageUrl, Is.Null);
        Assert.That(actor.IconUrl, Is.EqualTo("https://misskey.example/files/avatar.webp"));
        Assert.That(actor.SharedInbox, Is.EqualTo("https://misskey.example/inbox"));
        Assert.That(actor.PublicKey!.Owner, Is.EqualTo(actor.Id));
    }

    [Test]
    public void RemoteObject_misskey_note_reads_quote_tags_and_attachment()
    {
        var note = Object("misskey/note.json");

        Assert.That(note.Quote, Is.EqualTo("https://mastodon.example/users/alice/statuses/110000000000000001"));
        Assert.That(note.Hashtags.Single().Name, Is.EqualTo("#coop"));
        Assert.That(note.Emoji.Single().Name, Is.EqualTo(":blobcat:"));
        Assert.That(note.Attachments.Single().Name, Is.Null);
        Assert.That(note.Published, Is.EqualTo(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void RemoteObject_misskey_question_is_multiple_choice()
    {
        var poll = Object("misskey/question.json");

        Assert.That(poll.Poll!.Multiple, Is.True);
        Assert.That(poll.Poll.Options, Is.EqualTo(new[] { new PollOption("Soup", 2), new PollOption("Salad", 5) }));
        Assert.That(poll.Poll.Closed, Is.False);
    }

    [Test]
    public void RemoteActivity_misskey_reaction_like_and_follow()
    {
        var like = Activity("misskey/like_reaction.json", out var d1);
        var follow = Activity("misskey/follow.json", out var d2);
        using var _1 = d1;
        using var _2 = d2;

        Assert.That(like.Content, Is.EqualTo(":blobcat:"));
        Assert.That(like.Emoji.Single().IconUrl, Is.EqualTo("https://misskey.example/files/blobcat.png"));
        Assert.That(follow.ObjectId, Is.EqualTo("https://fellows.example/users/bob"));
    }

    // GoToSocial

    [Test]
    public void RemoteActor_gotosocial()
    {
        var actor = Actor("gotosocial/person.json");

        Assert.That(actor.PublicKey!.Id, Is.EqualTo("https://gts.example/users/kit/main-key"));
        Assert.That(actor.SharedInbox, Is.EqualTo("https://gts.example/sharedInbox"));
        Assert.That(actor.ManuallyApprovesFollowers, Is.True);
    }

    [Test]
    public void RemoteObject_gotosocial_note_with_single_values_and_policy()
    {
        var note = Object("gotosocial/note.json");

        Assert.That(note.To, Is.EqualTo(new[] { ActivityStreams.Public }));
        Assert.That(note.Cc, Is.EqualTo(new[] { "https://gts.example/users/kit/followers" }));
        Assert.That(note.Mentions.Single().Href, Is.EqualTo("https://mastodon.example/users/alice"));
        Assert.That(note.Sensitive, Is.False, "\"false\" as a string");
        Assert.That(note.Attachments.Single().Height, Is.EqualTo(600), "height as a string");
        Assert.That(note.Attachments.Single().Name, Is.EqualTo("a sloth hanging from a branch"));
        var clean = RemoteHtml.Sanitize(note.Content);
        Assert.That(clean, Does.Not.Contain("<img"));
        Assert.That(clean, Does.Not.Contain("onerror"));
        Assert.That(clean, Does.Contain("class=\"u-url mention\""));
    }

    [Test]
    public void RemoteActivity_gotosocial_accept_and_delete()
    {
        var accept = Activity("gotosocial/accept_follow.json", out var d1);
        var delete = Activity("gotosocial/delete_tombstone.json", out var d2);
        using var _1 = d1;
        using var _2 = d2;

        Assert.That(accept.InnerActivity!.Id, Is.EqualTo("https://fellows.example/activities/follow/2"));
        Assert.That(accept.To, Is.EqualTo(new[] { "https://fellows.example/users/bob" }));
        Assert.That(RemoteObject.TryRead(delete.EmbeddedObject!.Value, out var tombstone, out _), Is.True);
        Assert.That(tombstone!.IsTombstone, Is.True);
        Assert.That(tombstone.FormerType, Is.EqualTo("Note"));
    }
}
