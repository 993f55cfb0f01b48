using System.Net;
using NUnit.Framework;
using static Fellows.Server.Tests.ClientApi.OAuthKit;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>The sign-in page's cookies carry the flags their scheme calls for.</summary>
public class OAuthCookieTests
{
    /// <summary>Signs in by hand, carrying cookies explicitly (an https instance's Secure cookies are not sent back over loopback http).</summary>
    static async Task<(List<string> PageCookies, List<string> SessionCookies)> SignInByHandAsync(FellowsInstance instance, string login)
    {
        var app = await RegisterAppAsync(instance);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(instance.BaseUrl) };
        var page = await client.GetAsync(new Uri(AuthorizeUrl(app), UriKind.Relative));
        var pageCookies = page.Headers.GetValues("Set-Cookie").ToList();
        var fields = HiddenFields(await page.Content.ReadAsStringAsync());
        fields["login"] = login;
        fields["password"] = Password;
        using var post = new HttpRequestMessage(HttpMethod.Post, "/oauth/sign_in") { Content = new FormUrlEncodedContent(fields) };
        post.Headers.Add("Cookie", string.Join("; ", pageCookies.Select(c => c.Split(';')[0])));
        var signedIn = await client.SendAsync(post);
        Assert.That(signedIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await signedIn.Content.ReadAsStringAsync());
        return (pageCookies, signedIn.Headers.GetValues("Set-Cookie").ToList());
    }

    [Test]
    public async Task Https_instance_sets_host_prefixed_secure_httponly_cookies()
    {
        await using var instance = await FellowsInstance.StartAsync("oauthhttps", settings: new Dictionary<string, string?> { ["Instance:Scheme"] = "https" });
        await instance.CreateMemberAsync("eve");
        var (pageCookies, sessionCookies) = await SignInByHandAsync(instance, "eve");
        var csrf = pageCookies.Single(c => c.StartsWith("__Host-fellows_csrf=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.That(csrf, Does.Contain("secure").And.Contain("httponly").And.Contain("samesite=strict").And.Contain("path=/").And.Not.Contain("domain="));
        var session = sessionCookies.Single(c => c.StartsWith("__Host-fellows_session=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.That(session, Does.Contain("secure").And.Contain("httponly").And.Contain("samesite=lax").And.Contain("path=/").And.Not.Contain("domain="));
    }

    [Test]
    public async Task Http_development_instance_sets_httponly_cookies_without_secure()
    {
        await using var instance = await FellowsInstance.StartAsync("oauthhttp");
        await instance.CreateMemberAsync("fin");
        var (_, sessionCookies) = await SignInByHandAsync(instance, "fin");
        var session = sessionCookies.Single(c => c.StartsWith("fellows_session=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.That(session, Does.Contain("httponly").And.Contain("samesite=lax").And.Not.Contain("secure"));
    }
}
