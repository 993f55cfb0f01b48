using System.Net;
using Dapper;
using Fellows.Server.Features.Auth;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>
/// Tokens are remembered per node between calls (<see cref="TokenCache"/>), and every change that ends a token's
/// standing, made through any node or straight in the database, ends it on every node.
/// </summary>
public class TokenCacheTests
{
    FellowsInstance _node1 = null!;
    FellowsInstance _node2 = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _node1 = await FellowsInstance.StartAsync("tokencache");
        // A second node: same database and domain, its own port; Quartz stays on the first.
        _node2 = await FellowsInstance.StartAsync("tokencache2", settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:Main"] = _node1.ConnectionString,
            ["Instance:Domain"] = _node1.Domain,
            ["Jobs:Enabled"] = "false",
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _node2.DisposeAsync();
        await _node1.DisposeAsync();
    }

    static async Task<HttpStatusCode> CallAsync(FellowsInstance node, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.BaseUrl + "/api/v1/accounts/verify_credentials"));
        request.Headers.Authorization = new("Bearer", token);
        using var response = await node.Client.SendAsync(request);
        return response.StatusCode;
    }

    static bool Remembered(FellowsInstance node, string token) =>
        node.Services.GetRequiredService<TokenCache>().Find(TokenService.HashToken(token), DateTimeOffset.UtcNow) is not null;

    async Task ExecuteAsync(string sql, object args)
    {
        await using var conn = new NpgsqlConnection(_node1.ConnectionString);
        await conn.ExecuteAsync(sql, args);
    }

    async Task BothNodesRememberAsync(Member member)
    {
        await Api.EventuallyAsync(async () =>
        {
            Assert.That(await CallAsync(_node1, member.Token), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await CallAsync(_node2, member.Token), Is.EqualTo(HttpStatusCode.OK));
            return Remembered(_node1, member.Token) && Remembered(_node2, member.Token);
        }, "both nodes to listen and remember the token");
    }

    async Task BothNodesRefuseAsync(Member member, HttpStatusCode refusal, string what) =>
        await Api.EventuallyAsync(async () => await CallAsync(_node1, member.Token) == refusal && await CallAsync(_node2, member.Token) == refusal,
            $"both nodes to refuse the token after {what}", seconds: 5);

    [Test]
    public async Task A_token_revoked_in_the_database_is_refused_by_every_node_that_remembered_it()
    {
        var uma = await _node1.CreateMemberAsync("tc_uma");
        await BothNodesRememberAsync(uma);
        await ExecuteAsync("UPDATE oauth_access_tokens SET revoked_at = now() WHERE account_id = @id", new { id = uma.AccountId });
        await BothNodesRefuseAsync(uma, HttpStatusCode.Unauthorized, "revocation");
        Assert.That(Remembered(_node1, uma.Token) || Remembered(_node2, uma.Token), Is.False);
    }

    [Test]
    public async Task A_suspended_or_disabled_member_is_refused_by_every_node_that_remembered_them()
    {
        var vic = await _node1.CreateMemberAsync("tc_vic");
        await BothNodesRememberAsync(vic);
        await ExecuteAsync("UPDATE accounts SET suspended_at = now() WHERE id = @id", new { id = vic.AccountId });
        await BothNodesRefuseAsync(vic, HttpStatusCode.Unauthorized, "suspension");

        var wes = await _node1.CreateMemberAsync("tc_wes");
        await BothNodesRememberAsync(wes);
        await ExecuteAsync("UPDATE users SET disabled_at = now() WHERE account_id = @id", new { id = wes.AccountId });
        await BothNodesRefuseAsync(wes, HttpStatusCode.Unauthorized, "disabling");
    }

    [Test]
    public async Task A_token_expiring_is_refused_even_while_remembered()
    {
        var xan = await _node1.CreateMemberAsync("tc_xan");
        await ExecuteAsync("UPDATE oauth_access_tokens SET expires_at = now() + interval '3 seconds' WHERE account_id = @id", new { id = xan.AccountId });
        await BothNodesRememberAsync(xan);
        await BothNodesRefuseAsync(xan, HttpStatusCode.Unauthorized, "expiry");
    }
}
