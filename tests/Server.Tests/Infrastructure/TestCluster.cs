using Fellows.Server.Database;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests;

/// <summary>Starts and stops the shared cluster around the whole run (a set-up fixture in the root namespace).</summary>
[SetUpFixture]
public sealed class TestRun
{
    [OneTimeSetUp]
    public Task StartAsync() => TestCluster.StartAsync();

    [OneTimeTearDown]
    public Task StopAsync() => TestCluster.StopAsync();
}

/// <summary>
/// One real PostgreSQL cluster for the whole test run (the same embedded cluster the server runs by default),
/// with a fresh database for every fixture or Fellows instance.
/// </summary>
public static class TestCluster
{
    static EmbeddedPostgres? _cluster;
    static string? _root;
    static int _counter;

    public static string RootDirectory => _root ?? throw new InvalidOperationException("Test cluster not started");

    public static async Task StartAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), $"fellows-tests-{Environment.ProcessId}");
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        Directory.CreateDirectory(_root);
        // Every instance of the run shares this cluster, each with its pools, listeners and workers: room for them all.
        _cluster = await EmbeddedPostgres.StartAsync(Path.Combine(_root, "pg"), m => TestContext.Progress.WriteLine(m), CancellationToken.None, maxConnections: 1000);
    }

    public static async Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_cluster is not null) await _cluster.DisposeAsync();
        try
        {
            if (_root is not null) Directory.Delete(_root, recursive: true);
        }
        catch (IOException) { /* best effort */ }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string hint)
    {
        if (_cluster is null) throw new InvalidOperationException("Test cluster not started");
        var name = $"t{Interlocked.Increment(ref _counter)}_{new string(hint.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(20).ToArray())}";
        var builder = new NpgsqlConnectionStringBuilder(_cluster.ConnectionString) { Database = "postgres", Pooling = false };
        await using (var conn = new NpgsqlConnection(builder.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        builder.Database = name;
        builder.Pooling = true;
        return builder.ConnectionString;
    }

    public static string NewDirectory(string hint)
    {
        var dir = Path.Combine(RootDirectory, $"{hint}-{Interlocked.Increment(ref _counter)}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
