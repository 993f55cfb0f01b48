using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fellows.Server.Tests.Delivery;

/// <summary>
/// A real HTTP server on a loopback port that stands in for remote inboxes: it records every POST per path and
/// answers what the test tells it to (202 by default, or a status with an optional Retry-After, or "down": the
/// connection is dropped without an answer).
/// </summary>
public sealed class CountingReceiver : IAsyncDisposable
{
    public sealed record Answer(int Status, TimeSpan? RetryAfter = null, bool Down = false)
    {
        public static readonly Answer Accept = new(202);
        public static readonly Answer Unreachable = new(0, Down: true);
    }

    public sealed record Received(string Path, string? ActivityId, bool Accepted);

    WebApplication _app = null!;
    readonly ConcurrentDictionary<string, Answer> _byPath = new(StringComparer.Ordinal);
    readonly ConcurrentQueue<Received> _received = new();

    void Map(WebApplication app) =>
        app.MapPost("/{**path}", async (HttpContext http, string path) =>
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body);
            var id = doc.RootElement.TryGetProperty("id", out var v) ? v.GetString() : null;
            var answer = _byPath.TryGetValue("/" + path, out var a) ? a : Default;
            _received.Enqueue(new Received("/" + path, id, answer.Status is >= 200 and < 300 && !answer.Down));
            if (answer.Down)
            {
                http.Abort();
                return;
            }
            if (answer.RetryAfter is { } after) http.Response.Headers.RetryAfter = ((int)after.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            http.Response.StatusCode = answer.Status;
        });

    public string BaseUrl { get; private set; } = "";

    /// <summary>The host as the queue spells it (<c>127.0.0.1:port</c>).</summary>
    public string Host => new Uri(BaseUrl).Authority;

    /// <summary>What every path answers unless told otherwise.</summary>
    public Answer Default { get; set; } = Answer.Accept;

    public static async Task<CountingReceiver> StartAsync()
    {
        var receiver = new CountingReceiver();
        (receiver._app, receiver.BaseUrl) = await LoopbackApp.StartAsync(receiver.Map);
        return receiver;
    }

    public string Inbox(string path) => $"{BaseUrl}/{path.TrimStart('/')}";

    public void AnswerFor(string path, Answer answer) => _byPath["/" + path.TrimStart('/')] = answer;

    public IReadOnlyList<Received> All => [.. _received];

    public IReadOnlyList<Received> Accepted => [.. _received.Where(r => r.Accepted)];

    public int AttemptsAt(string path) => _received.Count(r => r.Path == "/" + path.TrimStart('/'));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
