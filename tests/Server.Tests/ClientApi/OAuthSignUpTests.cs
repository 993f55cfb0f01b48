using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fellows.Server.Cli;
using NUnit.Framework;
using static Fellows.Server.Tests.ClientApi.OAuthKit;

namespace Fellows.Server.Tests.ClientApi;

/// <summary>Sign-up through the API under each <c>Instance:Registrations</c> setting, and admission by an admin.</summary>
public class OAuthSignUpTests
{
    FellowsInstance _approval = null!;
    FellowsInstance _open = null!;
    FellowsInstance _closed = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _approval = await FellowsInstance.StartAsync("signup");
        _open = await FellowsInstance.StartAsync("signupopen", settings: new Dictionary<string, string?> { ["Instance:Registrations"] = "open" });
        _closed = await FellowsInstance.StartAsync("signupclosed", settings: new Dictionary<string, string?> { ["Instance:Registrations"] = "closed" });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _approval.DisposeAsync();
        await _open.DisposeAsync();
        await _closed.DisposeAsync();
    }

    static async Task<(RegisteredApp App, HttpClient Client)> AppClientAsync(FellowsInstance instance, string scope = "read write follow push")
    {
        var app = await RegisterAppAsync(instance);
        var token = await Api.JsonAsync(await TokenAsync(instance, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret, ["scope"] = scope,
        }));
        return (app, BearerClient(instance, token.GetProperty("access_token").GetString()!));
    }

    static object Applicant(string username) => new
    {
        username, email = $"{username}@example.org", password = "a long enough password", agreement = true, locale = "en",
        reason = "I work at the bakery co-op",
    };

    [Test]
    public async Task SignUp_under_approval_waits_until_an_admin_approves_with_the_command_line()
    {
        var (app, client) = await AppClientAsync(_approval);
        var token = await Api.JsonAsync(await client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("zed")));
        Assert.That(token.GetProperty("token_type").GetString(), Is.EqualTo("Bearer"));
        Assert.That(token.GetProperty("scope").GetString(), Is.EqualTo("read write follow push"));
        using var member = BearerClient(_approval, token.GetProperty("access_token").GetString()!);

        var pending = await member.GetAsync(new Uri("/api/v1/accounts/verify_credentials", UriKind.Relative));
        Assert.That(pending.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await pending.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Does.Contain("pending approval"));
        var password = await TokenAsync(_approval, new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = "zed@example.org", ["password"] = "a long enough password",
            ["client_id"] = app.ClientId, ["client_secret"] = app.ClientSecret,
        });
        Assert.That(await OAuthErrorAsync(password, HttpStatusCode.BadRequest), Is.EqualTo("invalid_grant"));
        using (var browser = Browser(_approval))
        {
            var page = await (await browser.GetAsync(new Uri(AuthorizeUrl(app), UriKind.Relative))).Content.ReadAsStringAsync();
            var signIn = await SignInAsync(browser, page, "zed", "a long enough password");
            Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await signIn.Content.ReadAsStringAsync(), Does.Contain("waiting for the co-op"));
        }

        Assert.That(await RunCliAsync(_approval, "accounts", "approve", "zed"), Is.Zero);
        var me = await Api.JsonAsync(await member.GetAsync(new Uri("/api/v1/accounts/verify_credentials", UriKind.Relative)));
        Assert.That(me.GetProperty("username").GetString(), Is.EqualTo("zed"));
        Assert.That(await RunCliAsync(_approval, "accounts", "approve", "nobody"), Is.Not.Zero);
    }

    /// <summary>The admin command line against the instance's database, as an operator runs it.</summary>
    static async Task<int> RunCliAsync(FellowsInstance instance, params string[] args)
    {
        Environment.SetEnvironmentVariable("ConnectionStrings__Main", instance.ConnectionString);
        Environment.SetEnvironmentVariable("Instance__DataDirectory", TestCluster.NewDirectory("cli"));
        try
        {
            return await AdminCli.RunAsync(args);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ConnectionStrings__Main", null);
            Environment.SetEnvironmentVariable("Instance__DataDirectory", null);
        }
    }

    [Test]
    public async Task SignUp_validates_every_field_in_mastodons_shape()
    {
        var (_, client) = await AppClientAsync(_approval);
        await Api.JsonAsync(await client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("yan")));

        var response = await client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative),
            new { username = "YAN", email = "not-an-address", password = "short", agreement = false, locale = "<script>" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(body.GetProperty("error").GetString(), Does.StartWith("Validation failed: ").And.Contain("Username is already taken"));
        var details = body.GetProperty("details");
        string Code(string field) => details.GetProperty(field)[0].GetProperty("error").GetString()!;
        Assert.That(Code("username"), Is.EqualTo("ERR_TAKEN"));
        Assert.That(Code("email"), Is.EqualTo("ERR_INVALID"));
        Assert.That(Code("password"), Is.EqualTo("ERR_TOO_SHORT"));
        Assert.That(Code("agreement"), Is.EqualTo("ERR_ACCEPTED"));
        Assert.That(Code("locale"), Is.EqualTo("ERR_INCLUSION"));

        var reserved = await client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("admin"));
        Assert.That((await reserved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("details").GetProperty("username")[0].GetProperty("error").GetString(),
            Is.EqualTo("ERR_RESERVED"));
        var sameEmail = await client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative),
            new { username = "yan2", email = "YAN@example.org", password = "a long enough password", agreement = "1" });
        Assert.That((await sameEmail.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("details").GetProperty("email")[0].GetProperty("error").GetString(),
            Is.EqualTo("ERR_TAKEN"));
        var blank = await client.PostAsync(new Uri("/api/v1/accounts", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>()));
        var blankDetails = (await blank.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("details");
        Assert.That(blankDetails.GetProperty("username")[0].GetProperty("error").GetString(), Is.EqualTo("ERR_BLANK"));
        Assert.That(blankDetails.GetProperty("password")[0].GetProperty("error").GetString(), Is.EqualTo("ERR_BLANK"));
    }

    [Test]
    public async Task SignUp_needs_a_token_with_write_accounts()
    {
        var anonymous = await _approval.Client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("xia"));
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var (_, readOnly) = await AppClientAsync(_approval, "read");
        var refused = await readOnly.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("xia"));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        // A command-line token (no application) is refused before anything is created.
        var admin = await _approval.CreateMemberAsync("uma");
        var noApp = await admin.Api.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("xia"));
        Assert.That(noApp.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var (_, client) = await AppClientAsync(_approval);
        await Api.JsonAsync(await client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("xia")));
    }

    [Test]
    public async Task SignUp_on_an_open_instance_works_at_once_and_a_closed_one_refuses()
    {
        var (_, client) = await AppClientAsync(_open);
        var token = await Api.JsonAsync(await client.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("wil")));
        using var member = BearerClient(_open, token.GetProperty("access_token").GetString()!);
        var me = await Api.JsonAsync(await member.GetAsync(new Uri("/api/v1/accounts/verify_credentials", UriKind.Relative)));
        Assert.That(me.GetProperty("username").GetString(), Is.EqualTo("wil"));

        var (_, closedClient) = await AppClientAsync(_closed);
        var closed = await closedClient.PostAsJsonAsync(new Uri("/api/v1/accounts", UriKind.Relative), Applicant("vic"));
        Assert.That(closed.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await closed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), Does.Contain("closed"));
    }
}
