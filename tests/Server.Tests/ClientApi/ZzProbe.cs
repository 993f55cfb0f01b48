using System.Net.Http.Json;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

public class ZzProbe
{
    [Test]
    public async Task Probe()
    {
        await using var instance = await FellowsInstance.StartAsync("zzprobe");
        var a = await instance.CreateMemberAsync("alice");
        var b = await instance.CreateMemberAsync("bob");
        var st = await a.PostJsonAsync("/api/v1/statuses", new { status = "hello #coop" });
        var sid = st.GetProperty("id").GetString();
        var lines = new List<string>();
        var calls = File.ReadAllLines("/tmp/probe/calls.txt");
        foreach (var line in calls)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(' ', 3);
            var path = parts[1].Replace("{sid}", sid).Replace("{aid}", a.AccountId.ToString()).Replace("{bid}", b.AccountId.ToString());
            var req = new HttpRequestMessage(new HttpMethod(parts[0]), new Uri(path, UriKind.Relative));
            if (parts.Length > 2) req.Content = new StringContent(parts[2], System.Text.Encoding.UTF8, "application/json");
            var resp = await a.Api.SendAsync(req);
            var body = await resp.Content.ReadAsStringAsync();
            lines.Add($"{(int)resp.StatusCode} {parts[0]} {path} {resp.Content.Headers.ContentType} {body[..Math.Min(body.Length, 300)]}");
        }
        File.WriteAllLines("/tmp/probe/out.txt", lines);
    }
}
