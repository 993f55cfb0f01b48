using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Fellows.Benchmarks.Load;

/// <summary>
/// A real Fellows server as a child process (the server executable built beside this program), with its own embedded
/// PostgreSQL under a temporary data folder. A separate process so its memory can be read on its own.
/// </summary>
sealed class ServerProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly StringBuilder _log = new();

    ServerProcess(Process process, int port, string dataDirectory, Dictionary<string, string> environment)
    {
        _process = process;
        Port = port;
        DataDirectory = dataDirectory;
        Environment = environment;
    }

    public int Port { get; }
    public string DataDirectory { get; }
    public Dictionary<string, string> Environment { get; }
    public string Domain => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);
    public string BaseUrl => "http://" + Domain;
    public int ProcessId => _process.Id;

    public static async Task<ServerProcess> StartAsync(CancellationToken ct, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var port = FreePort();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "fellows-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDirectory);
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Instance__Domain"] = $"127.0.0.1:{port}",
            ["Instance__Scheme"] = "http",
            ["Instance__AllowPrivateNetworks"] = "true",
            ["Instance__DataDirectory"] = dataDirectory,
            ["Instance__Name"] = "Fellows benchmark",
            ["Logging__LogLevel__Default"] = System.Environment.GetEnvironmentVariable("FELLOWS_BENCH_LOG_LEVEL") ?? "Warning",
        };
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>()) environment[key] = value;
        var process = Launch(environment, []);
        var server = new ServerProcess(process, port, dataDirectory, environment);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"The server exited with {process.ExitCode}:\n{server.Log}");
            if (deadline.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"The server did not come up:\n{server.Log}");
            try
            {
                using var response = await probe.GetAsync("/health", ct);
                if (response.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            await Task.Delay(250, ct);
        }
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            if (_log.Length < 200_000) _log.AppendLine(line);
        }
    }

    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    static Process Launch(Dictionary<string, string> environment, string[] args)
    {
        // The server's build output is copied beside this program by the project reference.
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Fellows.Server.exe" : "Fellows.Server");
        var start = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Fellows.Server.dll") } };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.WorkingDirectory = AppContext.BaseDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the Fellows server.");
    }

    /// <summary>Runs the server's admin command line on the same data folder (it finds the running cluster) and returns its output.</summary>
    public async Task<string> RunCliAsync(CancellationToken ct, params string[] args)
    {
        using var process = Launch(Environment, args);
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"fellows {string.Join(' ', args)} exited with {process.ExitCode}: {await error}");
        return await output;
    }

    /// <summary>Creates a member through the command line and returns an access token for them.</summary>
    public async Task<string> CreateMemberAsync(string username, CancellationToken ct)
    {
        await RunCliAsync(ct, "accounts", "create", username, "--email", $"{username}@bench.test", "--password", "benchmark-password");
        return (await RunCliAsync(ct, "tokens", "create", username)).Trim().Split('\n')[^1].Trim();
    }

    /// <summary>Resident set size now, and its high-water mark over the process's life, in bytes (Linux /proc).</summary>
    public (long Rss, long Peak) Memory() => ReadStatus(_process.Id);

    static (long Rss, long Peak) ReadStatus(int pid)
    {
        long rss = 0, peak = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line) * 1024;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) * 1024;
            }
        }
        catch (IOException) { }
        return (rss, peak);
    }

    static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>
    /// Proportional set size of the embedded PostgreSQL (postmaster and its children), in bytes: PSS splits shared
    /// buffers fairly between the processes mapping them, so the sum is not inflated the way summed RSS would be.
    /// </summary>
    public long PostgresPss()
    {
        try
        {
            var pidFile = Path.Combine(DataDirectory, "postgres", "postmaster.pid");
            using var stream = new FileStream(pidFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var postmaster = int.Parse(reader.ReadLine()!.Trim(), CultureInfo.InvariantCulture);
            long total = Pss(postmaster);
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == postmaster) continue;
                string stat;
                try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                // Fields after the parenthesised command name: state, ppid, ...
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && fields[1] == postmaster.ToString(CultureInfo.InvariantCulture)) total += Pss(pid);
            }
            return total;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>CPU time (user + system) the server process has used so far.</summary>
    public TimeSpan ServerCpu() => CpuOf(_process.Id, includeReapedChildren: false);

    /// <summary>
    /// CPU time used so far by the embedded PostgreSQL: the postmaster, its live children, and the children it has
    /// already reaped (backends of closed connections).
    /// </summary>
    public TimeSpan PostgresCpu()
    {
        var postmaster = Postmaster();
        if (postmaster is null) return TimeSpan.Zero;
        var total = CpuOf(postmaster.Value, includeReapedChildren: true);
        foreach (var pid in ChildrenOf(postmaster.Value)) total += CpuOf(pid, includeReapedChildren: false);
        return total;
    }

    int? Postmaster()
    {
        try
        {
            using var stream = new FileStream(Path.Combine(DataDirectory, "postgres", "postmaster.pid"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return int.Parse(reader.ReadLine()!.Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static IEnumerable<int> ChildrenOf(int parent)
    {
        var parentText = parent.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == parent) continue;
            var fields = StatFields(pid);
            if (fields is { Length: > 1 } && fields[1] == parentText) yield return pid;
        }
    }

    /// <summary>The fields of /proc/PID/stat after the parenthesised command name (state, ppid, ...), or null.</summary>
    static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static TimeSpan CpuOf(int pid, bool includeReapedChildren)
    {
        // utime, stime, cutime, cstime are stat fields 14-17, i.e. 11-14 after the command name; in clock ticks (USER_HZ, 100 on Linux).
        var fields = StatFields(pid);
        if (fields is null || fields.Length < 15) return TimeSpan.Zero;
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (includeReapedChildren) ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    static long Pss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
                if (line.StartsWith("Pss:", StringComparison.Ordinal)) return Kilobytes(line) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the server as an operator would (SIGTERM), so it stops its embedded PostgreSQL, then removes the data folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])))
                if (kill is not null) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
