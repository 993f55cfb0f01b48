using System.Collections.Concurrent;
using Fellows.Federation.Signatures;

namespace Fellows.Federation.Http;

/// <summary>
/// Remembers which signature scheme each remote host accepted, so the double-knock costs
/// one extra request per host rather than one per request.
/// </summary>
/// <remarks>Hosts are keyed as <see cref="Uri.Authority"/> in lower case (host, plus port when not the default).</remarks>
public interface ISignatureSchemePreferences
{
    /// <summary>The scheme <paramref name="host"/> last accepted, or null if unknown.</summary>
    SignatureScheme? Get(string host);

    /// <summary>Records that <paramref name="host"/> accepted <paramref name="scheme"/>.</summary>
    void Remember(string host, SignatureScheme scheme);
}

/// <summary>Process-local <see cref="ISignatureSchemePreferences"/>; forgets on restart.</summary>
public sealed class InMemorySignatureSchemePreferences : ISignatureSchemePreferences
{
    private readonly ConcurrentDictionary<string, SignatureScheme> _schemes = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public SignatureScheme? Get(string host) => _schemes.TryGetValue(host, out var scheme) ? scheme : null;

    /// <inheritdoc />
    public void Remember(string host, SignatureScheme scheme) => _schemes[host] = scheme;
}
