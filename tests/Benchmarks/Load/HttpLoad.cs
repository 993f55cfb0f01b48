using System.Diagnostics;
using System.Net;

namespace Fellows.Benchmarks.Load;

/// <summary>What one load phase achieved.</summary>
sealed record LoadResult(string Name, long Ok, long Failed, TimeSpan Elapsed, IReadOnlyDictionary<int, long> Statuses)
{
    /// <summary>The first unexpected answer, for the log: status and the start of its body.</summary>
    public string? FirstFailure { get; init; }

    /// <summary>CPU time the server process spent during the phase.</summary>
    public TimeSpan ServerCpu { get; init; }

    /// <summary>CPU time the embedded PostgreSQL spent during the phase.</summary>
    public TimeSpan PostgresCpu { get; init; }

    /// <summary>CPU time this program (the load generator and the simulated remote hosts) spent during the phase.</summary>
    public TimeSpan HarnessCpu { get; init; }

    /// <summary>Median and 99th percentile latency of the expected answers, in ms (timed phases only).</summary>
    public double P50 { get; init; } = double.NaN;

    public double P99 { get; init; } = double.NaN;

    public double PerSecond => Ok / Elapsed.TotalSeconds;
}

/// <summary>Closed-loop load: a fixed number of workers, each sending its next request as soon as the last one is answered.</summary>
static class HttpLoad
{
    public static HttpClient CreateClient(string baseUrl, int concurrency) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            AllowAutoRedirect = false,
        })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>
    /// Sends requests made by <paramref name="make"/> for <paramref name="duration"/> after a one-second warm-up that is
    /// not counted; <paramref name="measuring"/> is called when the warm-up ends (to start CPU meters there).
    /// </summary>
    public static async Task<LoadResult> RunForAsync(string name, HttpClient client, Func<HttpRequestMessage> make, HttpStatusCode expected,
        TimeSpan duration, int concurrency, CancellationToken ct, Action? measuring = null)
    {
        await RunCoreAsync(client, make, expected, TimeSpan.FromSeconds(1), concurrency, ct);
        measuring?.Invoke();
        var (latencies, failed, elapsed, statuses, failure) = await RunCoreAsync(client, make, expected, duration, concurrency, ct);
        latencies.Sort();
        double Percentile(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        return new LoadResult(name, latencies.Count, failed, elapsed, statuses) { FirstFailure = failure, P50 = Percentile(0.5), P99 = Percentile(0.99) };
    }

    /// <summary>The latencies (ms) of the expected answers, and the count of the others.</summary>
    static async Task<(List<double>, long, TimeSpan, IReadOnlyDictionary<int, long>, string?)> RunCoreAsync(HttpClient client, Func<HttpRequestMessage> make,
        HttpStatusCode expected, TimeSpan duration, int concurrency, CancellationToken ct)
    {
        long failed = 0;
        var all = new List<double>();
        var note = new FailureNote();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await Task.Yield();
            var mine = new List<double>();
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                var status = await SendAsync(client, make(), expected, note, ct);
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (status == (int)expected) mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                else Interlocked.Increment(ref failed);
            }
            lock (all) all.AddRange(mine);
        }).ToList();
        await Task.WhenAll(workers);
        return (all, failed, clock.Elapsed, statuses, note.Text);
    }

    /// <summary>Sends every request once (each is pre-signed, so none can be repeated) with <paramref name="concurrency"/> in flight.</summary>
    public static async Task<LoadResult> SendAllAsync(string name, HttpClient client, IReadOnlyList<HttpRequestMessage> requests, HttpStatusCode expected,
        int concurrency, CancellationToken ct)
    {
        long ok = 0, failed = 0;
        var next = -1;
        var note = new FailureNote();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await Task.Yield();
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests.Count)
            {
                var status = await SendAsync(client, requests[i], expected, note, ct);
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (status == (int)expected) Interlocked.Increment(ref ok);
                else Interlocked.Increment(ref failed);
            }
        }).ToList();
        await Task.WhenAll(workers);
        return new LoadResult(name, ok, failed, clock.Elapsed, statuses) { FirstFailure = note.Text };
    }

    static async Task<int> SendAsync(HttpClient client, HttpRequestMessage request, HttpStatusCode expected, FailureNote note, CancellationToken ct)
    {
        try
        {
            using (request)
            using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct))
            {
                if (response.StatusCode != expected && note.Text is null)
                {
                    var body = await response.Content.ReadAsStringAsync(ct);
                    note.Text = $"{(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}";
                }
                return (int)response.StatusCode;
            }
        }
        catch (HttpRequestException e)
        {
            note.Text ??= e.Message;
            return 0;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return -1;
        }
    }

    sealed class FailureNote
    {
        public string? Text { get; set; }
    }
}
