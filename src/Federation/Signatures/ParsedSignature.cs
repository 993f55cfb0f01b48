namespace Fellows.Federation.Signatures;

/// <summary>
/// A signature read from a request, with its signature base already rebuilt from that request,
/// ready for <see cref="SignatureVerifier"/> once the caller has fetched the key named by <see cref="KeyId"/>.
/// </summary>
public sealed class ParsedSignature
{
    internal ParsedSignature(
        SignatureScheme scheme,
        string keyId,
        string? algorithm,
        IReadOnlyList<string> components,
        byte[] signatureBase,
        byte[] signature)
    {
        Scheme = scheme;
        KeyId = keyId;
        Algorithm = algorithm;
        Components = components;
        SignatureBase = signatureBase;
        Signature = signature;
    }

    /// <summary>Which format the request was signed with.</summary>
    public SignatureScheme Scheme { get; }

    /// <summary>The RFC 9421 signature label (e.g. <c>sig1</c>); null for cavage.</summary>
    public string? Label { get; init; }

    /// <summary>The key id to fetch (cavage <c>keyId</c>, RFC 9421 <c>keyid</c>).</summary>
    public string KeyId { get; }

    /// <summary>The algorithm as named by the sender, or null when it sent none.</summary>
    public string? Algorithm { get; }

    /// <summary>The <c>created</c> parameter, when present.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>The <c>expires</c> parameter, when present.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>The RFC 9421 <c>nonce</c> parameter, when present.</summary>
    public string? Nonce { get; init; }

    /// <summary>
    /// Covered components, lower-cased: cavage header names such as <c>(request-target)</c> and <c>digest</c>,
    /// or RFC 9421 component names such as <c>@method</c> and <c>content-digest</c>.
    /// </summary>
    public IReadOnlyList<string> Components { get; }

    /// <summary>The exact bytes the signature covers.</summary>
    public ReadOnlyMemory<byte> SignatureBase { get; }

    /// <summary>The decoded signature bytes.</summary>
    public ReadOnlyMemory<byte> Signature { get; }

    /// <summary>True when <paramref name="component"/> is covered.</summary>
    public bool Covers(string component)
    {
        foreach (var c in Components)
        {
            if (c == component)
                return true;
        }

        return false;
    }
}
