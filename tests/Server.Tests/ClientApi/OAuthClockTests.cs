using System.Net;
using Dapper;
using Fellows.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quartz;
using Microsoft.Extensions.Time.Testing;
using NUnit.Framework;
using static Fellows.Server.Tests.ClientApi.OAuthKit;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>What depends on time: code expiry and the sign-in throttle window, on a test clock.</summary>
public class OAuthClockTests
{
    readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    FellowsInstance _instance = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _instance = await FellowsInstance.StartAsync("oauthclock", b => b.Services.AddSingleton<TimeProvider>(_clock));
        await _instance.CreateMemberAsync("cid");
        await _instance.CreateMemberAsync("dee");
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    [Test]
    public async Task AuthorizationCode_expires_after_ten_minutes()
    {
        var app = await RegisterAppAsync(_instance);
        var (verifier, challenge) = Pkce();
        async Task<string> NewCode()
        {
            using var browser = Browser(_instance);
            return await CodeFromAsync(await AuthorizeAsync(browser, AuthorizeUrl(app, challenge: challenge), "cid"));
        }
        Dictionary<string, string> Form(string code) => new()
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = Oob, ["code_verifier"] = verifier,
            ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        };

        var stale = await NewCode();
        _clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, Form(stale)), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));

        var fresh = await NewCode();
        _clock.Advance(TimeSpan.FromMinutes(9));
        await Api.JsonAsync(await TokenAsync(_instance, Form(fresh)));
    }

    [Test]
    public async Task Failed_sign_ins_are_throttled_per_login_until_the_window_passes()
    {
        var app = await RegisterAppAsync(_instance);
        Dictionary<string, string> Form(string password) => new()
        {
            ["grant_type"] = "password", ["username"] = "dee", ["password"] = password, ["scope"] = "read",
            ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        };
        for (var i = 0; i < 10; i++)
            Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, Form($"guess {i}")), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));

        var throttled = await TokenAsync(_instance, Form(Password));
        Assert.That(await OAuthErrorAsync(throttled, HttpStatusCode.TooManyRequests), Is.EqualTo("invalid_grant"), "even the right password waits");
        using (var browser = Browser(_instance))
        {
            var page = await (await browser.GetAsync(new Uri(AuthorizeUrl(app), UriKind.Relative))).Content.ReadAsStringAsync();
            var signIn = await SignInAsync(browser, page, "DEE", Password);
            Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "the page shares the count, whatever the case of the login");
            Assert.That(await signIn.Content.ReadAsStringAsync(), Does.Contain("Too many failed attempts"));
        }
        // Other members on the same address are not locked out by one member's guesses.
        using (var other = Browser(_instance))
            Assert.That((await AuthorizeAsync(other, AuthorizeUrl(app), "cid")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        _clock.Advance(SignInWindow + TimeSpan.FromSeconds(1));
        await Api.JsonAsync(await TokenAsync(_instance, Form(Password)));
    }

    [Test]
    public async Task Prune_removes_expired_codes_and_sessions_but_never_apps()
    {
        var app = await RegisterAppAsync(_instance);
        using (var browser = Browser(_instance))
            await CodeFromAsync(await AuthorizeAsync(browser, AuthorizeUrl(app), "cid"));
        await using var conn = new NpgsqlConnection(_instance.ConnectionString);
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM oauth_authorization_codes"), Is.GreaterThan(0));
        var apps = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM oauth_applications");

        _clock.Advance(TimeSpan.FromDays(16));
        var scheduler = await _instance.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.TriggerJob(PruneJob.Key);
        await Api.EventuallyAsync(async () => await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM oauth_authorization_codes") == 0, "codes pruned");
        await Api.EventuallyAsync(async () => await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM web_sessions") == 0, "sessions pruned");
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM oauth_applications"), Is.EqualTo(apps), "apps are never pruned");
    }

    static TimeSpan SignInWindow => Features.OAuth.SignInService.Window;
}
