using System.Text.Json;
using Microsoft.Playwright;
using NUnit.Framework;
using static Fellows.Server.Tests.ClientApi.OAuthKit;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>The whole authorization-code flow in a real browser (Debian's Chromium, headless, driven by Playwright).</summary>
public class OAuthBrowserTests
{
    const string ChromiumPath = "/usr/bin/chromium";

    [Test]
    public async Task Browser_signs_in_consents_and_the_app_exchanges_the_code_with_pkce()
    {
        Assert.That(File.Exists(ChromiumPath), Is.True, $"{ChromiumPath} is missing: apt-get install chromium (.ci/run does)");
        await using var instance = await FellowsInstance.StartAsync("oauthbrowser");
        await instance.CreateMemberAsync("bea");
        var app = await RegisterAppAsync(instance, name: "Browser <App>");
        var (verifier, challenge) = Pkce();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(instance.BaseUrl + AuthorizeUrl(app, scope: "read write", state: "xyz", challenge: challenge));
        Assert.That(await page.TitleAsync(), Is.EqualTo("Sign in"));
        Assert.That(await page.InnerTextAsync("main"), Does.Contain("Browser <App>"), "the name is shown as text, not markup");

        await page.FillAsync("#login", "bea@oauthbrowser.test");
        await page.FillAsync("#password", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("button[value=approve]");
        var consent = await page.InnerTextAsync("main");
        Assert.That(consent, Does.Contain("@bea@").And.Contain("read").And.Contain("write"));

        await page.ClickAsync("button[value=approve]");
        var code = await (await page.WaitForSelectorAsync("#code"))!.InnerTextAsync();
        Assert.That(code, Has.Length.GreaterThanOrEqualTo(40));

        var token = await Api.JsonAsync(await TokenAsync(instance, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code.Trim(), ["redirect_uri"] = Oob, ["code_verifier"] = verifier,
            ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        }));
        using var client = BearerClient(instance, token.GetProperty("access_token").GetString()!);
        var me = await Api.JsonAsync(await client.GetAsync(new Uri("/api/v1/accounts/verify_credentials", UriKind.Relative)));
        Assert.That(me.GetProperty("username").GetString(), Is.EqualTo("bea"));
        Assert.That(token.GetProperty("scope").GetString(), Is.EqualTo("read write"));
        Assert.That(me.ValueKind, Is.EqualTo(JsonValueKind.Object));
    }
}
