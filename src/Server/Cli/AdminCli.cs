using System.CommandLine;
using Fellows.Server.Configuration;
using Fellows.Server.Database;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Cli;

/// <summary>
/// The admin command line on the server's own executable, like Mastodon's tootctl. It reads the same
/// configuration as the server and, with the embedded database, attaches to the cluster the running server
/// uses (or starts it for the duration of the command).
/// </summary>
public static class AdminCli
{
    static readonly HashSet<string> Commands = ["accounts", "tokens", "migrate", "help", "--help", "-h", "-?", "--version"];

    /// <summary>Anything that is not an option is a command; unknown ones get usage and a non-zero exit.</summary>
    public static bool IsCommand(string[] args) =>
        args.Length > 0 && (Commands.Contains(args[0]) || !args[0].StartsWith('-'));

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Fellows: a fediverse server for co-operatives. Without a command, runs the server.");

        var accounts = new Command("accounts", "Manage members of this instance");
        var username = new Argument<string>("username") { Description = "The member's username (letters, digits, underscores)" };
        var email = new Option<string>("--email") { Description = "E-mail address", Required = true };
        var password = new Option<string?>("--password") { Description = "Password (at least 8 characters); read from FELLOWS_PASSWORD when omitted" };
        var admin = new Option<bool>("--admin") { Description = "Make the member an administrator" };
        var create = new Command("create", "Create a member") { username, email, password, admin };
        create.SetAction((parse, ct) => WithServices(async (s, token) =>
        {
            var pw = parse.GetValue(password) ?? Environment.GetEnvironmentVariable("FELLOWS_PASSWORD");
            if (string.IsNullOrEmpty(pw))
            {
                await Console.Error.WriteLineAsync("accounts create: --password is required (or set FELLOWS_PASSWORD)");
                return 2;
            }
            var result = await s.Accounts.CreateLocalAsync(parse.GetValue(username)!, parse.GetValue(email)!, pw, parse.GetValue(admin), token);
            if (!result.IsOk)
            {
                await Console.Error.WriteLineAsync($"accounts create: {result.Error!.Message}");
                return 1;
            }
            Console.WriteLine($"Created {parse.GetValue(username)} (id {result.Value})");
            return 0;
        }, ct));
        var list = new Command("list", "List members");
        list.SetAction((_, ct) => WithServices(async (s, token) =>
        {
            foreach (var a in await s.Accounts.ListLocalAsync(token))
                Console.WriteLine($"{a.Id}\t{a.Username}\t{a.Email}\t{(a.Admin ? "admin" : a.Approved ? "member" : "pending")}\t{a.CreatedAt:yyyy-MM-dd}");
            return 0;
        }, ct));
        var approveUser = new Argument<string>("username") { Description = "The applicant to admit" };
        var approve = new Command("approve", "Admit a member who signed up and is waiting for approval") { approveUser };
        approve.SetAction((parse, ct) => WithServices(async (s, token) =>
        {
            var name = parse.GetValue(approveUser)!;
            var result = await s.Accounts.ApproveLocalAsync(name, token);
            if (!result.IsOk)
            {
                await Console.Error.WriteLineAsync($"accounts approve: {result.Error!.Message}");
                return 1;
            }
            Console.WriteLine(result.Value ? $"Approved {name}" : $"{name} was already approved");
            return 0;
        }, ct));
        accounts.Subcommands.Add(create);
        accounts.Subcommands.Add(list);
        accounts.Subcommands.Add(approve);

        var tokens = new Command("tokens", "Manage API tokens");
        var tokenUser = new Argument<string>("username") { Description = "The member the token acts for" };
        var tokenCreate = new Command("create", "Print a new bearer token (scopes read write follow push) for a member") { tokenUser };
        tokenCreate.SetAction((parse, ct) => WithServices(async (s, token) =>
        {
            var account = await s.Accounts.FindLocalAsync(parse.GetValue(tokenUser)!, token);
            if (account is null || account.ActorType != "Person")
            {
                await Console.Error.WriteLineAsync($"tokens create: no member named '{parse.GetValue(tokenUser)}'");
                return 1;
            }
            Console.WriteLine(await s.Tokens.CreateAsync(account.Id, null, Scopes.CommandLineDefault, token));
            return 0;
        }, ct));
        tokens.Subcommands.Add(tokenCreate);

        var migrate = new Command("migrate", "Apply pending database migrations");
        migrate.SetAction((_, ct) => WithServices((_, _) =>
        {
            Console.WriteLine("Database schema is up to date.");
            return Task.FromResult(0);
        }, ct));

        root.Subcommands.Add(accounts);
        root.Subcommands.Add(tokens);
        root.Subcommands.Add(migrate);

        var parsed = root.Parse(args);
        return await parsed.InvokeAsync();
    }

    sealed record CliServices(AccountService Accounts, TokenService Tokens);

    static async Task<int> WithServices(Func<CliServices, CancellationToken, Task<int>> action, CancellationToken ct)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        DatabaseBootstrap.Opened database;
        try
        {
            database = await DatabaseBootstrap.OpenAsync(configuration, m => Console.Error.WriteLine($"fellows: {m}"), ct);
        }
        catch (EmbeddedPostgresException e)
        {
            await Console.Error.WriteLineAsync($"fellows: {e.Message}");
            return 1;
        }
        try
        {
            await using var db = NpgsqlDataSource.Create(database.ConnectionString);
            foreach (var name in await Migrator.MigrateAsync(db, ct))
                await Console.Error.WriteLineAsync($"fellows: applied migration {name}");
            var options = configuration.GetSection(InstanceOptions.Section).Get<InstanceOptions>() ?? new InstanceOptions();
            var urls = new InstanceUrls(Options.Create(options));
            // Never listening, so it never remembers a token: the command line runs once and goes.
            using var tokenCache = new TokenCache();
            var services = new CliServices(new AccountService(db, urls, TimeProvider.System), new TokenService(db, TimeProvider.System, tokenCache));
            return await action(services, ct);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync($"fellows: {e.Message}");
            return 1;
        }
        finally
        {
            if (database.Embedded is not null) await database.Embedded.DisposeAsync();
        }
    }
}
