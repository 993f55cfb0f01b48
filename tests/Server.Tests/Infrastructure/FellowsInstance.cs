using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Fellows.Server.Tests;

/// <summary>
/// A real Fellows server on a loopback port with its own database and data folder, in this process.
/// Several of these federate with each other in the integration tests. It can be stopped and started again
/// on the same port and database to test what survives a restart.
/// </summary>
public sealed class FellowsInstance : IAsyncDisposable
{
    readonly Action<WebApplicationBuilder>? _configure;
    readonly Dictionary<string, string?> _settings;
    WebApplication? _app;

    FellowsInstance(string name, int port, string connectionString, string dataDirectory, Action<WebApplicationBuilder>? configure,
        IDictionary<string, string?>? extra)
    {
        Name = name;
        Port = port;
        ConnectionString = connectionString;
        _configure = configure;
        _settings = new Dictionary<string, string?>
        {
            ["Instance:Domain"] = $"127.0.0.1:{port}",
            ["Instance:Scheme"] = "http",
            ["Instance:AllowPrivateNetworks"] = "true",
            ["Instance:DataDirectory"] = dataDirectory,
            ["Instance:Name"] = name,
            ["ConnectionStrings:Main"] = connectionString,
            ["Logging:LogLevel:Default"] = "Warning",
            // Tests poll the API far faster than people do; the limiter itself is tested with a low limit.
            ["RateLimits:PermitLimit"] = "100000",
        };
        if (extra is not null)
            foreach (var (k, v) in extra) _settings[k] = v;
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
    }

    public string Name { get; }
    public int Port { get; }
    public string ConnectionString { get; }
    public string Domain => $"127.0.0.1:{Port}";
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public HttpClient Client { get; }
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException($"{Name} is not running");

    public static async Task<FellowsInstance> StartAsync(string name, Action<WebApplicationBuilder>? configure = null,
        IDictionary<string, string?>? settings = null)
    {
        var connectionString = await TestCluster.CreateDatabaseAsync(name);
        var instance = new FellowsInstance(name, FreePort(), connectionString, TestCluster.NewDirectory(name), configure, settings);
        await instance.StartAsync();
        return instance;
    }

    public async Task StartAsync()
    {
        if (_app is not null) return;
        var app = await FellowsHost.BuildAsync([$"--urls={BaseUrl}"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(_settings);
            _configure?.Invoke(builder);
        }, CancellationToken.None);
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        var app = _app;
        _app = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    /// <summary>Creates a member and returns a bearer token for them, as the command line would.</summary>
    public async Task<Member> CreateMemberAsync(string username, bool locked = false)
    {
        var accounts = Services.GetRequiredService<AccountService>();
        var result = await accounts.CreateLocalAsync(username, $"{username}@{Name}.test", "correct horse battery", admin: false, CancellationToken.None);
        if (!result.IsOk) throw new InvalidOperationException(result.Error!.Message);
        if (locked)
        {
            await using var conn = await Services.GetRequiredService<Npgsql.NpgsqlDataSource>().OpenConnectionAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("UPDATE accounts SET locked = true WHERE id = @id", conn);
            cmd.Parameters.AddWithValue("id", result.Value);
            await cmd.ExecuteNonQueryAsync();
        }
        var token = await Services.GetRequiredService<TokenService>().CreateAsync(result.Value, null, Scopes.CommandLineDefault, CancellationToken.None);
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new Member(username, result.Value, token, $"{BaseUrl}/users/{username}", $"{username}@{Domain}", client);
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Client.Dispose();
    }
}

/// <summary>A member of a test instance with an authenticated API client.</summary>
public sealed record Member(string Username, long AccountId, string Token, string ActorId, string Handle, HttpClient Api);
