using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// Pins down how Fedify 2.3.6 signs deliveries to a server it has not met: RFC 9421 first,
/// then draft-cavage after a 4xx/5xx, remembered per origin. A Fellows inbox that only
/// understands one format therefore still federates, at the cost of one failed request.
/// </summary>
[TestFixture]
[Category("Interop")]
[CancelAfter(120_000)]
public sealed class FedifyDoubleKnockTests
{
    [Test]
    public async Task Delivery_rejected_in_rfc9421_is_retried_in_cavage_and_remembered(CancellationToken ct)
    {
        await using var inbox = await CavageOnlyServer.StartAsync(ct);
        await using var peer = await FedifyPeer.StartAsync(ct);

        await peer.FollowAsync(inbox.ActorId, ct);
        await peer.UnfollowAsync(inbox.ActorId, ct);

        var posts = (await peer.GetOutboundAsync(ct))
            .Where(o => o.Method == "POST" && o.Url == inbox.InboxUri)
            .Select(o => (o.Signature, o.Status))
            .ToList();
        Assert.That(posts, Is.EqualTo(new[]
        {
            (HttpSignatureFormat.Rfc9421, (int?)401), // first knock
            (HttpSignatureFormat.Cavage, (int?)202),  // second knock: the Follow
            (HttpSignatureFormat.Cavage, (int?)202),  // the Undo goes straight to cavage
        }));
        Assert.That(inbox.Received.Select(r => r.Signature), Is.EqualTo(new[]
        {
            HttpSignatureFormat.Rfc9421, HttpSignatureFormat.Cavage, HttpSignatureFormat.Cavage,
        }));
    }

    /// <summary>
    /// A stand-in remote server whose inbox refuses RFC 9421 and accepts anything signed the
    /// cavage way, without verifying (this test is about which format arrives, not its validity).
    /// </summary>
    private sealed class CavageOnlyServer : IAsyncDisposable
    {
        private WebApplication app = null!;

        public string ActorId { get; private set; } = "";

        public string InboxUri => $"{ActorId}/inbox";

        public ConcurrentQueue<(HttpSignatureFormat Signature, string Body)> Received { get; } = new();

        public static async Task<CavageOnlyServer> StartAsync(CancellationToken ct)
        {
            var server = new CavageOnlyServer();
            (server.app, var origin) = await LoopbackApp.StartAsync(server.Map, ct);
            server.ActorId = $"{origin}/users/stub";
            return server;
        }

        private void Map(WebApplication app)
        {
            app.MapGet("/users/stub", (HttpRequest request) =>
            {
                var actor = $"{request.Scheme}://{request.Host}/users/stub";
                return Results.Text(
                    $$"""
                    {"@context":"https://www.w3.org/ns/activitystreams","id":"{{actor}}","type":"Person",
                     "preferredUsername":"stub","inbox":"{{actor}}/inbox"}
                    """,
                    "application/activity+json");
            });
            app.MapPost("/users/stub/inbox", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var body = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
                var format = request.Headers.ContainsKey("Signature-Input") ? HttpSignatureFormat.Rfc9421
                    : request.Headers.ContainsKey("Signature") ? HttpSignatureFormat.Cavage
                    : HttpSignatureFormat.None;
                Received.Enqueue((format, body));
                return format == HttpSignatureFormat.Cavage ? Results.StatusCode(202) : Results.StatusCode(401);
            });
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
