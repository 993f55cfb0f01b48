using System.Diagnostics;
using System.Text;
using Fellows.Federation.Signatures;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Signatures;

/// <summary>A rough single-thread throughput check of the inbox hot path; run by hand (it is explicit).</summary>
[Explicit("timing, run by hand")]
public class ThroughputCheck
{
    [Test]
    public void ParseAndVerify_cavage_rsa_throughput()
    {
        using var pair = ActorKeyPair.GenerateRsa();
        using var signingKey = pair.ToSigningKey(MastodonProfileTests.KeyId);
        using var key = pair.ToVerificationKey(MastodonProfileTests.KeyId, MastodonProfileTests.Actor);
        var body = Encoding.UTF8.GetBytes(MastodonProfileTests.Body);
        using var message = new HttpRequestMessage(HttpMethod.Post, "https://remote.example/users/bob/inbox") { Content = new ByteArrayContent(body) };
        new HttpMessageSigner(signingKey, new FixedTimeProvider(MastodonProfileTests.Now)).Sign(message, body, SignatureScheme.Cavage);
        var request = MastodonProfileTests.ToIncoming(message, body);

        const int n = 20_000;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            var parsed = SignatureParser.TryParse(request);
            if (!SignatureVerifier.Verify(parsed.Signature!, request, key, MastodonProfileTests.Now).IsValid)
                Assert.Fail("did not verify");
        }

        watch.Stop();
        TestContext.Out.WriteLine($"{n / watch.Elapsed.TotalSeconds:F0} verifications/s on one thread");
        Assert.Pass();
    }
}
