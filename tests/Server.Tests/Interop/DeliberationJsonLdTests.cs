using System.Diagnostics;
using System.Text.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.Interop;

/// <summary>
/// The deliberation vocabulary checked by a real JSON-LD processor (jsonld.js, in safe mode, which fails on any
/// term no context defines): every document fixture we write, with the context fetched from a running instance.
/// </summary>
[TestFixture]
[Category("Interop")]
[CancelAfter(300_000)]
public sealed class DeliberationJsonLdTests
{
    private FellowsInstance _instance = null!;
    private string _peerDirectory = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        _peerDirectory = await FedifyPeer.InstalledDirectoryAsync(cts.Token);
        _instance = await FellowsInstance.StartAsync("jsonld");
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    private static string FixtureDirectory(string peerDirectory) =>
        Path.GetFullPath(Path.Combine(peerDirectory, "..", "..", "Federation.Tests", "Fixtures", "fellows"));

    private async Task<(int ExitCode, List<JsonElement> Results, string Errors)> ExpandAsync(IEnumerable<string> files, CancellationToken ct)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = _peerDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("expand-jsonld.mjs");
        start.ArgumentList.Add(_instance.BaseUrl);
        foreach (var file in files)
            start.ArgumentList.Add(file);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var results = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();
        return (process.ExitCode, results, await stderr);
    }

    [Test]
    public async Task Every_fixture_expands_with_no_undefined_term(CancellationToken ct)
    {
        var files = Directory.GetFiles(FixtureDirectory(_peerDirectory), "*.json").Order(StringComparer.Ordinal).ToArray();

        var (exitCode, results, errors) = await ExpandAsync(files, ct);

        Assert.Multiple(() =>
        {
            Assert.That(files, Has.Length.GreaterThanOrEqualTo(9));
            Assert.That(results, Has.Count.EqualTo(files.Length), errors);
            foreach (var result in results)
                Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
            Assert.That(exitCode, Is.Zero, errors);
            var update = results.Single(r => r.GetProperty("file").GetString()!.EndsWith("update_motion_closed.json", StringComparison.Ordinal));
            Assert.That(update.GetProperty("fellowsTerms").GetInt32(), Is.GreaterThan(20), "the Fellows terms expand to the Fellows namespace");
        });
    }

    [Test]
    public async Task An_undefined_term_fails_the_check(CancellationToken ct)
    {
        var file = Path.Combine(Path.GetTempPath(), $"fellows-undefined-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            {"@context": ["https://www.w3.org/ns/activitystreams", "https://a.example/ns/fellows"],
             "id": "https://a.example/s/1", "type": ["Note", "fellows:Stance"], "choice": ["agree"], "votez": 1}
            """, ct);
        try
        {
            var (exitCode, results, _) = await ExpandAsync([file], ct);

            Assert.Multiple(() =>
            {
                Assert.That(exitCode, Is.EqualTo(1));
                Assert.That(results.Single().GetProperty("ok").GetBoolean(), Is.False);
                Assert.That(results.Single().GetProperty("error").GetString(), Does.Contain("votez"));
            });
        }
        finally
        {
            File.Delete(file);
        }
    }
}
