using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using SkiaSharp;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Media uploads (v1 and v2), processing, attaching to posts, profile images, and attachments across servers.</summary>
[NonParallelizable]
public class MediaApiTests
{
    FellowsInstance _home = null!;
    FellowsInstance _away = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _home = await FellowsInstance.StartAsync("media");
        _away = await FellowsInstance.StartAsync("mediaaway");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _home.DisposeAsync();
        await _away.DisposeAsync();
    }

    const string Secret = "SECRET-HOME-ADDRESS-51.5N";

    /// <summary>A 300×200 JPEG whose EXIF says "rotate 90° clockwise", with a comment segment carrying private text.</summary>
    static byte[] PhotoWithMetadata()
    {
        using var bitmap = new SKBitmap(300, 200);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.SteelBlue);
            using var paint = new SKPaint { Color = SKColors.Orange };
            canvas.DrawRect(0, 0, 60, 40, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        var jpeg = image.Encode(SKEncodedImageFormat.Jpeg, 90).ToArray();
        // EXIF (APP1): big-endian TIFF with one IFD entry, Orientation (0x0112) = 6.
        byte[] tiff = [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
        var exif = Encoding.ASCII.GetBytes("Exif\0\0").Concat(tiff).ToArray();
        var comment = Encoding.ASCII.GetBytes(Secret);
        using var output = new MemoryStream();
        output.Write(jpeg, 0, 2);
        output.Write([0xFF, 0xE1, (byte)((exif.Length + 2) >> 8), (byte)((exif.Length + 2) & 0xFF)]);
        output.Write(exif);
        output.Write([0xFF, 0xFE, (byte)((comment.Length + 2) >> 8), (byte)((comment.Length + 2) & 0xFF)]);
        output.Write(comment);
        output.Write(jpeg, 2, jpeg.Length - 2);
        return output.ToArray();
    }

    static MultipartFormDataContent Upload(byte[] bytes, string contentType, string fileName, string? description = null, string? focus = null)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var form = new MultipartFormDataContent { { file, "file", fileName } };
        if (description is not null) form.Add(new StringContent(description), "description");
        if (focus is not null) form.Add(new StringContent(focus), "focus");
        return form;
    }

    static async Task<JsonElement> ReadyAsync(Member member, string id) =>
        (JsonElement)await Api.EventuallyAsync(async () =>
        {
            var response = await member.Api.GetAsync(new Uri($"/api/v1/media/{id}", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK ? (object)await Api.JsonAsync(response) : null;
        }, "the upload to finish processing");

    [Test]
    public async Task Upload_is_processed_rotated_and_stripped_then_posted_and_federated()
    {
        var nell = await _home.CreateMemberAsync("nell");
        var reader = await _away.CreateMemberAsync("reader");
        var nellOnAway = (await reader.GetJsonAsync($"/api/v1/accounts/lookup?acct={nell.Handle}")).GetProperty("id").GetString();
        await reader.PostJsonAsync($"/api/v1/accounts/{nellOnAway}/follow");
        await Api.EventuallyAsync(async () => (await reader.GetJsonAsync($"/api/v1/accounts/relationships?id[]={nellOnAway}"))[0].GetProperty("following").GetBoolean(),
            "the follow to be accepted");

        using var form = Upload(PhotoWithMetadata(), "image/jpeg", "garden.jpg", "Raised beds in the garden", "0.5,-0.25");
        var uploaded = await nell.Api.PostAsync(new Uri("/api/v2/media", UriKind.Relative), form);
        Assert.That(uploaded.StatusCode, Is.AnyOf(HttpStatusCode.OK, HttpStatusCode.Accepted));
        var id = (await Api.JsonAsync(uploaded)).GetProperty("id").GetString()!;
        var media = await ReadyAsync(nell, id);
        var original = media.GetProperty("meta").GetProperty("original");
        Assert.Multiple(() =>
        {
            Assert.That(media.GetProperty("type").GetString(), Is.EqualTo("image"));
            Assert.That((original.GetProperty("width").GetInt32(), original.GetProperty("height").GetInt32()), Is.EqualTo((200, 300)), "EXIF orientation applied");
            Assert.That(media.GetProperty("meta").GetProperty("focus").GetProperty("y").GetDouble(), Is.EqualTo(-0.25).Within(0.001));
            Assert.That(media.GetProperty("description").GetString(), Is.EqualTo("Raised beds in the garden"));
            Assert.That(media.GetProperty("url").GetString(), Does.StartWith(_home.BaseUrl + "/system/media/"));
        });

        var file = await _home.Client.GetAsync(new Uri(media.GetProperty("url").GetString()!));
        var bytes = await file.Content.ReadAsByteArrayAsync();
        Assert.Multiple(() =>
        {
            Assert.That(file.Content.Headers.ContentType!.MediaType, Is.EqualTo("image/jpeg"));
            Assert.That(file.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
            Assert.That(Encoding.ASCII.GetString(bytes), Does.Not.Contain(Secret), "metadata is stripped");
            Assert.That(Encoding.ASCII.GetString(bytes), Does.Not.Contain("Exif"), "no EXIF block survives");
        });

        var edited = await Api.JsonAsync(await nell.Api.PutAsJsonAsync(new Uri($"/api/v1/media/{id}", UriKind.Relative), new { description = "Raised beds, spring" }));
        Assert.That(edited.GetProperty("description").GetString(), Is.EqualTo("Raised beds, spring"));

        var post = await nell.PostJsonAsync("/api/v1/statuses", new { status = "", media_ids = new[] { id } });
        var attachment = post.GetProperty("media_attachments")[0];
        Assert.That(attachment.GetProperty("id").GetString(), Is.EqualTo(id));

        // Posted once only, and only by its owner.
        var again = await nell.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "again", media_ids = new[] { id } });
        Assert.That((int)again.StatusCode, Is.EqualTo(422));

        // The note carries the attachment; the follower's server shows it from its origin.
        using var noteRequest = new HttpRequestMessage(HttpMethod.Get, post.GetProperty("uri").GetString());
        noteRequest.Headers.Accept.ParseAdd("application/activity+json");
        var note = await Api.JsonAsync(await _home.Client.SendAsync(noteRequest));
        Assert.That(note.GetProperty("attachment")[0].GetProperty("url").GetString(), Is.EqualTo(attachment.GetProperty("url").GetString()));
        Assert.That(note.GetProperty("attachment")[0].GetProperty("name").GetString(), Is.EqualTo("Raised beds, spring"));
        var seen = (JsonElement)await Api.EventuallyAsync(async () =>
        {
            var home = await reader.GetJsonAsync("/api/v1/timelines/home");
            return home.EnumerateArray().FirstOrDefault(s => s.GetProperty("uri").GetString() == post.GetProperty("uri").GetString()) is { ValueKind: JsonValueKind.Object } s
                ? (object)s : null;
        }, "the post with its picture on the follower's home");
        var remote = seen.GetProperty("media_attachments")[0];
        Assert.That(remote.GetProperty("remote_url").GetString(), Is.EqualTo(attachment.GetProperty("url").GetString()));
        Assert.That(remote.GetProperty("description").GetString(), Is.EqualTo("Raised beds, spring"));
    }

    [Test]
    public async Task Bad_uploads_and_other_members_media_are_refused()
    {
        var olga = await _home.CreateMemberAsync("olga");
        var pia = await _home.CreateMemberAsync("pia");

        using var textFile = Upload(Encoding.UTF8.GetBytes("not a picture"), "text/plain", "notes.txt");
        Assert.That((int)(await olga.Api.PostAsync(new Uri("/api/v1/media", UriKind.Relative), textFile)).StatusCode, Is.EqualTo(422));

        using var fake = Upload(Encoding.UTF8.GetBytes("GIF89a but not really"), "image/gif", "fake.gif");
        var queued = await olga.Api.PostAsync(new Uri("/api/v2/media", UriKind.Relative), fake);
        if (queued.StatusCode == HttpStatusCode.Accepted)
        {
            var fakeId = (await Api.JsonAsync(queued)).GetProperty("id").GetString();
            await Api.EventuallyAsync(async () => (int)(await olga.Api.GetAsync(new Uri($"/api/v1/media/{fakeId}", UriKind.Relative))).StatusCode == 422,
                "the broken image to be reported as failed");
        }
        else Assert.That((int)queued.StatusCode, Is.EqualTo(422));

        using var badFocus = Upload(PhotoWithMetadata(), "image/jpeg", "a.jpg", focus: "2,0");
        Assert.That((int)(await olga.Api.PostAsync(new Uri("/api/v1/media", UriKind.Relative), badFocus)).StatusCode, Is.EqualTo(422));

        using var good = Upload(PhotoWithMetadata(), "image/jpeg", "b.jpg");
        var mine = await Api.JsonAsync(await olga.Api.PostAsync(new Uri("/api/v1/media", UriKind.Relative), good));
        var id = mine.GetProperty("id").GetString();
        var stolen = await pia.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "mine now", media_ids = new[] { id } });
        Assert.That((int)stolen.StatusCode, Is.EqualTo(422));
        Assert.That((await pia.Api.GetAsync(new Uri($"/api/v1/media/{id}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await pia.Api.DeleteAsync(new Uri($"/api/v1/media/{id}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var five = await olga.Api.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "too many", media_ids = new[] { id, "1", "2", "3", "4" } });
        Assert.That((int)five.StatusCode, Is.EqualTo(422));
        Assert.That((await olga.Api.DeleteAsync(new Uri($"/api/v1/media/{id}", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await _home.Client.GetAsync(new Uri(mine.GetProperty("url").GetString()!))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "files go with it");
    }

    [Test]
    public async Task Avatar_and_header_are_cropped_and_federated_in_the_actor()
    {
        var quinn = await _home.CreateMemberAsync("quinn");
        var photo = new ByteArrayContent(PhotoWithMetadata());
        photo.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        var banner = new ByteArrayContent(PhotoWithMetadata());
        banner.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var form = new MultipartFormDataContent { { photo, "avatar", "me.jpg" }, { banner, "header", "banner.jpg" }, { new StringContent("Quinn"), "display_name" } };
        var me = await Api.JsonAsync(await quinn.Api.PatchAsync(new Uri("/api/v1/accounts/update_credentials", UriKind.Relative), form));
        var avatarUrl = me.GetProperty("avatar").GetString()!;
        Assert.That(avatarUrl, Does.StartWith(_home.BaseUrl + "/system/media/accounts/"));
        using var avatar = SKBitmap.Decode(await _home.Client.GetByteArrayAsync(new Uri(avatarUrl)));
        Assert.That((avatar.Width, avatar.Height), Is.EqualTo((400, 400)));
        using var header = SKBitmap.Decode(await _home.Client.GetByteArrayAsync(new Uri(me.GetProperty("header").GetString()!)));
        Assert.That((header.Width, header.Height), Is.EqualTo((1500, 500)));

        using var actorRequest = new HttpRequestMessage(HttpMethod.Get, quinn.ActorId);
        actorRequest.Headers.Accept.ParseAdd("application/activity+json");
        var actor = await Api.JsonAsync(await _home.Client.SendAsync(actorRequest));
        Assert.That(actor.GetProperty("icon").GetProperty("url").GetString(), Is.EqualTo(avatarUrl));

        using var notImage = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes("hello")), "avatar", "x.png" } };
        Assert.That((int)(await quinn.Api.PatchAsync(new Uri("/api/v1/accounts/update_credentials", UriKind.Relative), notImage)).StatusCode, Is.EqualTo(422));
    }
}
