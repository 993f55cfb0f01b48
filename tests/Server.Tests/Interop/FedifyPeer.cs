using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// An independent ActivityPub server built on Fedify (tests/interop/fedify-peer), run as a
/// child <c>node</c> process on loopback. Tests drive it through its /_control/ API and read
/// back what it received, so Fellows is checked against another implementation rather than
/// against our own reading of the specs.
/// </summary>
public sealed class FedifyPeer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly Process process;
    private readonly HttpClient http;
    private readonly StringBuilder output;

    private FedifyPeer(int port, Process process, StringBuilder output)
    {
        Port = port;
        this.process = process;
        this.output = output;
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public int Port { get; }

    /// <summary><c>http://127.0.0.1:N/</c>; the peer's origin.</summary>
    public Uri BaseUri { get; }

    /// <summary>The actor id, <c>http://127.0.0.1:N/users/peer</c>.</summary>
    public string ActorId => $"http://127.0.0.1:{Port}/users/peer";

    /// <summary>The WebFinger handle without a leading @, <c>peer@127.0.0.1:N</c>.</summary>
    public string Handle => $"peer@127.0.0.1:{Port}";

    public string InboxUri => $"{ActorId}/inbox";

    public string SharedInboxUri => $"http://127.0.0.1:{Port}/inbox";

    public string FollowersUri => $"{ActorId}/followers";

    /// <summary>Everything the node process wrote so far (stderr and stdout), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static Task<FedifyPeer> StartAsync(CancellationToken ct) => StartAsync(new FedifyPeerOptions(), ct);

    public static async Task<FedifyPeer> StartAsync(FedifyPeerOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var peerDirectory = await InstalledDirectoryAsync(ct);

        // The free port is found by binding and releasing it, so another process can
        // take it in between; a peer that dies on start is retried on a new port.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FindFreePort();
            var peer = Launch(peerDirectory, port, options);
            try
            {
                await peer.WaitUntilHealthyAsync(options.StartTimeout, ct);
                return peer;
            }
            catch (FedifyPeerException e) when (peer.process.HasExited)
            {
                last = e;
                await peer.DisposeAsync();
            }
            catch
            {
                await peer.DisposeAsync();
                throw;
            }
        }

        throw new FedifyPeerException("The Fedify peer did not start.", last);
    }

    public Task<FollowResult> FollowAsync(string target, CancellationToken ct) =>
        ControlPostAsync<FollowResult>("follow", new { target }, ct);

    /// <returns>The id of the Undo(Follow).</returns>
    public async Task<string> UnfollowAsync(string target, CancellationToken ct) =>
        (await ControlPostAsync<ActivityResult>("unfollow", new { target }, ct)).Id;

    /// <summary>A public note (to Public, cc followers) delivered to the peer's followers.</summary>
    public Task<NoteResult> PostAsync(string content, CancellationToken ct) => PostAsync(content, null, ct);

    /// <summary>
    /// A public note (to Public and those mentioned, cc followers) delivered to the peer's followers
    /// and to every actor in <paramref name="mention"/> (actor ids or handles), each tagged as a Mention.
    /// </summary>
    public Task<NoteResult> PostAsync(string content, IReadOnlyList<string>? mention, CancellationToken ct) =>
        ControlPostAsync<NoteResult>("post", new { content, mention }, ct);

    /// <summary>
    /// A public reply to <paramref name="inReplyTo"/> that mentions its author and is delivered to the author's inbox.
    /// When <paramref name="to"/> (the author's actor id or handle) is null the peer reads it from the note's attributedTo.
    /// </summary>
    public Task<NoteResult> ReplyAsync(string inReplyTo, string content, string? to, CancellationToken ct) =>
        ControlPostAsync<NoteResult>("reply", new { inReplyTo, content, to }, ct);

    /// <summary>The Question at <paramref name="id"/> as Fedify reads it: its type, option names, end and close times, voters.</summary>
    public Task<QuestionView> LookupQuestionAsync(string id, CancellationToken ct) =>
        ControlPostAsync<QuestionView>("lookup-question", new { id }, ct);

    /// <summary>
    /// A poll vote (FEP-9967: a Note named after the option, in reply to the question) to the question's author.
    /// With <paramref name="attributedTo"/> the vote claims another author: a forgery.
    /// </summary>
    public Task<NoteResult> VoteAsync(string question, string choice, string? attributedTo, CancellationToken ct) =>
        ControlPostAsync<NoteResult>("vote", new { question, choice, attributedTo }, ct);

    /// <summary>Update(Note) of one of the peer's own notes, delivered to its original audience.</summary>
    public async Task<string> UpdateNoteAsync(string noteId, string content, CancellationToken ct) =>
        (await ControlPostAsync<ActivityResult>("update", new { note = noteId, content }, ct)).Id;

    /// <summary>Delete(Tombstone) of one of the peer's own notes, delivered to its original audience.</summary>
    public async Task<string> DeleteNoteAsync(string noteId, CancellationToken ct) =>
        (await ControlPostAsync<ActivityResult>("delete", new { note = noteId }, ct)).Id;

    public async Task<string> LikeAsync(string objectId, string? to, CancellationToken ct) =>
        (await ControlPostAsync<ActivityResult>("like", new { @object = objectId, to }, ct)).Id;

    public async Task<string> AnnounceAsync(string objectId, string? to, CancellationToken ct) =>
        (await ControlPostAsync<ActivityResult>("announce", new { @object = objectId, to }, ct)).Id;

    /// <summary>Undo of any activity the peer sent (a Like, an Announce, a Follow), sent to the same recipients.</summary>
    public async Task<string> UndoAsync(string activityId, CancellationToken ct) =>
        (await ControlPostAsync<ActivityResult>("undo", new { activity = activityId }, ct)).Id;

    public Task<IReadOnlyList<ReceivedRequest>> GetReceivedAsync(CancellationToken ct) =>
        ControlGetAsync<IReadOnlyList<ReceivedRequest>>("received", ct);

    public async Task ClearReceivedAsync(CancellationToken ct)
    {
        using var response = await http.DeleteAsync(new Uri("_control/received", UriKind.Relative), ct);
        await EnsureSuccessAsync(response, ct);
    }

    /// <summary>Every HTTP request the peer made, in order: deliveries, key and actor fetches, WebFinger.</summary>
    public Task<IReadOnlyList<OutboundRequest>> GetOutboundAsync(CancellationToken ct) =>
        ControlGetAsync<IReadOnlyList<OutboundRequest>>("outbound", ct);

    /// <summary>Actor ids following the peer.</summary>
    public Task<IReadOnlyList<string>> GetFollowersAsync(CancellationToken ct) =>
        ControlGetAsync<IReadOnlyList<string>>("followers", ct);

    public Task<IReadOnlyList<FollowingEntry>> GetFollowingAsync(CancellationToken ct) =>
        ControlGetAsync<IReadOnlyList<FollowingEntry>>("following", ct);

    /// <summary>
    /// Polls <see cref="GetReceivedAsync"/> until a request matches; deliveries are asynchronous
    /// on most servers, so tests wait for them rather than assert at once.
    /// </summary>
    public async Task<ReceivedRequest> WaitForReceivedAsync(
        Func<ReceivedRequest, bool> predicate, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<ReceivedRequest> received;
        while (true)
        {
            received = await GetReceivedAsync(ct);
            var match = received.FirstOrDefault(predicate);
            if (match is not null)
            {
                return match;
            }

            if (DateTime.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(100, ct);
        }

        var seen = string.Join(Environment.NewLine, received.Select(r => "  " + r));
        throw new TimeoutException(
            $"The Fedify peer at {BaseUri} received no matching request within {timeout}. It received:{Environment.NewLine}{seen}{Environment.NewLine}Peer log:{Environment.NewLine}{Log}");
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await process.WaitForExitAsync(cts.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (OperationCanceledException)
        {
            // Killed but not reaped in time; nothing more a test can do.
        }

        process.Dispose();
    }

    private async Task<T> ControlPostAsync<T>(string route, object body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(new Uri($"_control/{route}", UriKind.Relative), body, Json, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
            ?? throw new FedifyPeerException($"The Fedify peer answered {route} with null.");
    }

    private async Task<T> ControlGetAsync<T>(string route, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri($"_control/{route}", UriKind.Relative), ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
            ?? throw new FedifyPeerException($"The Fedify peer answered {route} with null.");
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(ct);
        throw new FedifyPeerException(
            $"The Fedify peer answered {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} with {(int)response.StatusCode}: {body}{Environment.NewLine}Peer log:{Environment.NewLine}{Log}",
            response.StatusCode);
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new FedifyPeerException($"The Fedify peer exited with code {process.ExitCode} before it was ready:{Environment.NewLine}{Log}");
            }

            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await http.GetAsync(new Uri("_control/health", UriKind.Relative), attempt.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // That attempt timed out; try again.
            }

            await Task.Delay(100, ct);
        }

        throw new FedifyPeerException($"The Fedify peer was not ready within {timeout}:{Environment.NewLine}{Log}");
    }

    private static FedifyPeer Launch(string peerDirectory, int port, FedifyPeerOptions options)
    {
        var startInfo = new ProcessStartInfo(NodeProjects.NodeExecutable(peerDirectory))
        {
            WorkingDirectory = peerDirectory,
            // Never written to: the peer exits when it reads end-of-file, i.e. when this process dies.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("peer.mjs");
        startInfo.ArgumentList.Add("--port");
        startInfo.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        startInfo.ArgumentList.Add("--first-knock");
        startInfo.ArgumentList.Add(options.FirstKnock == HttpSignatureFormat.Cavage ? "cavage" : "rfc9421");
        startInfo.ArgumentList.Add("--log-level");
        startInfo.ArgumentList.Add(options.LogLevel);
        startInfo.ArgumentList.Add("--exit-with-parent");
        startInfo.Environment["NO_COLOR"] = "1";

        var output = new StringBuilder();
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new FedifyPeerException("Could not start `node`; Node.js 20 or newer must be on PATH.", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new FedifyPeer(port, process, output);
    }

    /// <summary>The peer's folder (tests/interop/fedify-peer) with its npm packages installed, for other Node tools there.</summary>
    internal static Task<string> InstalledDirectoryAsync(CancellationToken ct) => NodeProjects.InstalledAsync("fedify-peer", ct);

    private static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record ActivityResult(string Id);
}

public sealed record FedifyPeerOptions
{
    /// <summary>
    /// The signature format Fedify tries first with a server it has not talked to yet; it
    /// switches to the other one (double-knocking) when the first answer is 400 or above.
    /// </summary>
    public HttpSignatureFormat FirstKnock { get; init; } = HttpSignatureFormat.Rfc9421;

    /// <summary>Lowest level of Fedify's own log lines: debug, info, warning or error.</summary>
    public string LogLevel { get; init; } = "warning";

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>How an inbound or outbound request was signed, as the peer saw its headers.</summary>
public enum HttpSignatureFormat
{
    /// <summary>No Signature header.</summary>
    None,

    /// <summary>draft-cavage-http-signatures: a Signature header without Signature-Input.</summary>
    Cavage,

    /// <summary>RFC 9421 HTTP Message Signatures: a Signature-Input header.</summary>
    Rfc9421,
}

/// <summary>One request that reached one of the peer's inboxes, recorded before Fedify handled it.</summary>
public sealed record ReceivedRequest
{
    public required int Seq { get; init; }

    public required DateTimeOffset At { get; init; }

    public required string Method { get; init; }

    /// <summary><c>/users/peer/inbox</c> or the shared <c>/inbox</c>.</summary>
    public required string Path { get; init; }

    public required HttpSignatureFormat Signature { get; init; }

    /// <summary>keyId from the Signature (cavage) or Signature-Input (RFC 9421) header.</summary>
    public string? KeyId { get; init; }

    public string? ContentType { get; init; }

    /// <summary>The status Fedify answered with; null while still being handled.</summary>
    public int? Status { get; init; }

    /// <summary>True once an inbox listener ran, which Fedify allows only after verifying the signature.</summary>
    public bool Verified { get; init; }

    /// <summary>noSignature, invalidSignature or keyFetchError when Fedify rejected it.</summary>
    public string? UnverifiedReason { get; init; }

    public string? Error { get; init; }

    /// <summary>Parsed by Fedify once verified; read from the raw JSON before that.</summary>
    public ReceivedActivity? Activity { get; init; }

    /// <summary>The JSON body as sent, for snapshot-style assertions.</summary>
    public JsonElement? Body { get; init; }

    public override string ToString() =>
        $"#{Seq} {Method} {Path} sig={Signature} status={Status} verified={Verified} {Activity?.Type} {Activity?.Id} object={Activity?.ObjectType} {Activity?.ObjectId}";
}

public sealed record ReceivedActivity
{
    public string? Type { get; init; }

    public string? Id { get; init; }

    public string? Actor { get; init; }

    public string? ObjectId { get; init; }

    public string? ObjectType { get; init; }

    /// <summary>HTML content when the object is an embedded Note.</summary>
    public string? Content { get; init; }

    public string? InReplyTo { get; init; }
}

public sealed record OutboundRequest
{
    public required int Seq { get; init; }

    public required DateTimeOffset At { get; init; }

    public required string Method { get; init; }

    public required string Url { get; init; }

    public required HttpSignatureFormat Signature { get; init; }

    public string? KeyId { get; init; }

    public int? Status { get; init; }

    public string? Error { get; init; }
}

public sealed record FollowResult(string Id, string Actor);

public sealed record NoteResult(string Id, string Activity);

/// <summary>A Question as the Fedify peer read it.</summary>
public sealed record QuestionView(string? Id, string? Type, string? AttributedTo, IReadOnlyList<string?> Options, string? EndTime, string? Closed, int? VotersCount);

/// <summary>A remote actor the peer follows; State is pending, accepted or rejected.</summary>
public sealed record FollowingEntry(string Actor, string FollowId, string State);

public sealed class FedifyPeerException : Exception
{
    public FedifyPeerException()
    {
    }

    public FedifyPeerException(string message)
        : base(message)
    {
    }

    public FedifyPeerException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public FedifyPeerException(string message, HttpStatusCode statusCode)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public HttpStatusCode? StatusCode { get; }
}
