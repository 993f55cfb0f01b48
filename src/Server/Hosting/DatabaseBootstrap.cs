using Fellows.Server.Configuration;
using Fellows.Server.Database;

namespace Fellows.Server.Hosting;

/// <summary>Decides which PostgreSQL to use: <c>ConnectionStrings:Main</c> when set, else the embedded cluster.</summary>
public static class DatabaseBootstrap
{
    public sealed record Opened(string ConnectionString, EmbeddedPostgres? Embedded);

    public static async Task<Opened> OpenAsync(IConfiguration configuration, Action<string> log, CancellationToken ct)
    {
        DapperSetup.Configure();
        var external = configuration.GetConnectionString("Main");
        if (!string.IsNullOrWhiteSpace(external))
            return new Opened(external, null);
        var options = configuration.GetSection(InstanceOptions.Section).Get<InstanceOptions>() ?? new InstanceOptions();
        var embedded = await EmbeddedPostgres.StartAsync(options.DataDirectoryFullPath, log, ct);
        return new Opened(embedded.ConnectionString, embedded);
    }
}
