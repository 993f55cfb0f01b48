namespace Fellows.Server;

public static class FellowsProgram
{
    public static async Task<int> MainAsync(string[] args)
    {
        await Task.Yield();
        return 0;
    }
}
