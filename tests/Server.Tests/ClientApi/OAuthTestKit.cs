using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>An app registered through <c>POST /api/v1/apps</c>.</summary>
public sealed record RegisteredApp(string ClientId, string ClientSecret, JsonElement Entity);

/// <summary>What a Mastodon app does to sign a member in, driven over plain HTTP (the browser test drives a real browser).</summary>
public static partial class OAuthKit
{
    public const string Oob = "urn:ietf:wg:oauth:2.0:oob";
    public const string Password = "correct horse battery";

    public static async Task<RegisteredApp> RegisterAppAsync(FellowsInstance instance, string redirectUris = Oob, string scopes = "read write follow push",
        string name = "Test App")
    {
        var response = await instance.Client.PostAsJsonAsync(new Uri("/api/v1/apps", UriKind.Relative),
            new { client_name = name, redirect_uris = redirectUris.Split(' '), scopes, website = "https://app.example" });
        var app = await Api.JsonAsync(response);
        return new RegisteredApp(app.GetProperty("client_id").GetString()!, app.GetProperty("client_secret").GetString()!, app);
    }

    /// <summary>A PKCE verifier and its S256 challenge (RFC 7636 4.1, 4.2).</summary>
    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A cookie-keeping client that does not follow redirects, like a browser whose every step the test inspects.</summary>
    public static HttpClient Browser(FellowsInstance instance) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri(instance.BaseUrl),
        };

    public static string AuthorizeUrl(RegisteredApp app, string redirectUri = Oob, string scope = "read write follow push", string? state = null,
        string? challenge = null, string? method = "S256", bool forceLogin = false)
    {
        var q = new List<string>
        {
            "response_type=code",
            "client_id=" + Uri.EscapeDataString(app.ClientId),
            "redirect_uri=" + Uri.EscapeDataString(redirectUri),
            "scope=" + Uri.EscapeDataString(scope),
        };
        if (state is not null) q.Add("state=" + Uri.EscapeDataString(state));
        if (challenge is not null) q.Add("code_challenge=" + challenge);
        if (challenge is not null && method is not null) q.Add("code_challenge_method=" + method);
        if (forceLogin) q.Add("force_login=true");
        return "/oauth/authorize?" + string.Join('&', q);
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenInput();

    /// <summary>The hidden fields of the page's form, HTML-decoded.</summary>
    public static Dictionary<string, string> HiddenFields(string html) =>
        HiddenInput().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));

    /// <summary>Signs in on the page shown by <paramref name="signInPage"/>; returns the response (a redirect when it worked).</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string signInPage, string login, string password)
    {
        var fields = HiddenFields(signInPage);
        fields["login"] = login;
        fields["password"] = password;
        return await browser.PostAsync(new Uri("/oauth/sign_in", UriKind.Relative), new FormUrlEncodedContent(fields));
    }

    /// <summary>
    /// Opens the authorization URL, signs in if asked, and answers the consent page; returns the final response
    /// (which comes straight after sign-in when the member already granted the app these scopes).
    /// </summary>
    public static async Task<HttpResponseMessage> AuthorizeAsync(HttpClient browser, string authorizeUrl, string login, string decision = "approve")
    {
        var page = await browser.GetAsync(new Uri(authorizeUrl, UriKind.Relative));
        var html = await page.Content.ReadAsStringAsync();
        if (html.Contains("action=\"/oauth/sign_in\"", StringComparison.Ordinal))
        {
            var signedIn = await SignInAsync(browser, html, login, Password);
            Assert.That(signedIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await signedIn.Content.ReadAsStringAsync());
            page = await browser.GetAsync(signedIn.Headers.Location!);
            html = await page.Content.ReadAsStringAsync();
        }
        if (page.StatusCode == HttpStatusCode.Redirect || html.Contains("id=\"code\"", StringComparison.Ordinal)) return page;
        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), html);
        Assert.That(html, Does.Contain("action=\"/oauth/authorize\""), "the consent page");
        var fields = HiddenFields(html);
        fields["decision"] = decision;
        return await browser.PostAsync(new Uri("/oauth/authorize", UriKind.Relative), new FormUrlEncodedContent(fields));
    }

    [GeneratedRegex("<code id=\"code\" class=\"code\">([^<]*)</code>")]
    private static partial Regex OobCode();

    /// <summary>The code from a redirect's Location or from the out-of-band page.</summary>
    public static async Task<string> CodeFromAsync(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.Redirect)
            return QueryOf(response.Headers.Location!)["code"];
        var html = await response.Content.ReadAsStringAsync();
        var match = OobCode().Match(html);
        Assert.That(match.Success, Is.True, html);
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static Dictionary<string, string> QueryOf(Uri location)
    {
        var text = location.OriginalString;
        var query = text.Contains('?', StringComparison.Ordinal) ? text[(text.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
        return query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('=', 2))
            .ToDictionary(kv => Uri.UnescapeDataString(kv[0]), kv => kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "");
    }

    public static async Task<HttpResponseMessage> TokenAsync(FellowsInstance instance, IDictionary<string, string> form,
        AuthenticationHeaderValue? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = authorization;
        return await instance.Client.SendAsync(request);
    }

    public static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(id) + ":" + Uri.EscapeDataString(secret))));

    /// <summary>The OAuth error code of a failed token request, after checking its status.</summary>
    public static async Task<string> OAuthErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        var json = JsonDocument.Parse(text).RootElement;
        Assert.That(json.GetProperty("error_description").GetString(), Is.Not.Empty);
        return json.GetProperty("error").GetString()!;
    }

    public static HttpClient BearerClient(FellowsInstance instance, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(instance.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Runs the whole authorization-code flow with PKCE and returns the token response.</summary>
    public static async Task<JsonElement> SignInWithCodeAsync(FellowsInstance instance, RegisteredApp app, string login, string scope = "read write follow push")
    {
        using var browser = Browser(instance);
        var (verifier, challenge) = Pkce();
        var code = await CodeFromAsync(await AuthorizeAsync(browser, AuthorizeUrl(app, scope: scope, challenge: challenge), login));
        return await Api.JsonAsync(await TokenAsync(instance, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = Oob, ["code_verifier"] = verifier,
            ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        }));
    }
}
