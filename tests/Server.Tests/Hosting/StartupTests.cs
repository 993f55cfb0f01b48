using System.Net;
using Dapper;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Fellows.Server.Database;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.Hosting;

public class StartupTests
{
    [Test]
    public async Task Start_data_source_prepares_repeated_statements_unless_the_connection_string_says_otherwise()
    {
        await using var instance = await FellowsInstance.StartAsync("prepared");
        var configured = new NpgsqlConnectionStringBuilder(instance.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
        Assert.That(configured.MaxAutoPrepare, Is.EqualTo(64));
        Assert.That(configured.AutoPrepareMinUsages, Is.EqualTo(2));
        // Prepared statements are planned for their parameters whatever the server's own setting.
        Assert.That(configured.Options, Is.EqualTo("-c plan_cache_mode=force_custom_plan"));
        await using (var conn = await instance.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        await using (var show = new NpgsqlCommand("SHOW plan_cache_mode", conn))
            Assert.That(await show.ExecuteScalarAsync(), Is.EqualTo("force_custom_plan"));
        var withOptions = new NpgsqlConnectionStringBuilder(Fellows.Server.Hosting.FellowsHost.WithAutoPrepare("Host=db;Options=-c statement_timeout=5s"));
        Assert.That(withOptions.Options, Is.EqualTo("-c statement_timeout=5s -c plan_cache_mode=force_custom_plan"));

        // An operator behind a pooler without prepared statements turns it off, and that is kept.
        var off = new NpgsqlConnectionStringBuilder(Fellows.Server.Hosting.FellowsHost.WithAutoPrepare("Host=db;Database=f;Max Auto Prepare=0"));
        Assert.That(off.MaxAutoPrepare, Is.Zero);
        // A database that merely has the words in its name is not a setting.
        var named = new NpgsqlConnectionStringBuilder(Fellows.Server.Hosting.FellowsHost.WithAutoPrepare("Host=db;Database=no_autoprepare"));
        Assert.That(named.MaxAutoPrepare, Is.EqualTo(64));
    }

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
    public async Task Restart_remembers_signature_format_per_host()
    {
        await using var instance = await FellowsInstance.StartAsync("schemes");
        var preferences = instance.Services.GetRequiredService<ISignatureSchemePreferences>();
        preferences.Remember("remote.example:8443", SignatureScheme.Cavage);
        await using var conn = new NpgsqlConnection(instance.ConnectionString);
        for (var i = 0; i < 50 && await conn.ExecuteScalarAsync<string?>("SELECT signature_scheme FROM remote_hosts WHERE host = 'remote.example:8443'") is null; i++)
            await Task.Delay(100);

        await instance.RestartAsync();
        Assert.That(instance.Services.GetRequiredService<ISignatureSchemePreferences>().Get("remote.example:8443"), Is.EqualTo(SignatureScheme.Cavage));
    }

    [Test]
    public async Task Health_answers_ok()
    {
        await using var instance = await FellowsInstance.StartAsync("health");
        var response = await instance.Client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
