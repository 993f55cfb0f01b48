using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// Web Push: a subscription made through the API receives each new notification at its endpoint, encrypted to
/// the app's key (RFC 8291) and signed with the server's VAPID key; the test decrypts it as a browser would.
/// </summary>
[NonParallelizable]
public class PushApiTests
{
    FellowsInstance _instance = null!;
    WebApplication _push = null!;
    readonly ConcurrentQueue<(Dictionary<string, string> Headers, byte[] Body)> _received = new();
    string _pushUrl = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _instance = await FellowsInstance.StartAsync("push");
        (_push, _pushUrl) = await LoopbackApp.StartAsync(app => app.MapPost("/push/{id}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            // Kestrel reuses its header objects after the request: keep a copy.
            _received.Enqueue((http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray()));
            http.Response.StatusCode = 201;
        }));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _instance.DisposeAsync();
        await _push.DisposeAsync();
    }

    static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static byte[] FromB64(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
    }

    /// <summary>RFC 8291 / RFC 8188 decryption, as the user agent does it.</summary>
    static string Decrypt(byte[] body, ECDiffieHellman receiver, byte[] authSecret)
    {
        var salt = body[..16];
        var idLength = body[20];
        var serverPublic = body[21..(21 + idLength)];
        var ciphertext = body[(21 + idLength)..];
        using var server = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = serverPublic[1..33], Y = serverPublic[33..65] },
        });
        var shared = receiver.DeriveRawSecretAgreement(server.PublicKey);
        var p = receiver.ExportParameters(false);
        byte[] receiverPublic = [0x04, .. p.Q.X!, .. p.Q.Y!];
        var keyInfo = Encoding.ASCII.GetBytes("WebPush: info\0").Concat(receiverPublic).Concat(serverPublic).ToArray();
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, authSecret, keyInfo);
        var cek = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 16, salt, Encoding.ASCII.GetBytes("Content-Encoding: aes128gcm\0"));
        var nonce = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 12, salt, Encoding.ASCII.GetBytes("Content-Encoding: nonce\0"));
        var plain = new byte[ciphertext.Length - 16];
        using var aes = new AesGcm(cek, 16);
        aes.Decrypt(nonce, ciphertext[..^16], ciphertext[^16..], plain);
        var end = Array.LastIndexOf(plain, (byte)0x02);
        return Encoding.UTF8.GetString(plain, 0, end);
    }

    [Test]
    public async Task Subscribed_app_receives_encrypted_signed_notifications_it_can_decrypt()
    {
        var gwen = await _instance.CreateMemberAsync("gwen");
        var hal = await _instance.CreateMemberAsync("hal");
        using var receiver = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = receiver.ExportParameters(false).Q;
        var auth = RandomNumberGenerator.GetBytes(16);

        var subscription = await gwen.PostJsonAsync("/api/v1/push/subscription", new
        {
            subscription = new { endpoint = $"{_pushUrl}/push/gwen", keys = new { p256dh = B64([0x04, .. q.X!, .. q.Y!]), auth = B64(auth) } },
            data = new { alerts = new { follow = true, mention = true, favourite = false }, policy = "all" },
        });
        var serverKey = subscription.GetProperty("server_key").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(subscription.GetProperty("alerts").GetProperty("follow").GetBoolean(), Is.True);
            Assert.That(subscription.GetProperty("alerts").GetProperty("favourite").GetBoolean(), Is.False);
            Assert.That(FromB64(serverKey), Has.Length.EqualTo(65));
        });
        var instance = await gwen.GetJsonAsync("/api/v2/instance");
        Assert.That(instance.GetProperty("configuration").GetProperty("vapid").GetProperty("public_key").GetString(), Is.EqualTo(serverKey));

        await hal.PostJsonAsync($"/api/v1/accounts/{gwen.AccountId}/follow");
        var (headers, body) = await Api.EventuallyAsync(async () =>
        {
            await Task.Yield();
            return _received.TryDequeue(out var item) ? new Tuple<Dictionary<string, string>, byte[]>(item.Headers, item.Body) : null;
        }, "the push for hal's follow");
        Assert.That(headers["Content-Encoding"], Is.EqualTo("aes128gcm"));
        Assert.That(headers["Authorization"], Does.StartWith("vapid ").And.Contain($"k={serverKey}"));
        using var payload = JsonDocument.Parse(Decrypt(body, receiver, auth));
        Assert.Multiple(() =>
        {
            Assert.That(payload.RootElement.GetProperty("notification_type").GetString(), Is.EqualTo("follow"));
            Assert.That(payload.RootElement.GetProperty("access_token").GetString(), Is.EqualTo(gwen.Token));
            Assert.That(payload.RootElement.GetProperty("title").GetString(), Does.Contain("hal"));
        });

        // Favourites were not asked for; a mention was.
        var post = await gwen.PostJsonAsync("/api/v1/statuses", new { status = "Who can cover Saturday?" });
        await hal.PostJsonAsync($"/api/v1/statuses/{post.GetProperty("id").GetString()}/favourite");
        await hal.PostJsonAsync("/api/v1/statuses", new { status = $"@gwen I can", in_reply_to_id = post.GetProperty("id").GetString() });
        var (_, second) = await Api.EventuallyAsync(async () =>
        {
            await Task.Yield();
            return _received.TryDequeue(out var item) ? new Tuple<Dictionary<string, string>, byte[]>(item.Headers, item.Body) : null;
        }, "the push for hal's mention");
        using var mention = JsonDocument.Parse(Decrypt(second, receiver, auth));
        Assert.That(mention.RootElement.GetProperty("notification_type").GetString(), Is.EqualTo("mention"), "the favourite was not pushed");
        Assert.That(mention.RootElement.GetProperty("body").GetString(), Does.Contain("I can"));

        var changed = await Api.JsonAsync(await gwen.Api.PutAsJsonAsync(new Uri("/api/v1/push/subscription", UriKind.Relative),
            new { data = new { alerts = new { follow = false } } }));
        Assert.That(changed.GetProperty("alerts").GetProperty("follow").GetBoolean(), Is.False);
        Assert.That(changed.GetProperty("alerts").GetProperty("mention").GetBoolean(), Is.True, "untouched alerts stay");
        await Api.JsonAsync(await gwen.Api.DeleteAsync(new Uri("/api/v1/push/subscription", UriKind.Relative)));
        Assert.That((await gwen.Api.GetAsync(new Uri("/api/v1/push/subscription", UriKind.Relative))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task A_notification_missed_while_the_listener_was_down_is_pushed_after_it_reconnects()
    {
        var jon = await _instance.CreateMemberAsync("jon");
        var kit = await _instance.CreateMemberAsync("kit");
        using var receiver = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = receiver.ExportParameters(false).Q;
        var auth = RandomNumberGenerator.GetBytes(16);
        await jon.PostJsonAsync("/api/v1/push/subscription", new
        {
            subscription = new { endpoint = $"{_pushUrl}/push/jon", keys = new { p256dh = B64([0x04, .. q.X!, .. q.Y!]), auth = B64(auth) } },
            data = new { alerts = new { follow = true } },
        });
        _received.Clear();

        // A notification stored without its announcement, as when no node was listening: the trigger is off for
        // this session only (replica role), so nothing is pushed yet.
        await using var conn = new Npgsql.NpgsqlConnection(_instance.ConnectionString);
        await conn.OpenAsync();
        await using (var quiet = new Npgsql.NpgsqlCommand("""
            SET session_replication_role = replica;
            INSERT INTO notifications (id, account_id, from_account_id, type, created_at) VALUES (fellows_id(now()), @jon, @kit, 'follow', now()) RETURNING id;
            """, conn))
        {
            quiet.Parameters.AddWithValue("jon", jon.AccountId);
            quiet.Parameters.AddWithValue("kit", kit.AccountId);
            var missed = (long)(await quiet.ExecuteScalarAsync())!;
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.That(_received, Is.Empty, "an unannounced notification is not pushed by the live listener");

            // The listeners' connections drop (as in a database restart); on reconnecting, the push worker catches up.
            await using (var cut = new Npgsql.NpgsqlCommand("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND (query LIKE 'LISTEN %' OR query = 'SELECT 1')
                """, conn))
                Assert.That((long)(await cut.ExecuteScalarAsync())!, Is.GreaterThan(0), "a listening connection was cut");

            var (_, body) = await Api.EventuallyAsync(async () =>
            {
                await Task.Yield();
                return _received.TryDequeue(out var item) ? new Tuple<Dictionary<string, string>, byte[]>(item.Headers, item.Body) : null;
            }, "the missed notification's push");
            using var payload = JsonDocument.Parse(Decrypt(body, receiver, auth));
            Assert.That(payload.RootElement.GetProperty("notification_type").GetString(), Is.EqualTo("follow"));
            Assert.That(payload.RootElement.GetProperty("notification_id").GetString(), Is.EqualTo(missed.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    [Test]
    public async Task Notifications_the_list_hides_are_not_pushed()
    {
        var lea = await _instance.CreateMemberAsync("lea");
        var max = await _instance.CreateMemberAsync("max");
        var ned = await _instance.CreateMemberAsync("ned");
        using var receiver = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = receiver.ExportParameters(false).Q;
        var auth = RandomNumberGenerator.GetBytes(16);
        await lea.PostJsonAsync("/api/v1/push/subscription", new
        {
            subscription = new { endpoint = $"{_pushUrl}/push/lea", keys = new { p256dh = B64([0x04, .. q.X!, .. q.Y!]), auth = B64(auth) } },
            data = new { alerts = new { follow = true } },
        });
        await lea.PostJsonAsync($"/api/v1/accounts/{max.AccountId}/mute", new { notifications = true });
        _received.Clear();

        // Max's follow is stored but hidden from lea's list (she muted him with his notifications); ned's is not.
        // The worker pushes in order, so the first push to arrive tells whether max's went out.
        await max.PostJsonAsync($"/api/v1/accounts/{lea.AccountId}/follow");
        await ned.PostJsonAsync($"/api/v1/accounts/{lea.AccountId}/follow");
        var first = await Api.EventuallyAsync(async () =>
        {
            await Task.Yield();
            // Only what was encrypted to lea's subscription (a push left over from another test does not decrypt).
            while (_received.TryDequeue(out var item))
            {
                try { return Decrypt(item.Body, receiver, auth); }
                catch (CryptographicException) { }
            }
            return null;
        }, "the push for ned's follow");
        using var payload = JsonDocument.Parse(first);
        Assert.That(payload.RootElement.GetProperty("title").GetString(), Does.Contain("ned"), "the muted account's follow was not pushed");
        var listed = await lea.GetJsonAsync("/api/v1/notifications");
        Assert.That(listed.EnumerateArray().Select(n => n.GetProperty("account").GetProperty("id").GetString()),
            Is.EqualTo(new[] { ned.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture) }), "the list hides max's follow too");
    }

    [Test]
    public async Task Malformed_subscriptions_are_refused()
    {
        var ida = await _instance.CreateMemberAsync("ida");
        var badKeys = await ida.Api.PostAsJsonAsync(new Uri("/api/v1/push/subscription", UriKind.Relative),
            new { subscription = new { endpoint = $"{_pushUrl}/push/ida", keys = new { p256dh = "short", auth = "x" } } });
        Assert.That((int)badKeys.StatusCode, Is.EqualTo(422));
        var badEndpoint = await ida.Api.PostAsJsonAsync(new Uri("/api/v1/push/subscription", UriKind.Relative),
            new { subscription = new { endpoint = "javascript:alert(1)", keys = new { p256dh = B64(new byte[65]), auth = B64(new byte[16]) } } });
        Assert.That((int)badEndpoint.StatusCode, Is.EqualTo(422));
    }
}
