using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NUnit.Framework;
using static Fellows.Server.Tests.ClientApi.OAuthKit;

namespace Fellows.Server.Tests.ClientApi;

#pragma warning disable CA1861 // expected values read best inline, and these tests run once

/// <summary>Sign-in for Mastodon apps: registration, the authorization page, every grant, revocation and scopes.</summary>
public class OAuthTests
{
    FellowsInstance _instance = null!;
    Member _ann = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _instance = await FellowsInstance.StartAsync("oauth");
        _ann = await _instance.CreateMemberAsync("ann");
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _instance.DisposeAsync();

    static Dictionary<string, string> CodeForm(RegisteredApp app, string code, string? verifier, string redirectUri = Oob) => new()
    {
        ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirectUri,
        ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        ["code_verifier"] = verifier ?? "",
    };

    async Task<string> CodeAsync(RegisteredApp app, string? challenge, string? method = "S256", string login = "ann", string redirectUri = Oob)
    {
        using var browser = Browser(_instance);
        return await CodeFromAsync(await AuthorizeAsync(browser, AuthorizeUrl(app, redirectUri, challenge: challenge, method: method), login));
    }

    async Task<HttpStatusCode> StatusWith(string token, string path)
    {
        using var client = BearerClient(_instance, token);
        return (await client.GetAsync(new Uri(path, UriKind.Relative))).StatusCode;
    }

    [Test]
    public async Task CreateApp_accepts_json_form_and_query_and_returns_credential_application()
    {
        var json = await RegisterAppAsync(_instance, "urn:ietf:wg:oauth:2.0:oob myapp://cb", "read write:statuses");
        var e = json.Entity;
        Assert.That(e.GetProperty("id").GetString(), Does.Match("^[0-9]+$"));
        Assert.That(e.GetProperty("name").GetString(), Is.EqualTo("Test App"));
        Assert.That(e.GetProperty("website").GetString(), Is.EqualTo("https://app.example"));
        Assert.That(e.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { "read", "write:statuses" }));
        Assert.That(e.GetProperty("redirect_uris").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { Oob, "myapp://cb" }));
        Assert.That(e.GetProperty("redirect_uri").GetString(), Is.EqualTo(Oob + "\nmyapp://cb"));
        Assert.That(e.GetProperty("client_secret_expires_at").GetInt64(), Is.Zero);
        Assert.That(json.ClientId, Has.Length.GreaterThanOrEqualTo(40));
        Assert.That(json.ClientSecret, Has.Length.GreaterThanOrEqualTo(40).And.Not.EqualTo(json.ClientId));

        var form = await Api.JsonAsync(await _instance.Client.PostAsync(new Uri("/api/v1/apps", UriKind.Relative), new FormUrlEncodedContent(
            [new("client_name", "Form App"), new("redirect_uris[]", "https://a.example/cb"), new("redirect_uris[]", "https://a.example/cb2")])));
        Assert.That(form.GetProperty("redirect_uris").GetArrayLength(), Is.EqualTo(2));
        Assert.That(form.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { "read" }), "scopes default to read");
        Assert.That(form.GetProperty("website").ValueKind, Is.EqualTo(JsonValueKind.Null));

        var query = await Api.JsonAsync(await _instance.Client.PostAsync(new Uri(
            "/api/v1/apps?client_name=Query+App&redirect_uris=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&scopes=read+write", UriKind.Relative), null));
        Assert.That(query.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { "read", "write" }));

        // The secret is stored only as a hash.
        await using var conn = await _instance.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM oauth_applications WHERE client_secret_hash = sha256(convert_to(@s, 'UTF8'))", conn);
        cmd.Parameters.AddWithValue("s", json.ClientSecret);
        Assert.That(await cmd.ExecuteScalarAsync(), Is.EqualTo(1L));
    }

    [TestCase("{\"redirect_uris\":\"urn:ietf:wg:oauth:2.0:oob\"}", "name")]
    [TestCase("{\"client_name\":\"x\"}", "Redirect URI")]
    [TestCase("{\"client_name\":\"x\",\"redirect_uris\":\"javascript:alert(1)\"}", "javascript")]
    [TestCase("{\"client_name\":\"x\",\"redirect_uris\":\"/relative\"}", "absolute")]
    [TestCase("{\"client_name\":\"x\",\"redirect_uris\":\"https://a.example/cb#frag\"}", "fragment")]
    [TestCase("{\"client_name\":\"x\",\"redirect_uris\":\"myapp://cb\",\"scopes\":\"read everything\"}", "everything")]
    [TestCase("{\"client_name\":\"x\",\"redirect_uris\":\"myapp://cb\",\"website\":\"ftp://a.example\"}", "Website")]
    public async Task CreateApp_with_invalid_input_gets_422(string body, string mentioned)
    {
        var response = await _instance.Client.PostAsync(new Uri("/api/v1/apps", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
        Assert.That(error, Does.StartWith("Validation failed").And.Contain(mentioned));
    }

    [Test]
    public async Task CreateApp_and_token_refuse_huge_and_malformed_bodies()
    {
        using var separate = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        separate.DefaultRequestHeaders.ExpectContinue = true;
        var huge = await separate.PostAsync(new Uri("/api/v1/apps", UriKind.Relative),
            new StringContent("{\"client_name\":\"" + new string('a', 200_000) + "\"}", Encoding.UTF8, "application/json"));
        Assert.That(huge.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        using var separate2 = new HttpClient { BaseAddress = new Uri(_instance.BaseUrl) };
        var hugeForm = await separate2.PostAsync(new Uri("/oauth/token", UriKind.Relative),
            new StringContent("grant_type=password&password=" + new string('a', 200_000), Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.That(await OAuthErrorAsync(hugeForm, HttpStatusCode.RequestEntityTooLarge), Is.EqualTo("invalid_request"));
        var malformed = await _instance.Client.PostAsync(new Uri("/api/v1/apps", UriKind.Relative), new StringContent("{oops", Encoding.UTF8, "application/json"));
        Assert.That(malformed.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var noGrant = await TokenAsync(_instance, new Dictionary<string, string> { ["client_id"] = "x" });
        Assert.That(await OAuthErrorAsync(noGrant, HttpStatusCode.BadRequest), Is.EqualTo("invalid_request"));
    }

    [Test]
    public async Task Metadata_describes_the_authorization_server()
    {
        var m = await Api.JsonAsync(await _instance.Client.GetAsync(new Uri("/.well-known/oauth-authorization-server", UriKind.Relative)));
        Assert.That(m.GetProperty("issuer").GetString(), Is.EqualTo(_instance.BaseUrl + "/"));
        Assert.That(m.GetProperty("authorization_endpoint").GetString(), Is.EqualTo(_instance.BaseUrl + "/oauth/authorize"));
        Assert.That(m.GetProperty("token_endpoint").GetString(), Is.EqualTo(_instance.BaseUrl + "/oauth/token"));
        Assert.That(m.GetProperty("revocation_endpoint").GetString(), Is.EqualTo(_instance.BaseUrl + "/oauth/revoke"));
        Assert.That(m.GetProperty("app_registration_endpoint").GetString(), Is.EqualTo(_instance.BaseUrl + "/api/v1/apps"));
        var scopes = m.GetProperty("scopes_supported").EnumerateArray().Select(s => s.GetString()).ToList();
        Assert.That(scopes, Does.Contain("read").And.Contain("write:statuses").And.Contain("follow").And.Contain("push").And.Contain("admin:read:accounts"));
        Assert.That(m.GetProperty("response_types_supported").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { "code" }));
        Assert.That(m.GetProperty("grant_types_supported").EnumerateArray().Select(s => s.GetString()),
            Is.EquivalentTo(new[] { "authorization_code", "password", "client_credentials", "refresh_token" }));
        Assert.That(m.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(s => s.GetString()), Does.Contain("S256"));
        Assert.That(m.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(s => s.GetString()),
            Is.EquivalentTo(new[] { "client_secret_basic", "client_secret_post" }));
    }

    [Test]
    public async Task AuthorizationCode_with_pkce_custom_scheme_and_basic_auth_issues_working_token()
    {
        var app = await RegisterAppAsync(_instance, "myapp://cb", "read write follow push");
        var (verifier, challenge) = Pkce();
        using var browser = Browser(_instance);
        const string state = "s t&a=\"<te>";
        var url = AuthorizeUrl(app, "myapp://cb", "read write", state, challenge);

        var signInPage = await browser.GetAsync(new Uri(url, UriKind.Relative));
        var html = await signInPage.Content.ReadAsStringAsync();
        Assert.That(signInPage.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(html, Does.Contain("name=\"password\"").And.Contain("Test App"));
        Assert.That(signInPage.Headers.CacheControl?.NoStore, Is.True);
        Assert.That(signInPage.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("frame-ancestors 'none'"));
        var cookies = signInPage.Headers.GetValues("Set-Cookie").ToList();
        Assert.That(cookies, Has.Some.Contains("fellows_csrf").And.Some.Contains("httponly"));

        var redirect = await AuthorizeAsync(browser, url, "ann@oauth.test");
        Assert.That(redirect.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var location = redirect.Headers.Location!.OriginalString;
        Assert.That(location, Does.StartWith("myapp://cb?code="));
        var q = QueryOf(redirect.Headers.Location!);
        Assert.That(q["state"], Is.EqualTo(state), "state comes back unchanged");

        // Client authenticated with HTTP Basic and PKCE at once.
        var form = CodeForm(app, q["code"], verifier, "myapp://cb");
        form.Remove("client_id");
        form.Remove("client_secret");
        var tokenResponse = await TokenAsync(_instance, form, Basic(app.ClientId, app.ClientSecret));
        Assert.That(tokenResponse.Headers.CacheControl?.NoStore, Is.True);
        var token = await Api.JsonAsync(tokenResponse);
        Assert.That(token.GetProperty("token_type").GetString(), Is.EqualTo("Bearer"));
        Assert.That(token.GetProperty("scope").GetString(), Is.EqualTo("read write"));
        Assert.That(token.GetProperty("created_at").GetInt64(), Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(60));
        Assert.That(token.GetProperty("refresh_token").GetString(), Is.Not.Empty);

        using var client = BearerClient(_instance, token.GetProperty("access_token").GetString()!);
        var me = await Api.JsonAsync(await client.GetAsync(new Uri("/api/v1/accounts/verify_credentials", UriKind.Relative)));
        Assert.That(me.GetProperty("username").GetString(), Is.EqualTo("ann"));
        var appInfo = await Api.JsonAsync(await client.GetAsync(new Uri("/api/v1/apps/verify_credentials", UriKind.Relative)));
        Assert.That(appInfo.GetProperty("name").GetString(), Is.EqualTo("Test App"));
        Assert.That(appInfo.TryGetProperty("client_secret", out _), Is.False, "verify_credentials never shows the secret");
        var post = await client.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "signed in through OAuth" });
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AuthorizationCode_replayed_is_refused_and_revokes_the_tokens_it_issued()
    {
        var app = await RegisterAppAsync(_instance);
        var (verifier, challenge) = Pkce();
        var code = await CodeAsync(app, challenge);
        var first = await Api.JsonAsync(await TokenAsync(_instance, CodeForm(app, code, verifier)));
        var access = first.GetProperty("access_token").GetString()!;
        Assert.That(await StatusWith(access, "/api/v1/accounts/verify_credentials"), Is.EqualTo(HttpStatusCode.OK));

        var replay = await TokenAsync(_instance, CodeForm(app, code, verifier));
        Assert.That(await OAuthErrorAsync(replay, HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        Assert.That(await StatusWith(access, "/api/v1/accounts/verify_credentials"), Is.EqualTo(HttpStatusCode.Unauthorized));
        var refresh = await TokenAsync(_instance, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = first.GetProperty("refresh_token").GetString()!,
            ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        });
        Assert.That(await OAuthErrorAsync(refresh, HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"), "its refresh token died with it");
    }

    [Test]
    public async Task AuthorizationCode_pkce_mismatch_missing_or_unasked_verifier_is_invalid_grant()
    {
        var app = await RegisterAppAsync(_instance);
        var (verifier, challenge) = Pkce();
        var (otherVerifier, _) = Pkce();

        var code = await CodeAsync(app, challenge);
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, CodeForm(app, code, otherVerifier)), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, CodeForm(app, code, null)), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, CodeForm(app, code, "short")), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        // Failed attempts do not use the code up: the right verifier still works.
        await Api.JsonAsync(await TokenAsync(_instance, CodeForm(app, code, verifier)));

        var withoutChallenge = await CodeAsync(app, challenge: null);
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, CodeForm(app, withoutChallenge, verifier)), HttpStatusCode.BadRequest),
            Is.EqualTo("invalid_grant"), "a verifier for a code issued without a challenge");
        await Api.JsonAsync(await TokenAsync(_instance, CodeForm(app, withoutChallenge, null)));

        // RFC 7636 "plain": the challenge is the verifier itself; with no method given, plain is assumed.
        var plain = await CodeAsync(app, verifier, method: null);
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, CodeForm(app, plain, otherVerifier)), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        await Api.JsonAsync(await TokenAsync(_instance, CodeForm(app, plain, verifier)));
    }

    [Test]
    public async Task Token_with_wrong_secret_wrong_redirect_or_another_clients_code_is_refused()
    {
        var app = await RegisterAppAsync(_instance, "urn:ietf:wg:oauth:2.0:oob https://app.example/cb");
        var other = await RegisterAppAsync(_instance);
        var (verifier, challenge) = Pkce();
        var code = await CodeAsync(app, challenge);

        var wrongSecret = CodeForm(app, code, verifier);
        wrongSecret["client_secret"] = other.ClientSecret;
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, wrongSecret), HttpStatusCode.Unauthorized), Is.EqualTo("invalid_client"));
        var noSecret = CodeForm(app, code, verifier);
        noSecret.Remove("client_secret");
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, noSecret), HttpStatusCode.Unauthorized), Is.EqualTo("invalid_client"));
        var basicForm = CodeForm(app, code, verifier);
        basicForm.Remove("client_secret");
        var badBasic = await TokenAsync(_instance, basicForm, Basic(app.ClientId, "nope"));
        Assert.That(await OAuthErrorAsync(badBasic, HttpStatusCode.Unauthorized), Is.EqualTo("invalid_client"));
        Assert.That(badBasic.Headers.WwwAuthenticate.ToString(), Does.StartWith("Basic"));

        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, CodeForm(app, code, verifier, "https://app.example/cb")), HttpStatusCode.BadRequest),
            Is.EqualTo("invalid_grant"), "another registered redirect URI than the one authorized");
        var stolen = CodeForm(other, code, verifier);
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, stolen), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        var unknownGrant = CodeForm(app, code, verifier);
        unknownGrant["grant_type"] = "implicit";
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, unknownGrant), HttpStatusCode.BadRequest), Is.EqualTo("unsupported_grant_type"));
        await Api.JsonAsync(await TokenAsync(_instance, CodeForm(app, code, verifier)));
    }

    [Test]
    public async Task Authorize_errors_are_pages_and_never_redirect_to_unregistered_uris()
    {
        var app = await RegisterAppAsync(_instance, "https://app.example/cb", "read");
        using var browser = Browser(_instance);
        async Task<string> ErrorPage(string url)
        {
            var response = await browser.GetAsync(new Uri(url, UriKind.Relative));
            var html = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), html);
            Assert.That(response.Headers.Location, Is.Null);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
            return html;
        }
        Assert.That(await ErrorPage("/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F"), Does.Contain("Unknown application"));
        Assert.That(await ErrorPage(AuthorizeUrl(app, "https://evil.example/cb", "read")), Does.Contain("not registered"));
        Assert.That(await ErrorPage(AuthorizeUrl(app, "https://app.example/cb", "read write")), Does.Contain("scope"));
        Assert.That(await ErrorPage(AuthorizeUrl(app, "https://app.example/cb", "read", challenge: new string('a', 43), method: "S512")), Does.Contain("challenge"));
        Assert.That(await ErrorPage(AuthorizeUrl(app, "https://app.example/cb", "read").Replace("response_type=code", "response_type=token", StringComparison.Ordinal)),
            Does.Contain("response type"));
        Assert.That(await ErrorPage("/oauth/authorize"), Does.Contain("Unknown application"));
    }

    [Test]
    public async Task Pages_escape_app_names_and_state()
    {
        var app = await RegisterAppAsync(_instance, name: "<script>alert(1)</script>");
        using var browser = Browser(_instance);
        var url = AuthorizeUrl(app, state: "\"><script>alert(2)</script>");
        var page = await (await browser.GetAsync(new Uri(url, UriKind.Relative))).Content.ReadAsStringAsync();
        var signedIn = await SignInAsync(browser, page, "ann", Password);
        var consent = await (await browser.GetAsync(signedIn.Headers.Location!)).Content.ReadAsStringAsync();
        foreach (var html in new[] { page, consent })
        {
            Assert.That(html, Does.Not.Contain("<script"));
            Assert.That(html, Does.Contain("&lt;script&gt;"));
        }
        Assert.That(HiddenFields(consent)["state"], Is.EqualTo("\"><script>alert(2)</script>"), "state survives escaping");
    }

    [Test]
    public async Task Forms_without_a_valid_antiforgery_token_are_refused()
    {
        var app = await RegisterAppAsync(_instance);
        using var browser = Browser(_instance);
        var page = await (await browser.GetAsync(new Uri(AuthorizeUrl(app), UriKind.Relative))).Content.ReadAsStringAsync();
        var fields = HiddenFields(page);
        fields["login"] = "ann";
        fields["password"] = Password;

        // Another browser (no antiforgery cookie) posting this page's token, as a cross-site form would.
        using var attacker = Browser(_instance);
        var forged = await attacker.PostAsync(new Uri("/oauth/sign_in", UriKind.Relative), new FormUrlEncodedContent(fields));
        Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await forged.Content.ReadAsStringAsync(), Does.Contain("could not be verified"));
        fields.Remove("authenticity_token");
        var missing = await browser.PostAsync(new Uri("/oauth/sign_in", UriKind.Relative), new FormUrlEncodedContent(fields));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(missing.Headers.Contains("Set-Cookie") && missing.Headers.GetValues("Set-Cookie").Any(c => c.Contains("fellows_session", StringComparison.Ordinal)),
            Is.False, "no session was started");

        // The consent form needs it too.
        var consented = await AuthorizeAsync(browser, AuthorizeUrl(app), "ann");
        Assert.That(consented.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var consentForm = new Dictionary<string, string> { ["client_id"] = app.ClientId, ["redirect_uri"] = Oob, ["response_type"] = "code", ["scope"] = "read", ["decision"] = "approve" };
        var forgedConsent = await browser.PostAsync(new Uri("/oauth/authorize", UriKind.Relative), new FormUrlEncodedContent(consentForm));
        Assert.That(forgedConsent.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await forgedConsent.Content.ReadAsStringAsync(), Does.Not.Contain("id=\"code\""));
    }

    [Test]
    public async Task Session_is_remembered_force_login_asks_again_and_deny_tells_the_app()
    {
        var app = await RegisterAppAsync(_instance, "https://app.example/cb");
        using var browser = Browser(_instance);
        var first = await AuthorizeAsync(browser, AuthorizeUrl(app, "https://app.example/cb", state: "one"), "ann");
        Assert.That(QueryOf(first.Headers.Location!)["state"], Is.EqualTo("one"));
        var session = first.RequestMessage; // signed in now

        var again = await (await browser.GetAsync(new Uri(AuthorizeUrl(app, "https://app.example/cb"), UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.That(again, Does.Contain("action=\"/oauth/authorize\"").And.Contain("@ann@"), "the consent page, straight away");
        var forced = await (await browser.GetAsync(new Uri(AuthorizeUrl(app, "https://app.example/cb", forceLogin: true), UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.That(forced, Does.Contain("action=\"/oauth/sign_in\""));
        Assert.That(HiddenFields(forced)["return_to"], Does.Not.Contain("force_login"), "signing in does not loop back to the sign-in page");
        var afterForce = await (await browser.GetAsync(new Uri(AuthorizeUrl(app, "https://app.example/cb"), UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.That(afterForce, Does.Contain("action=\"/oauth/sign_in\""), "force_login ended the old session");

        var denied = await AuthorizeAsync(browser, AuthorizeUrl(app, "https://app.example/cb", state: "two"), "ann", decision: "deny");
        Assert.That(denied.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var q = QueryOf(denied.Headers.Location!);
        Assert.That(q["error"], Is.EqualTo("access_denied"));
        Assert.That(q["state"], Is.EqualTo("two"));
        Assert.That(q.ContainsKey("code"), Is.False);
        Assert.That(session, Is.Not.Null);
    }

    [Test]
    public async Task Consent_is_skipped_when_the_member_already_granted_the_app_those_scopes()
    {
        var app = await RegisterAppAsync(_instance, "https://app.example/cb", "read write");
        using var browser = Browser(_instance);
        var (verifier, challenge) = Pkce();
        var first = await AuthorizeAsync(browser, AuthorizeUrl(app, "https://app.example/cb", "read write", challenge: challenge), "ann");
        await Api.JsonAsync(await TokenAsync(_instance, CodeForm(app, QueryOf(first.Headers.Location!)["code"], verifier, "https://app.example/cb")));

        var again = await browser.GetAsync(new Uri(AuthorizeUrl(app, "https://app.example/cb", "read", state: "back"), UriKind.Relative));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), "a narrower request than the live grant goes straight back");
        Assert.That(QueryOf(again.Headers.Location!)["state"], Is.EqualTo("back"));
        Assert.That(QueryOf(again.Headers.Location!)["code"], Is.Not.Empty);

        var other = await RegisterAppAsync(_instance, "https://app.example/cb", "read write");
        var otherApp = await browser.GetAsync(new Uri(AuthorizeUrl(other, "https://app.example/cb", "read"), UriKind.Relative));
        Assert.That(await otherApp.Content.ReadAsStringAsync(), Does.Contain("action=\"/oauth/authorize\""), "another app asks for consent");
        var forced = await browser.GetAsync(new Uri(AuthorizeUrl(app, "https://app.example/cb", "read", forceLogin: true), UriKind.Relative));
        Assert.That(await forced.Content.ReadAsStringAsync(), Does.Contain("action=\"/oauth/sign_in\""));
    }

    [Test]
    public async Task Wrong_password_on_the_page_shows_an_error_and_no_session()
    {
        var app = await RegisterAppAsync(_instance);
        using var browser = Browser(_instance);
        var page = await (await browser.GetAsync(new Uri(AuthorizeUrl(app), UriKind.Relative))).Content.ReadAsStringAsync();
        var wrong = await SignInAsync(browser, page, "ann", "not the password");
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var html = await wrong.Content.ReadAsStringAsync();
        Assert.That(html, Does.Contain("Invalid e-mail address or password").And.Contain("value=\"ann\""));
        var unknown = await SignInAsync(browser, html, "nobody-here", "whatever1");
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "an unknown login looks the same");
        var stillOut = await (await browser.GetAsync(new Uri(AuthorizeUrl(app), UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.That(stillOut, Does.Contain("action=\"/oauth/sign_in\""));
    }

    [Test]
    public async Task Loopback_redirect_may_use_any_port_but_not_another_host_or_path()
    {
        var app = await RegisterAppAsync(_instance, "http://127.0.0.1:1/callback");
        var (_, challenge) = Pkce();
        using var browser = Browser(_instance);
        var ok = await AuthorizeAsync(browser, AuthorizeUrl(app, "http://127.0.0.1:54321/callback", challenge: challenge), "ann");
        Assert.That(ok.Headers.Location!.OriginalString, Does.StartWith("http://127.0.0.1:54321/callback?code="));
        var otherPath = await browser.GetAsync(new Uri(AuthorizeUrl(app, "http://127.0.0.1:54321/elsewhere"), UriKind.Relative));
        Assert.That(otherPath.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var otherHost = await browser.GetAsync(new Uri(AuthorizeUrl(app, "http://127.0.0.2:1/callback"), UriKind.Relative));
        Assert.That(otherHost.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task ClientCredentials_gives_an_app_token_without_a_member()
    {
        var app = await RegisterAppAsync(_instance, scopes: "read write");
        var response = await TokenAsync(_instance, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["scope"] = "read",
        });
        var token = await Api.JsonAsync(response);
        Assert.That(token.TryGetProperty("refresh_token", out _), Is.False);
        Assert.That(token.GetProperty("scope").GetString(), Is.EqualTo("read"));
        using var client = BearerClient(_instance, token.GetProperty("access_token").GetString()!);
        var appInfo = await Api.JsonAsync(await client.GetAsync(new Uri("/api/v1/apps/verify_credentials", UriKind.Relative)));
        Assert.That(appInfo.GetProperty("id").GetString(), Is.EqualTo(app.Entity.GetProperty("id").GetString()));
        var me = await client.GetAsync(new Uri("/api/v1/accounts/verify_credentials", UriKind.Relative));
        Assert.That(me.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Does.Contain("authenticated user"));

        var asJson = await Api.JsonAsync(await _instance.Client.PostAsJsonAsync(new Uri("/oauth/token", UriKind.Relative),
            new { grant_type = "client_credentials", client_id = app.ClientId, client_secret = app.ClientSecret, scope = "read write" }));
        Assert.That(asJson.GetProperty("scope").GetString(), Is.EqualTo("read write"), "JSON bodies work too");

        var escalate = await TokenAsync(_instance, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["scope"] = "read admin:read",
        });
        Assert.That(await OAuthErrorAsync(escalate, HttpStatusCode.BadRequest), Is.EqualTo("invalid_scope"));
        var unknown = await TokenAsync(_instance, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["scope"] = "read:everything",
        });
        Assert.That(await OAuthErrorAsync(unknown, HttpStatusCode.BadRequest), Is.EqualTo("invalid_scope"));
    }

    [Test]
    public async Task Password_grant_signs_in_by_username_or_email_within_the_apps_scopes()
    {
        var app = await RegisterAppAsync(_instance, scopes: "read write");
        Dictionary<string, string> Form(string username, string password, string scope) => new()
        {
            ["grant_type"] = "password", ["username"] = username, ["password"] = password, ["scope"] = scope,
            ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        };
        var byName = await Api.JsonAsync(await TokenAsync(_instance, Form("ann", Password, "read")));
        Assert.That(await StatusWith(byName.GetProperty("access_token").GetString()!, "/api/v1/accounts/verify_credentials"), Is.EqualTo(HttpStatusCode.OK));
        var byEmail = await Api.JsonAsync(await TokenAsync(_instance, Form("ANN@oauth.test", Password, "read write")));
        Assert.That(byEmail.GetProperty("refresh_token").GetString(), Is.Not.Empty);
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, Form("ann", "wrong password", "read")), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, Form("ann", Password, "read follow")), HttpStatusCode.BadRequest), Is.EqualTo("invalid_scope"));
    }

    [Test]
    public async Task Refresh_rotates_and_a_reused_refresh_token_revokes_the_family()
    {
        var app = await RegisterAppAsync(_instance);
        var first = await SignInWithCodeAsync(_instance, app, "ann", "read write");
        Dictionary<string, string> Refresh(string refreshToken, string? scope = null)
        {
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken, ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
            };
            if (scope is not null) form["scope"] = scope;
            return form;
        }
        var oldRefresh = first.GetProperty("refresh_token").GetString()!;
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, Refresh(oldRefresh, "read write follow")), HttpStatusCode.BadRequest),
            Is.EqualTo("invalid_scope"), "a refresh cannot widen the scope");
        var second = await Api.JsonAsync(await TokenAsync(_instance, Refresh(oldRefresh, "read")));
        Assert.That(second.GetProperty("scope").GetString(), Is.EqualTo("read"));
        Assert.That(second.GetProperty("refresh_token").GetString(), Is.Not.EqualTo(oldRefresh));
        var newAccess = second.GetProperty("access_token").GetString()!;
        Assert.That(await StatusWith(newAccess, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await StatusWith(first.GetProperty("access_token").GetString()!, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.Unauthorized));

        var other = await RegisterAppAsync(_instance);
        var foreign = Refresh(second.GetProperty("refresh_token").GetString()!);
        foreign["client_id"] = other.ClientId;
        foreign["client_secret"] = other.ClientSecret;
        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, foreign), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));

        Assert.That(await OAuthErrorAsync(await TokenAsync(_instance, Refresh(oldRefresh)), HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        Assert.That(await StatusWith(newAccess, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.Unauthorized), "reuse of a rotated token revokes its family");
    }

    [Test]
    public async Task Revoke_own_token_unknown_token_and_another_clients_token()
    {
        var app = await RegisterAppAsync(_instance);
        var other = await RegisterAppAsync(_instance);
        var token = (await SignInWithCodeAsync(_instance, app, "ann")).GetProperty("access_token").GetString()!;
        var othersToken = (await SignInWithCodeAsync(_instance, other, "ann")).GetProperty("access_token").GetString()!;
        Task<HttpResponseMessage> RevokeAs(RegisteredApp client, string t, string? secret = null) =>
            _instance.Client.PostAsync(new Uri("/oauth/revoke", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = client.ClientId, ["client_secret"] = secret ?? client.ClientSecret, ["token"] = t,
            }));

        var refused = await RevokeAs(app, othersToken);
        Assert.That(await OAuthErrorAsync(refused, HttpStatusCode.Forbidden), Is.EqualTo("unauthorized_client"));
        Assert.That(await StatusWith(othersToken, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await OAuthErrorAsync(await RevokeAs(app, token, "wrong"), HttpStatusCode.Unauthorized), Is.EqualTo("invalid_client"));
        Assert.That(await StatusWith(token, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.OK));

        var ok = await RevokeAs(app, token);
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await ok.Content.ReadFromJsonAsync<JsonElement>()).EnumerateObject().Count(), Is.Zero);
        var revoked = await BearerClient(_instance, token).GetAsync(new Uri("/api/v1/timelines/home", UriKind.Relative));
        Assert.That(revoked.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await revoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Is.EqualTo("The access token is invalid"));
        Assert.That((await RevokeAs(app, token)).StatusCode, Is.EqualTo(HttpStatusCode.OK), "idempotent");
        Assert.That((await RevokeAs(app, "never-issued")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "unknown tokens are fine (RFC 7009)");
    }

    [Test]
    public async Task Scopes_follow_mastodons_hierarchy_on_the_api()
    {
        var app = await RegisterAppAsync(_instance, scopes: "read write follow profile");
        async Task<string> TokenFor(string scope) =>
            (await SignInWithCodeAsync(_instance, app, "ann", scope)).GetProperty("access_token").GetString()!;

        var readStatuses = await TokenFor("read:statuses");
        Assert.That(await StatusWith(readStatuses, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.OK), "read covers read:statuses");
        using (var client = BearerClient(_instance, readStatuses))
        {
            var post = await client.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "no" });
            Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(post.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That((await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Does.Contain("outside the authorized scopes"));
        }
        var writeStatuses = await TokenFor("write:statuses");
        using (var client = BearerClient(_instance, writeStatuses))
            Assert.That((await client.PostAsJsonAsync(new Uri("/api/v1/statuses", UriKind.Relative), new { status = "granular" })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await StatusWith(writeStatuses, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.Forbidden));

        var follow = await TokenFor("follow");
        Assert.That(await StatusWith(follow, $"/api/v1/accounts/relationships?id[]={_ann.AccountId}"), Is.EqualTo(HttpStatusCode.OK), "follow covers read:follows");
        Assert.That(await StatusWith(follow, "/api/v1/timelines/home"), Is.EqualTo(HttpStatusCode.Forbidden));

        var profile = await TokenFor("profile");
        Assert.That(await StatusWith(profile, "/api/v1/accounts/verify_credentials"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await StatusWith(profile, "/api/v1/follow_requests"), Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await StatusWith(await TokenFor("read:accounts"), "/api/v1/accounts/verify_credentials"), Is.EqualTo(HttpStatusCode.OK));

        using var browser = Browser(_instance);
        var escalation = await browser.GetAsync(new Uri(AuthorizeUrl(app, scope: "read admin:read"), UriKind.Relative));
        Assert.That(escalation.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "scopes beyond the app's are refused on the page");
    }

    [Test]
    public async Task Apps_with_tokens_are_never_deleted_by_cascade()
    {
        var app = await RegisterAppAsync(_instance);
        await SignInWithCodeAsync(_instance, app, "ann");
        await using var conn = await _instance.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("DELETE FROM oauth_applications WHERE client_id = @id", conn);
        cmd.Parameters.AddWithValue("id", app.ClientId);
        var error = Assert.ThrowsAsync<PostgresException>(async () => await cmd.ExecuteNonQueryAsync());
        Assert.That(error!.SqlState, Is.EqualTo(PostgresErrorCodes.ForeignKeyViolation));
    }
}
