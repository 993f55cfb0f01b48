using System.Net;
using Dapper;
using Fellows.Server.Database;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.Hosting;

public class StartupTests
{
    [Test]
    public async Task Start_fresh_database_applies_every_migration_once()
    {
        await using var instance = await FellowsInstance.StartAsync("startup");
        await using var conn = new NpgsqlConnection(instance.ConnectionString);
        var versions = (await conn.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")).ToList();
        Assert.That(versions, Is.EqualTo(Migrator.All.Select(m => m.Version).ToList()));

        await instance.RestartAsync();
        var count = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations");
        Assert.That(count, Is.EqualTo(Migrator.All.Count));
    }

    [Test]
    public async Task Migrate_two_nodes_at_once_both_succeed()
    {
        var connectionString = await TestCluster.CreateDatabaseAsync("race");
        await using var a = NpgsqlDataSource.Create(connectionString);
        await using var b = NpgsqlDataSource.Create(connectionString);
        var results = await Task.WhenAll(Migrator.MigrateAsync(a, CancellationToken.None), Migrator.MigrateAsync(b, CancellationToken.None));
        Assert.That(results[0].Count + results[1].Count, Is.EqualTo(Migrator.All.Count), "each migration applied exactly once");
    }

    [Test]
    public async Task Health_answers_ok()
    {
        await using var instance = await FellowsInstance.StartAsync("health");
        var response = await instance.Client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
