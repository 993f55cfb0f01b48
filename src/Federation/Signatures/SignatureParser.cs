using System.Globalization;
using System.Text;

namespace Fellows.Federation.Signatures;

/// <summary>
/// Reads the signature of an inbound request, in either format, and rebuilds the bytes it covers.
/// Parsing needs no key, so a request that cannot possibly verify is turned away before any
/// key fetch. Input is hostile: sizes are bounded and failures are values, never exceptions.
/// </summary>
public static class SignatureParser
{
    /// <summary>Longest signature header accepted. Real ones are well under 1 KiB.</summary>
    public const int MaxHeaderLength = 8192;

    /// <summary>Most components a signature may cover.</summary>
    public const int MaxComponents = 32;

    /// <summary>Longest key id accepted.</summary>
    public const int MaxKeyIdLength = 2048;

    // Senders that omit headers= mean just the Date header: that is what draft-cavage up to -10
    // and Mastodon assume (draft -12 says "(created)", but nobody sends that way).
    private static readonly string[] CavageDefaultHeaders = ["date"];

    // Parameter names are case-sensitive in draft-cavage; the order fixes the slots used below.
    private static readonly string[] CavageParameterNames = ["keyId", "algorithm", "headers", "signature", "created", "expires"];

    /// <summary>
    /// Parses the request's signature. RFC 9421 (<c>Signature-Input</c>) is preferred when present,
    /// else a cavage <c>Signature</c> header, else <c>Authorization: Signature …</c>.
    /// </summary>
    public static SignatureParseResult TryParse(IncomingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var input = request.Headers["Signature-Input"];
        if (input is not null)
            return TryParseRfc9421(request, input);

        var cavage = request.Headers["Signature"];
        if (cavage is null)
        {
            var authorization = request.Headers["Authorization"];
            if (authorization is not null && authorization.StartsWith("Signature ", StringComparison.OrdinalIgnoreCase))
                cavage = authorization["Signature ".Length..];
        }

        return cavage is null
            ? SignatureParseResult.Fail(SignatureFailure.MissingSignature, "no Signature-Input, Signature or Authorization: Signature header")
            : TryParseCavage(request, cavage);
    }

    private static SignatureParseResult TryParseCavage(IncomingRequest request, string header)
    {
        if (header.Length > MaxHeaderLength)
            return SignatureParseResult.Fail(SignatureFailure.HeaderTooLarge, "Signature header too large");

        var values = new string?[CavageParameterNames.Length];
        var s = header.AsSpan();
        var i = 0;
        while (true)
        {
            while (i < s.Length && s[i] is ' ' or '\t')
                i++;
            if (i >= s.Length)
                break;

            var nameStart = i;
            while (i < s.Length && s[i] != '=' && s[i] != ',')
                i++;
            if (i >= s.Length || s[i] != '=')
                return Malformed("parameter without a value");
            var name = s[nameStart..i].Trim();
            i++; // '='

            string value;
            if (i < s.Length && s[i] == '"')
            {
                var valueStart = ++i;
                while (i < s.Length && s[i] != '"')
                    i++;
                if (i >= s.Length)
                    return Malformed("unterminated quoted value");
                value = header[valueStart..i];
                i++; // closing quote
            }
            else
            {
                // created/expires are bare numbers in draft -12.
                var valueStart = i;
                while (i < s.Length && s[i] != ',')
                    i++;
                value = header[valueStart..i].TrimEnd(' ', '\t');
            }

            var slot = Array.IndexOf(CavageParameterNames, name.ToString());
            if (slot >= 0)
            {
                // A repeated parameter is ambiguous; a verifier and a logger could read different ones.
                if (values[slot] is not null)
                    return Malformed($"repeated parameter {name}");
                values[slot] = value;
            }

            while (i < s.Length && s[i] is ' ' or '\t')
                i++;
            if (i < s.Length)
            {
                if (s[i] != ',')
                    return Malformed("expected ',' between parameters");
                i++;
            }
        }

        var (keyId, algorithm, headers, signature, created, expires) = (values[0], values[1], values[2], values[3], values[4], values[5]);
        if (string.IsNullOrEmpty(keyId))
            return SignatureParseResult.Fail(SignatureFailure.MissingParameter, "keyId missing");
        if (keyId.Length > MaxKeyIdLength)
            return SignatureParseResult.Fail(SignatureFailure.HeaderTooLarge, "keyId too long");
        if (string.IsNullOrEmpty(signature))
            return SignatureParseResult.Fail(SignatureFailure.MissingParameter, "signature missing");
        if (algorithm is not null && !IsKnownCavageAlgorithm(algorithm))
            return SignatureParseResult.Fail(SignatureFailure.UnsupportedAlgorithm, $"algorithm '{Truncate(algorithm)}' not supported");

        var signatureBytes = new byte[signature.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(signature, signatureBytes, out var signatureLength))
            return Malformed("signature is not base64");

        DateTimeOffset? createdAt = null, expiresAt = null;
        if (created is not null)
        {
            if (!TryParseUnixTime(created, out var t))
                return SignatureParseResult.Fail(SignatureFailure.InvalidDate, "created is not a Unix time");
            createdAt = t;
        }

        if (expires is not null)
        {
            if (!TryParseUnixTime(expires, out var t))
                return SignatureParseResult.Fail(SignatureFailure.InvalidDate, "expires is not a Unix time");
            expiresAt = t;
        }

        string[] components;
        if (headers is null)
        {
            components = CavageDefaultHeaders;
        }
        else
        {
            components = headers.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (components.Length == 0)
                return Malformed("headers is empty");
            if (components.Length > MaxComponents)
                return SignatureParseResult.Fail(SignatureFailure.HeaderTooLarge, "too many covered headers");
        }

        var sb = new StringBuilder(256);
        for (var n = 0; n < components.Length; n++)
        {
            var component = components[n];
            if (Array.IndexOf(components, component, 0, n) >= 0)
                return Malformed($"header '{Truncate(component)}' listed twice");
            if (n > 0)
                sb.Append('\n');

            string? value;
            switch (component)
            {
                case "(request-target)":
                    value = request.Method.ToLowerInvariant() + " " + request.PathAndQuery;
                    break;
                case "(created)":
                    value = created;
                    break;
                case "(expires)":
                    value = expires;
                    break;
                case "host":
                    value = request.Headers["Host"] ?? request.Authority;
                    break;
                default:
                    if (component.StartsWith('('))
                        return SignatureParseResult.Fail(SignatureFailure.UnsupportedComponent, $"pseudo-header '{Truncate(component)}' not supported");
                    value = request.Headers[component];
                    break;
            }

            if (value is null)
                return SignatureParseResult.Fail(SignatureFailure.MissingComponentValue, $"covered header '{Truncate(component)}' is absent");
            if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
                return Malformed($"header '{Truncate(component)}' contains a line break");
            sb.Append(component).Append(": ").Append(value.AsSpan().Trim(" \t"));
        }

        return SignatureParseResult.Ok(new ParsedSignature(
            SignatureScheme.Cavage,
            keyId,
            algorithm,
            components,
            Encoding.UTF8.GetBytes(sb.ToString()),
            signatureBytes.AsSpan(0, signatureLength).ToArray())
        {
            Created = createdAt,
            Expires = expiresAt,
        });
    }

    private static SignatureParseResult TryParseRfc9421(IncomingRequest request, string inputHeader)
    {
        var signatureHeader = request.Headers["Signature"];
        if (signatureHeader is null)
            return SignatureParseResult.Fail(SignatureFailure.MissingSignature, "Signature-Input without Signature");
        if (inputHeader.Length > MaxHeaderLength || signatureHeader.Length > MaxHeaderLength)
            return SignatureParseResult.Fail(SignatureFailure.HeaderTooLarge, "signature header too large");
        if (!StructuredFieldParser.TryParseDictionary(inputHeader, out var inputs))
            return Malformed("Signature-Input is not a structured-field dictionary");
        if (!StructuredFieldParser.TryParseDictionary(signatureHeader, out var signatures))
            return Malformed("Signature is not a structured-field dictionary");

        // Several signatures may be present (e.g. one added by a proxy); take the first label that
        // has both an input and a signature value.
        SfMember? input = null;
        byte[]? signatureBytes = null;
        foreach (var candidate in inputs)
        {
            if (candidate.InnerList is null)
                continue;
            var sig = signatures.Find(m => m.Key == candidate.Key);
            if (sig?.Item is { Kind: SfKind.ByteSequence } item)
            {
                input = candidate;
                signatureBytes = item.Bytes;
                break;
            }
        }

        if (input is null || signatureBytes is null)
            return Malformed("no label has both a Signature-Input and a Signature");

        string? keyId = null, algorithm = null, nonce = null;
        DateTimeOffset? created = null, expires = null;
        foreach (var (name, value) in input.Parameters)
        {
            switch (name)
            {
                case "keyid" when value.Kind == SfKind.String:
                    keyId = value.Text;
                    break;
                case "alg" when value.Kind == SfKind.String:
                    algorithm = value.Text;
                    break;
                case "nonce" when value.Kind == SfKind.String:
                    nonce = value.Text;
                    break;
                case "created" when value.Kind == SfKind.Integer:
                    created = FromUnix(value.Integer);
                    break;
                case "expires" when value.Kind == SfKind.Integer:
                    expires = FromUnix(value.Integer);
                    break;
                case "keyid" or "alg" or "nonce" or "created" or "expires":
                    return Malformed($"parameter {name} has the wrong type");
            }
        }

        if (string.IsNullOrEmpty(keyId))
            return SignatureParseResult.Fail(SignatureFailure.MissingParameter, "keyid missing");
        if (keyId.Length > MaxKeyIdLength)
            return SignatureParseResult.Fail(SignatureFailure.HeaderTooLarge, "keyid too long");
        if (algorithm is not null && algorithm is not ("rsa-v1_5-sha256" or "rsa-pss-sha512" or "ed25519"))
            return SignatureParseResult.Fail(SignatureFailure.UnsupportedAlgorithm, $"alg '{Truncate(algorithm)}' not supported");

        var components = new string[input.InnerList!.Count];
        var sb = new StringBuilder(256);
        for (var n = 0; n < components.Length; n++)
        {
            var entry = input.InnerList[n];
            if (entry.Item.Kind != SfKind.String)
                return Malformed("covered component is not a string");
            var name = entry.Item.Text!;
            // Parameters (;sf, ;key, ;bs, ;req, ;name) change how a value is derived; we do not
            // reproduce them, and guessing would verify something other than what was signed.
            if (entry.Parameters.Count > 0)
                return SignatureParseResult.Fail(SignatureFailure.UnsupportedComponent, $"component parameters on '{Truncate(name)}' not supported");
            if (name.Length == 0 || name.Any(char.IsAsciiLetterUpper))
                return Malformed("component names must be lower case");
            if (Array.IndexOf(components, name, 0, n) >= 0)
                return Malformed($"component '{Truncate(name)}' listed twice");
            components[n] = name;

            string? value;
            if (name[0] == '@')
            {
                value = DerivedComponent(request, name);
                if (value is null)
                    return SignatureParseResult.Fail(SignatureFailure.UnsupportedComponent, $"derived component '{Truncate(name)}' not supported");
            }
            else
            {
                value = request.Headers[name];
                if (value is null)
                    return SignatureParseResult.Fail(SignatureFailure.MissingComponentValue, $"covered field '{Truncate(name)}' is absent");
                if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
                    return Malformed($"field '{Truncate(name)}' contains a line break");
                value = value.Trim(' ', '\t');
            }

            sb.Append('"').Append(name).Append("\": ").Append(value).Append('\n');
        }

        // The signature-params line is the canonical serialization of the inner list, which is what
        // the signer signed; re-serializing (instead of copying the received text) also normalises
        // any extra whitespace a sender or intermediary put in the header.
        sb.Append("\"@signature-params\": (");
        for (var n = 0; n < components.Length; n++)
        {
            if (n > 0)
                sb.Append(' ');
            sb.Append('"').Append(components[n]).Append('"');
        }

        sb.Append(')');
        foreach (var (name, value) in input.Parameters)
        {
            sb.Append(';').Append(name);
            if (value is not { Kind: SfKind.Boolean, Boolean: true })
            {
                sb.Append('=');
                value.WriteTo(sb);
            }
        }

        return SignatureParseResult.Ok(new ParsedSignature(
            SignatureScheme.Rfc9421,
            keyId,
            algorithm,
            components,
            Encoding.UTF8.GetBytes(sb.ToString()),
            signatureBytes)
        {
            Label = input.Key,
            Created = created,
            Expires = expires,
            Nonce = nonce,
        });
    }

    private static string? DerivedComponent(IncomingRequest request, string name)
    {
        var pathAndQuery = request.PathAndQuery;
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return name switch
        {
            "@method" => request.Method,
            "@target-uri" => request.Target.Scheme + "://" + request.Authority + pathAndQuery,
            "@authority" => request.Authority,
            "@scheme" => request.Target.Scheme,
            "@request-target" => pathAndQuery,
            "@path" => q < 0 ? pathAndQuery : pathAndQuery[..q],
            "@query" => q < 0 ? "?" : pathAndQuery[q..],
            _ => null,
        };
    }

    private static bool IsKnownCavageAlgorithm(string algorithm) =>
        algorithm is "hs2019" or "rsa-sha256" or "rsa-sha512" or "ed25519";

    private static bool TryParseUnixTime(string text, out DateTimeOffset value)
    {
        value = default;
        // Draft -12 allows sub-second precision on expires; only the whole seconds matter here.
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? text.AsSpan() : text.AsSpan(0, dot);
        if (whole.Length is 0 or > 15 || !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return false;
        value = FromUnix(seconds);
        return true;
    }

    private static DateTimeOffset FromUnix(long seconds) =>
        // Clamp instead of throwing: absurd values then fail the skew check with a clear reason.
        DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253_402_300_799));

    private static SignatureParseResult Malformed(string reason) =>
        SignatureParseResult.Fail(SignatureFailure.MalformedHeader, reason);

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
