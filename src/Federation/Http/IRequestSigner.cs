using Fellows.Federation.Signatures;

namespace Fellows.Federation.Http;

/// <summary>
/// Signs an outgoing request in place (adds Date, Digest/Content-Digest and Signature headers).
/// The host supplies the key of the actor on whose behalf the request goes out.
/// </summary>
public interface IRequestSigner
{
    /// <summary>Signs <paramref name="request"/>, whose body (if any) is <paramref name="body"/>, with <paramref name="scheme"/>.</summary>
    void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, SignatureScheme scheme);
}
