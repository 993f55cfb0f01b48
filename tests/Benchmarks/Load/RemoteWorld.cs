using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Signatures;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fellows.Benchmarks.Load;

/// <summary>
/// The rest of the fediverse, on loopback: one Kestrel app listening on many ports, each port a distinct remote host
/// (<c>127.0.0.1:port</c>) with any number of actors (<c>/users/{name}</c>, with a shared inbox at <c>/inbox</c>).
/// It serves actor documents with real keys, so the server under test verifies real signatures and fetches each key
/// once; and it receives the server's deliveries, verifying the signature of the ones a fan-out round waits for.
/// </summary>
/// <remarks>
/// A few key pairs are shared between many actors (each actor has its own key id), because generating hundreds of
/// RSA keys would take longer than the benchmark. The server imports and caches each key id separately all the same.
/// </remarks>
sealed class RemoteWorld : IAsyncDisposable
{
    const int KeyPairs = 8;
    readonly WebApplication _app;
    readonly (ActorKeyPair Rsa, ActorKeyPair Ed, string RsaPem, string Multibase, string RsaPrivatePem, byte[] EdSeed)[] _pairs;
    readonly ConcurrentDictionary<string, SigningKey> _signers = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int> _receivedByType = new(StringComparer.Ordinal);
    FanOutWatch? _watch;

    RemoteWorld(WebApplication app, (ActorKeyPair, ActorKeyPair, string, string, string, byte[])[] pairs)
    {
        _app = app;
        _pairs = pairs;
    }

    /// <summary>The listening ports, one per remote host.</summary>
    public IReadOnlyList<int> Ports { get; private set; } = [];

    public static async Task<RemoteWorld> StartAsync(int hosts)
    {
        var pairs = new (ActorKeyPair, ActorKeyPair, string, string, string, byte[])[KeyPairs];
        Parallel.For(0, KeyPairs, i =>
        {
            var rsa = ActorKeyPair.GenerateRsa();
            var ed = ActorKeyPair.GenerateEd25519();
            pairs[i] = (rsa, ed, rsa.ExportRsaPublicKeyPem(), ed.ExportPublicKeyMultibase(), rsa.ExportRsaPrivateKeyPem(), ed.ExportEd25519Seed());
        });

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            for (var i = 0; i < hosts; i++) k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var world = new RemoteWorld(app, pairs);
        app.MapGet("/users/{name}", (Delegate)world.ActorDocument);
        app.MapPost("/{**path}", (Delegate)world.ReceiveAsync);
        await app.StartAsync();
        world.Ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).OrderBy(p => p).ToList();
        return world;
    }

    public static string Base(int port) => "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

    public static string ActorId(int port, string name) => $"{Base(port)}/users/{name}";

    static int PairIndex(int port, string name) => (port + name.Sum(c => c)) % KeyPairs;

    /// <summary>The actor's RSA key (key id <c>#main-key</c>, the <c>publicKey</c> Mastodon would publish).</summary>
    public SigningKey RsaKey(int port, string name)
    {
        var keyId = ActorId(port, name) + "#main-key";
        return _signers.GetOrAdd(keyId, id => SigningKey.FromRsaPem(id, _pairs[PairIndex(port, name)].RsaPrivatePem));
    }

    /// <summary>The actor's Ed25519 key (key id <c>#ed25519-key</c>, a FEP-521a <c>assertionMethod</c> Multikey).</summary>
    public SigningKey Ed25519Key(int port, string name)
    {
        var keyId = ActorId(port, name) + "#ed25519-key";
        return _signers.GetOrAdd(keyId, id => SigningKey.FromEd25519Seed(id, _pairs[PairIndex(port, name)].EdSeed));
    }

    IResult ActorDocument(HttpContext http, string name)
    {
        var port = http.Connection.LocalPort;
        var id = ActorId(port, name);
        var pair = _pairs[PairIndex(port, name)];
        var document = new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", "https://w3id.org/security/multikey/v1"),
            ["id"] = id,
            ["type"] = "Person",
            ["preferredUsername"] = name,
            ["name"] = "Remote " + name,
            ["inbox"] = id + "/inbox",
            ["outbox"] = id + "/outbox",
            ["followers"] = id + "/followers",
            ["following"] = id + "/following",
            ["endpoints"] = new JsonObject { ["sharedInbox"] = Base(port) + "/inbox" },
            ["publicKey"] = new JsonObject { ["id"] = id + "#main-key", ["owner"] = id, ["publicKeyPem"] = pair.RsaPem },
            ["assertionMethod"] = new JsonArray(new JsonObject
            {
                ["id"] = id + "#ed25519-key", ["type"] = "Multikey", ["controller"] = id, ["publicKeyMultibase"] = pair.Multibase,
            }),
        };
        return Results.Text(document.ToJsonString(), "application/activity+json");
    }

    async Task<IResult> ReceiveAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        string? type = null;
        string? content = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (root.TryGetProperty("object", out var o) && o.ValueKind == JsonValueKind.Object
                && o.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                content = c.GetString();
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }
        _receivedByType.AddOrUpdate(type ?? "?", 1, (_, n) => n + 1);
        Received?.Invoke(http.Connection.LocalPort, type, body);

        // A delivery the watch refuses gets a 401, as a real server would answer, so the sender may knock again.
        if (_watch is { } watch && type == "Create" && content is not null && content.Contains(watch.Marker, StringComparison.Ordinal)
            && !watch.Record(http, body))
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    /// <summary>Called with the host's port, the activity type and the body of every delivery, as it arrives.</summary>
    public Action<int, string?, byte[]>? Received { get; set; }

    /// <summary>How many deliveries of each activity type arrived, over the whole run.</summary>
    public IReadOnlyDictionary<string, int> ReceivedByType => _receivedByType;

    /// <summary>Starts watching for Creates whose content carries <paramref name="marker"/>, signed by <paramref name="key"/>.</summary>
    public FanOutWatch Watch(string marker, VerificationKey key, int expectedHosts)
    {
        var watch = new FanOutWatch(marker, key, expectedHosts);
        _watch = watch;
        return watch;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var signer in _signers.Values) signer.Dispose();
        foreach (var pair in _pairs)
        {
            pair.Rsa.Dispose();
            pair.Ed.Dispose();
        }
    }
}

/// <summary>
/// One fan-out round: the first verified delivery per host, timestamped on arrival. A delivery counts only if its
/// signature (either format) verifies with the member's published key over the request as received.
/// </summary>
sealed class FanOutWatch(string marker, VerificationKey key, int expectedHosts)
{
    readonly ConcurrentDictionary<int, long> _arrived = new();
    readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _rejected;

    public string Marker => marker;
    public Task Done => _done.Task;
    public int Hosts => _arrived.Count;
    public int Rejected => Volatile.Read(ref _rejected);
    public ConcurrentDictionary<string, int> Schemes { get; } = new(StringComparer.Ordinal);

    /// <summary>The arrival time (Stopwatch ticks) of the last host's first verified delivery.</summary>
    public long LastArrival => _arrived.Values.DefaultIfEmpty(0).Max();

    public bool Record(HttpContext http, byte[] body)
    {
        var port = http.Connection.LocalPort;
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path.Value ?? "/";
        var headers = http.Request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()));
        var request = IncomingRequest.Create(http.Request.Method, new Uri(RemoteWorld.Base(port) + raw), headers, body) with { RawPathAndQuery = raw };
        var parsed = SignatureParser.TryParse(request);
        if (!parsed.Success || parsed.Signature!.KeyId != key.KeyId
            || !SignatureVerifier.Verify(parsed.Signature, request, key, DateTimeOffset.UtcNow).IsValid)
        {
            Interlocked.Increment(ref _rejected);
            return false;
        }
        Schemes.AddOrUpdate(parsed.Signature.Scheme.ToString(), 1, (_, n) => n + 1);
        if (_arrived.TryAdd(port, Stopwatch.GetTimestamp()) && _arrived.Count >= expectedHosts)
            _done.TrySetResult();
        return true;
    }
}
