using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fellows.Federation.Tests.Http;

/// <summary>What a <see cref="LoopbackServer"/> received.</summary>
internal sealed record RecordedRequest(
    string Method,
    string Path,
    string? TestScheme,
    string? Accept,
    string? ContentType,
    string? UserAgent,
    byte[] Body);

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a random port, answering from a table of path handlers
/// that tests fill in. Unmapped paths answer 404. Every request is recorded.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _routes = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public Uri BaseUri { get; private set; } = null!;

    public int Port => BaseUri.Port;

    /// <summary>As <see cref="ActivityPubClient.HostKey"/> names this server, e.g. <c>127.0.0.1:5123</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public static async Task<LoopbackServer> StartAsync()
    {
        var server = new LoopbackServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(server.DispatchAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUri = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        server._app = app;
        return server;
    }

    public Uri Url(string path) => new(BaseUri, path);

    public void Map(string path, Func<HttpContext, Task> handler) => _routes[path] = handler;

    /// <summary>Serves <paramref name="json"/> at <paramref name="path"/> with <paramref name="contentType"/>.</summary>
    public void MapJson(string path, string json, string contentType = "application/activity+json") =>
        Map(path, ctx =>
        {
            ctx.Response.ContentType = contentType;
            return ctx.Response.WriteAsync(json);
        });

    /// <summary>Serves a minimal object whose id is <paramref name="id"/>.</summary>
    public void MapObject(string path, string id, string contentType = "application/activity+json") =>
        MapJson(path, $$"""{"@context":"https://www.w3.org/ns/activitystreams","id":"{{id}}","type":"Note"}""", contentType);

    public void MapStatus(string path, int status, Action<HttpResponse>? configure = null) =>
        Map(path, ctx =>
        {
            ctx.Response.StatusCode = status;
            configure?.Invoke(ctx.Response);
            return Task.CompletedTask;
        });

    public RecordedRequest[] RequestsTo(string path) => Requests.Where(r => r.Path == path).ToArray();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private async Task DispatchAsync(HttpContext ctx)
    {
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body);
        var headers = ctx.Request.Headers;
        Requests.Enqueue(new RecordedRequest(
            ctx.Request.Method,
            ctx.Request.Path.Value ?? "",
            headers["X-Test-Scheme"].FirstOrDefault(),
            headers.Accept.FirstOrDefault(),
            headers.ContentType.FirstOrDefault(),
            headers.UserAgent.FirstOrDefault(),
            body.ToArray()));

        if (_routes.TryGetValue(ctx.Request.Path.Value ?? "", out var handler))
        {
            await handler(ctx);
        }
        else
        {
            ctx.Response.StatusCode = 404;
        }
    }

    /// <summary>A loopback port nothing listens on, for "connection refused".</summary>
    public static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>
/// Stands in for the real signer: marks the request with the scheme so the test server can
/// accept or refuse by scheme, and records what it was asked to sign.
/// </summary>
internal sealed class TestSigner : IRequestSigner
{
    public ConcurrentQueue<(string Method, SignatureScheme Scheme, int BodyLength)> Signed { get; } = new();

    public void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, SignatureScheme scheme)
    {
        request.Headers.Add("X-Test-Scheme", scheme.ToString());
        Signed.Enqueue((request.Method.Method, scheme, body.Length));
    }
}

/// <summary>Builds clients the way the server will, with test-friendly timeouts.</summary>
internal static class TestClients
{
    public static FederationHttpOptions Options(Action<FederationHttpOptions>? configure = null)
    {
        var options = new FederationHttpOptions
        {
            Domain = "fellows.test",
            Version = "1.2.3",
            AllowPrivateNetworks = true,
            FetchTimeout = TimeSpan.FromSeconds(5),
            PostTimeout = TimeSpan.FromSeconds(5),
            FetchRetries = 1,
            FetchRetryDelay = TimeSpan.FromMilliseconds(10),
        };
        configure?.Invoke(options);
        return options;
    }

    public static (ActivityPubClient Client, HttpClient Http, InMemorySignatureSchemePreferences Schemes) Create(
        Action<FederationHttpOptions>? configure = null)
    {
        var options = Options(configure);
        var http = FederationHttp.CreateClient(options);
        var schemes = new InMemorySignatureSchemePreferences();
        return (new ActivityPubClient(http, options, TimeProvider.System, schemes), http, schemes);
    }
}
