using System.Globalization;
using System.Reflection;
using Dapper;
using Npgsql;

namespace Fellows.Server.Database;

/// <summary>
/// Applies the numbered SQL files under Database/Migrations in order. Each runs in its own transaction under a
/// transaction-level advisory lock, so two nodes starting at once apply each migration exactly once.
/// </summary>
public static class Migrator
{
    // An arbitrary constant shared by every Fellows node: "FELLOWS" in ASCII.
    const long AdvisoryLockKey = 0x46454C4C4F5753;

    public sealed record Migration(int Version, string Name, string Sql);

    public static IReadOnlyList<Migration> All { get; } = Load();

    static List<Migration> Load()
    {
        var assembly = typeof(Migrator).Assembly;
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            // Resource names look like Fellows.Server.Database.Migrations.0001_initial.sql
            var file = resource.Split(".Migrations.", 2)[^1];
            var number = file.Split('_', 2)[0];
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var version)) continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add(new Migration(version, file, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        return list;
    }

    /// <summary>Applies every pending migration; returns the names applied.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var applied = new List<string>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        foreach (var migration in All)
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = AdvisoryLockKey }, tx, cancellationToken: ct));
            // Created under the lock too: two nodes racing on CREATE TABLE IF NOT EXISTS can still collide.
            await conn.ExecuteAsync(new CommandDefinition(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, transaction: tx, cancellationToken: ct));
            var done = await conn.ExecuteScalarAsync<int?>(new CommandDefinition(
                "SELECT version FROM schema_migrations WHERE version = @v", new { v = migration.Version }, tx, cancellationToken: ct));
            if (done is not null)
            {
                await tx.CommitAsync(ct);
                continue;
            }
            await conn.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: tx, cancellationToken: ct, commandTimeout: 600));
            await conn.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_migrations (version, name) VALUES (@v, @n)", new { v = migration.Version, n = migration.Name }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            applied.Add(migration.Name);
        }
        return applied;
    }
}
