using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fellows.Server.Database;

/// <summary>
/// The zero-configuration database: a PostgreSQL cluster created and run under the data folder, listening
/// only on a Unix socket, so nobody has to set up a database to try Fellows. A second process on the same
/// data folder (the admin command line while the server runs) finds the running cluster through
/// <c>postmaster.pid</c> and uses it instead of starting another.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    const string DatabaseName = "fellows";
    const string SuperUser = "fellows";

    readonly string _clusterDir;
    readonly string _socketDir;
    readonly string _passwordFile;
    readonly string _binDir;
    readonly Action<string> _log;
    bool _startedByUs;

    EmbeddedPostgres(string dataDirectory, string binDir, Action<string> log)
    {
        _clusterDir = Path.Combine(dataDirectory, "postgres");
        _passwordFile = Path.Combine(dataDirectory, "postgres.password");
        _binDir = binDir;
        _log = log;
        // Unix socket paths are limited to about 107 bytes; fall back to a short per-folder path in /tmp.
        var preferred = Path.Combine(dataDirectory, "run");
        _socketDir = preferred.Length < 90
            ? preferred
            : Path.Combine(Path.GetTempPath(), "fellows-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDirectory)))[..12]);
    }

    public string ConnectionString { get; private set; } = "";

    /// <summary>Finds the PostgreSQL binaries or explains how to install them.</summary>
    public static string? FindBinDirectory()
    {
        var candidates = new List<string>();
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        candidates.AddRange(path.Split(':', StringSplitOptions.RemoveEmptyEntries));
        foreach (var root in new[] { "/usr/lib/postgresql", "/usr/local/pgsql", "/opt/homebrew/opt" })
        {
            if (!Directory.Exists(root)) continue;
            candidates.AddRange(Directory.GetDirectories(root)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }
        candidates.Add("/usr/local/pgsql/bin");
        foreach (var dir in candidates)
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                // initdb on the PATH is often a symlink into the versioned folder; use the real one so that
                // postgres itself is found beside it.
                var real = new FileInfo(Path.Combine(dir, "initdb")).ResolveLinkTarget(true)?.FullName;
                return real is null ? dir : Path.GetDirectoryName(real)!;
            }
        }
        return null;
    }

    public const string MissingBinariesMessage =
        "PostgreSQL was not found: Fellows needs initdb and pg_ctl (PostgreSQL 15 or later) to run its embedded database.\n" +
        "Install them (Debian/Ubuntu: 'apt-get install postgresql'; Fedora: 'dnf install postgresql-server'; macOS: 'brew install postgresql')\n" +
        "or point Fellows at an existing server with ConnectionStrings__Main='Host=...;Database=...;Username=...;Password=...'.";

    /// <summary>
    /// Starts (creating if needed) the cluster under <paramref name="dataDirectory"/>, or attaches to one already running.
    /// <paramref name="maxConnections"/> is for a cluster shared by many servers at once (the test suite's).
    /// </summary>
    public static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, Action<string> log, CancellationToken ct, int maxConnections = 200)
    {
        var bin = FindBinDirectory() ?? throw new EmbeddedPostgresException(MissingBinariesMessage);
        Directory.CreateDirectory(dataDirectory);
        var pg = new EmbeddedPostgres(Path.GetFullPath(dataDirectory), bin, log);
        await pg.StartCoreAsync(maxConnections, ct);
        return pg;
    }

    async Task StartCoreAsync(int maxConnections, CancellationToken ct)
    {
        var password = EnsurePassword();
        if (!File.Exists(Path.Combine(_clusterDir, "PG_VERSION")))
            await InitAsync(ct);

        Directory.CreateDirectory(_socketDir);
        ChownForPostgres(_socketDir);

        if (!IsRunning())
        {
            _log($"Starting embedded PostgreSQL in {_clusterDir}");
            var options = $"-c listen_addresses='' -c unix_socket_directories='{_socketDir}' -c max_connections={maxConnections} " +
                          "-c shared_buffers=128MB -c fsync=on -c synchronous_commit=on -c jit=off";
            var (code, output) = await RunPgAsync(
                ["pg_ctl", "-D", _clusterDir, "-l", Path.Combine(_clusterDir, "server.log"), "-o", options, "-w", "-t", "60", "start"], ct);
            if (code != 0 && !IsRunning())
                throw new EmbeddedPostgresException($"pg_ctl start failed ({code}): {output}\n{TailLog()}");
            _startedByUs = code == 0;
        }
        else
        {
            _log($"Using the embedded PostgreSQL already running in {_clusterDir}");
        }

        var socketDir = ReadRunningSocketDir() ?? _socketDir;
        var port = ReadRunningPort() ?? 5432;
        var admin = $"Host={socketDir};Port={port};Username={SuperUser};Password={password};Database=postgres;Pooling=false";
        await EnsureDatabaseAsync(admin, ct);
        ConnectionString = $"Host={socketDir};Port={port};Username={SuperUser};Password={password};Database={DatabaseName}";
    }

    string EnsurePassword()
    {
        if (File.Exists(_passwordFile)) return File.ReadAllText(_passwordFile).Trim();
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        File.WriteAllText(_passwordFile, password);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(_passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return password;
    }

    async Task InitAsync(CancellationToken ct)
    {
        _log($"Creating embedded PostgreSQL cluster in {_clusterDir}");
        Directory.CreateDirectory(_clusterDir);
        var pwFile = Path.Combine(_clusterDir, "..", "initdb.pw");
        await File.WriteAllTextAsync(pwFile, File.ReadAllText(_passwordFile).Trim() + "\n", ct);
        try
        {
            ChownForPostgres(_clusterDir);
            ChownForPostgres(pwFile);
            var (code, output) = await RunPgAsync(
                ["initdb", "-D", _clusterDir, "-U", SuperUser, "--pwfile", Path.GetFullPath(pwFile), "--auth=scram-sha-256",
                 "--encoding=UTF8", "--locale=C", "--no-instructions"], ct);
            if (code != 0)
            {
                Directory.Delete(_clusterDir, recursive: true);
                throw new EmbeddedPostgresException($"initdb failed ({code}): {output}");
            }
        }
        finally
        {
            File.Delete(pwFile);
        }
    }

    static async Task EnsureDatabaseAsync(string adminConnectionString, CancellationToken ct)
    {
        await using var conn = new Npgsql.NpgsqlConnection(adminConnectionString);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await conn.OpenAsync(ct);
                break;
            }
            catch (Npgsql.NpgsqlException) when (attempt < 50)
            {
                // The server may still be finishing recovery after an unclean stop.
                await Task.Delay(200, ct);
            }
        }
        await using var check = new Npgsql.NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @n", conn);
        check.Parameters.AddWithValue("n", DatabaseName);
        if (await check.ExecuteScalarAsync(ct) is null)
        {
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {DatabaseName}", conn);
            try { await create.ExecuteNonQueryAsync(ct); }
            catch (Npgsql.PostgresException e) when (e.SqlState == "42P04") { /* created concurrently */ }
        }
    }

    bool IsRunning()
    {
        var pidFile = Path.Combine(_clusterDir, "postmaster.pid");
        if (!File.Exists(pidFile)) return false;
        try
        {
            var lines = ReadPidFile();
            if (lines.Length == 0 || !int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)) return false;
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return true; }
    }

    string[] ReadPidFile()
    {
        // postmaster.pid may be readable only by its owner; as root that is fine, as the same user too.
        using var stream = new FileStream(Path.Combine(_clusterDir, "postmaster.pid"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n');
    }

    int? ReadRunningPort()
    {
        try
        {
            var lines = ReadPidFile();
            return lines.Length > 3 && int.TryParse(lines[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) ? port : null;
        }
        catch (IOException) { return null; }
    }

    string? ReadRunningSocketDir()
    {
        try
        {
            var lines = ReadPidFile();
            return lines.Length > 4 && lines[4].Length > 0 ? lines[4] : null;
        }
        catch (IOException) { return null; }
    }

    string TailLog()
    {
        var log = Path.Combine(_clusterDir, "server.log");
        if (!File.Exists(log)) return "";
        var lines = File.ReadAllLines(log);
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 20)));
    }

    /// <summary>Stops the cluster if this process started it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_startedByUs) return;
        _startedByUs = false;
        _log("Stopping embedded PostgreSQL");
        await RunPgAsync(["pg_ctl", "-D", _clusterDir, "-m", "fast", "-w", "-t", "30", "stop"], CancellationToken.None);
    }

    static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";

    /// <summary>PostgreSQL refuses to run as root: as root, the cluster belongs to and runs as the postgres user.</summary>
    static void ChownForPostgres(string path)
    {
        if (!IsRoot || OperatingSystem.IsWindows()) return;
        RunSync("chown", "-R", "postgres:", path);
        // postgres must be able to traverse to the data folder; give the ancestors the search bit only.
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        while (!string.IsNullOrEmpty(dir) && dir != "/")
        {
            var mode = File.GetUnixFileMode(dir);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
                File.SetUnixFileMode(dir, mode | UnixFileMode.OtherExecute);
            dir = Path.GetDirectoryName(dir);
        }
    }

    static void RunSync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
    }

    async Task<(int Code, string Output)> RunPgAsync(string[] command, CancellationToken ct)
    {
        var exe = Path.Combine(_binDir, command[0]);
        ProcessStartInfo psi;
        if (IsRoot)
        {
            psi = new ProcessStartInfo("runuser") { ArgumentList = { "-u", "postgres", "--", exe } };
        }
        else
        {
            psi = new ProcessStartInfo(exe);
        }
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        psi.WorkingDirectory = "/";
        using var p = Process.Start(psi) ?? throw new EmbeddedPostgresException($"could not start {exe}");
        p.StandardInput.Close();
        // pg_ctl start leaves the postmaster holding our pipes; read what is there without waiting for EOF.
        var stdout = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        await p.WaitForExitAsync(ct);
        lock (stdout) return (p.ExitCode, stdout.ToString());
    }
}

public sealed class EmbeddedPostgresException(string message) : Exception(message);
