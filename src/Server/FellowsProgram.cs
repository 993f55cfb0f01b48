using Fellows.Server.Cli;
using Fellows.Server.Hosting;

namespace Fellows.Server;

public static class FellowsProgram
{
    public static async Task<int> MainAsync(string[] args)
    {
        if (AdminCli.IsCommand(args))
            return await AdminCli.RunAsync(args);

        try
        {
            await using var app = await FellowsHost.BuildAsync(args, null, CancellationToken.None);
            await app.RunAsync();
            return 0;
        }
        catch (Database.EmbeddedPostgresException e)
        {
            await Console.Error.WriteLineAsync($"fellows: {e.Message}");
            return 1;
        }
    }
}
