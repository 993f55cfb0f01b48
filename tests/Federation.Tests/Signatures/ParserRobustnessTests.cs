using System.Text;
using Fellows.Federation.Signatures;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Signatures;

public class ParserRobustnessTests
{
    private static KeyValuePair<string, string> H(string name, string value) => new(name, value);

    private static IncomingRequest Request(params KeyValuePair<string, string>[] headers) =>
        IncomingRequest.Create("POST", new Uri("https://fellows.example/users/alice/inbox"),
            [H("Host", "fellows.example"), H("Date", "Sat, 01 Mar 2025 12:00:00 GMT"), .. headers], Encoding.UTF8.GetBytes("{}"));

    [Test]
    public void TryParse_no_signature_fails_with_missing_signature()
    {
        Assert.That(SignatureParser.TryParse(Request()).Error!.Failure, Is.EqualTo(SignatureFailure.MissingSignature));
    }

    [TestCase("garbage", SignatureFailure.MalformedHeader)]
    [TestCase("", SignatureFailure.MissingParameter)]
    [TestCase("keyId=\"k\"", SignatureFailure.MissingParameter)]
    [TestCase("signature=\"AAAA\"", SignatureFailure.MissingParameter)]
    [TestCase("keyId=\"k\",signature=\"AAAA", SignatureFailure.MalformedHeader)]
    [TestCase("keyId=\"k\",signature=\"not base64!\"", SignatureFailure.MalformedHeader)]
    [TestCase("keyId=\"k\",keyId=\"j\",signature=\"AAAA\"", SignatureFailure.MalformedHeader)]
    [TestCase("keyId=\"k\",algorithm=\"hmac-sha256\",signature=\"AAAA\"", SignatureFailure.UnsupportedAlgorithm)]
    [TestCase("keyId=\"k\",headers=\"(request-target) x-missing\",signature=\"AAAA\"", SignatureFailure.MissingComponentValue)]
    [TestCase("keyId=\"k\",headers=\"(nonsense)\",signature=\"AAAA\"", SignatureFailure.UnsupportedComponent)]
    [TestCase("keyId=\"k\",headers=\"date date\",signature=\"AAAA\"", SignatureFailure.MalformedHeader)]
    [TestCase("keyId=\"k\",headers=\"(created)\",created=abc,signature=\"AAAA\"", SignatureFailure.InvalidDate)]
    [TestCase("keyId=\"k\" signature=\"AAAA\"", SignatureFailure.MalformedHeader)]
    public void TryParse_bad_cavage_header_fails_with_reason(string header, SignatureFailure expected)
    {
        var result = SignatureParser.TryParse(Request(H("Signature", header)));

        Assert.That(result.Success, Is.False);
        Assert.That(result.Error!.Failure, Is.EqualTo(expected), result.Error.Reason);
    }

    [TestCase("sig1=(\"@method\");keyid=\"k\"", "garbage", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"@method\";keyid=\"k\"", "sig1=:AAAA:", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"@method\");keyid=\"k\"", "sig2=:AAAA:", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"@method\")", "sig1=:AAAA:", SignatureFailure.MissingParameter)]
    [TestCase("sig1=(\"@method\");keyid=k", "sig1=:AAAA:", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"@method\");keyid=\"k\";alg=\"hmac-sha256\"", "sig1=:AAAA:", SignatureFailure.UnsupportedAlgorithm)]
    [TestCase("sig1=(\"@status\");keyid=\"k\"", "sig1=:AAAA:", SignatureFailure.UnsupportedComponent)]
    [TestCase("sig1=(\"@query-param\";name=\"a\");keyid=\"k\"", "sig1=:AAAA:", SignatureFailure.UnsupportedComponent)]
    [TestCase("sig1=(\"X-Upper\");keyid=\"k\"", "sig1=:AAAA:", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"x-missing\");keyid=\"k\"", "sig1=:AAAA:", SignatureFailure.MissingComponentValue)]
    [TestCase("sig1=(\"date\" \"date\");keyid=\"k\"", "sig1=:AAAA:", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"@method\");keyid=\"k\",", "sig1=:AAAA:", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"@method\");created=99999999999999999999;keyid=\"k\"", "sig1=:AAAA:", SignatureFailure.MalformedHeader)]
    [TestCase("sig1=(\"@method\");keyid=\"\\x\"", "sig1=:AAAA:", SignatureFailure.MalformedHeader)]
    public void TryParse_bad_rfc9421_headers_fail_with_reason(string input, string signature, SignatureFailure expected)
    {
        var result = SignatureParser.TryParse(Request(H("Signature-Input", input), H("Signature", signature)));

        Assert.That(result.Success, Is.False);
        Assert.That(result.Error!.Failure, Is.EqualTo(expected), result.Error.Reason);
    }

    [Test]
    public void TryParse_huge_headers_fail_as_too_large()
    {
        var huge = "keyId=\"" + new string('a', 100_000) + "\",signature=\"AAAA\"";
        var hugeInput = "sig1=(" + string.Concat(Enumerable.Repeat("\"date\" ", 5000)) + ");keyid=\"k\"";

        Assert.That(SignatureParser.TryParse(Request(H("Signature", huge))).Error!.Failure, Is.EqualTo(SignatureFailure.HeaderTooLarge));
        Assert.That(SignatureParser.TryParse(Request(H("Signature-Input", hugeInput), H("Signature", "sig1=:AAAA:"))).Error!.Failure, Is.EqualTo(SignatureFailure.HeaderTooLarge));
    }

    [Test]
    public void TryParse_too_many_components_fails()
    {
        var input = "sig1=(" + string.Join(' ', Enumerable.Range(0, 40).Select(i => $"\"h{i}\"")) + ");keyid=\"k\"";

        Assert.That(SignatureParser.TryParse(Request(H("Signature-Input", input), H("Signature", "sig1=:AAAA:"))).Success, Is.False);
    }

    [Test]
    public void TryParse_authorization_signature_is_used_when_no_signature_header()
    {
        var result = SignatureParser.TryParse(Request(H("Authorization", "Signature keyId=\"k\",headers=\"date\",signature=\"AAAA\"")));

        Assert.That(result.Success, Is.True);
        Assert.That(result.Signature!.KeyId, Is.EqualTo("k"));
    }

    [Test]
    public void TryParse_random_input_never_throws()
    {
        // A cheap fuzz over both grammars: random mutations of valid headers must yield a value, never an exception.
        var random = new Random(8421);
        string[] seeds =
        [
            "keyId=\"https://a.example/u#k\",algorithm=\"hs2019\",headers=\"(request-target) host date digest\",signature=\"AAAA\"",
            "sig1=(\"@method\" \"@target-uri\" \"@authority\" \"content-digest\");created=1740830400;keyid=\"k\";alg=\"ed25519\"",
        ];
        const string alphabet = "\"(),;=:?*-_ .\\\taZz09@+/\u00e9\u0000\r\n";
        for (var n = 0; n < 20_000; n++)
        {
            var chars = seeds[n % 2].ToCharArray().ToList();
            for (var m = random.Next(1, 6); m > 0; m--)
            {
                var at = random.Next(chars.Count + 1);
                switch (random.Next(3))
                {
                    case 0 when at < chars.Count: chars.RemoveAt(at); break;
                    case 1 when at < chars.Count: chars[at] = alphabet[random.Next(alphabet.Length)]; break;
                    default: chars.Insert(at, alphabet[random.Next(alphabet.Length)]); break;
                }
            }

            var mutated = new string(chars.ToArray());
            var request = n % 2 == 0
                ? Request(H("Signature", mutated))
                : Request(H("Signature-Input", mutated), H("Signature", "sig1=:AAAA:"), H("Content-Digest", "sha-256=:AAAA:"));
            Assert.DoesNotThrow(() => SignatureParser.TryParse(request), mutated);
        }
    }
}
