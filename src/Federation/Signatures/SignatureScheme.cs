namespace Fellows.Federation.Signatures;

/// <summary>The two HTTP message signature formats spoken on the fediverse.</summary>
public enum SignatureScheme
{
    /// <summary>draft-cavage-http-signatures-12, what Mastodon and most servers send today.</summary>
    Cavage,

    /// <summary>RFC 9421 HTTP Message Signatures.</summary>
    Rfc9421,
}
