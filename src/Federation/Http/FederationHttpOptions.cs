using System.Net;
using System.Reflection;
using Fellows.Federation.Signatures;

namespace Fellows.Federation.Http;

/// <summary>Settings for outbound federation HTTP: the connection handler, fetches and deliveries.</summary>
public sealed class FederationHttpOptions
{
    /// <summary>Our own domain, named in the User-Agent so remote admins can reach us.</summary>
    public string Domain { get; set; } = "localhost";

    /// <summary>Software version for the User-Agent; defaults to the Fellows.Federation assembly version.</summary>
    public string Version { get; set; } =
        typeof(FederationHttpOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    /// <summary>The User-Agent sent on every request, <c>Fellows/VERSION (+https://domain/)</c>.</summary>
    public string UserAgent => $"Fellows/{Version} (+https://{Domain}/)";

    /// <summary>
    /// Lets connections go to loopback and private addresses. Only for development and for
    /// several instances federating on one machine; never in production.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long the TCP (and TLS) connect may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a pooled connection is reused, so DNS changes are picked up.</summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most redirects followed on a fetch; each hop is re-signed and re-checked.</summary>
    public int MaxRedirects { get; set; } = 3;

    /// <summary>Largest response body read, in bytes; larger answers are refused while streaming.</summary>
    public long MaxResponseBytes { get; set; } = 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted in a fetched document.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Time for one fetch attempt, headers and body.</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time for one delivery POST.</summary>
    public TimeSpan PostTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Retries of a GET on transient errors (timeouts, 5xx, 408, 429, connection errors). 0 disables.</summary>
    public int FetchRetries { get; set; } = 2;

    /// <summary>Base delay between GET retries; jitter is added.</summary>
    public TimeSpan FetchRetryDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Scheme tried first with a host we have not talked to yet.</summary>
    public SignatureScheme DefaultSignatureScheme { get; set; } = SignatureScheme.Rfc9421;

    /// <summary>Failure ratio over the sampling window at which a host's circuit opens.</summary>
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed in the sampling window before the circuit can open.</summary>
    public int CircuitMinimumThroughput { get; set; } = 10;

    /// <summary>Window over which failures are counted.</summary>
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit refuses calls before letting one through to probe.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Test hook: replaces the address check of the connect step. Returns true to allow the end point.
    /// Tests use it to let one loopback port stand in for a public host.
    /// </summary>
    internal Func<IPEndPoint, bool>? EndPointFilter { get; set; }

    /// <summary>Lists what is wrong with these options; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Domain))
        {
            errors.Add("Domain is required.");
        }

        if (MaxResponseBytes <= 0 || MaxResponseBytes > int.MaxValue)
        {
            errors.Add("MaxResponseBytes must be positive and below 2 GiB.");
        }

        if (MaxRedirects < 0)
        {
            errors.Add("MaxRedirects must not be negative.");
        }

        if (MaxJsonDepth <= 0)
        {
            errors.Add("MaxJsonDepth must be positive.");
        }

        if (FetchRetries < 0)
        {
            errors.Add("FetchRetries must not be negative.");
        }

        if (CircuitFailureRatio is <= 0 or > 1)
        {
            errors.Add("CircuitFailureRatio must be in (0, 1].");
        }

        if (CircuitMinimumThroughput < 2)
        {
            errors.Add("CircuitMinimumThroughput must be at least 2.");
        }

        foreach (var (name, value) in new[]
                 {
                     (nameof(ConnectTimeout), ConnectTimeout), (nameof(FetchTimeout), FetchTimeout),
                     (nameof(PostTimeout), PostTimeout), (nameof(CircuitSamplingDuration), CircuitSamplingDuration),
                     (nameof(CircuitBreakDuration), CircuitBreakDuration), (nameof(PooledConnectionLifetime), PooledConnectionLifetime),
                 })
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name} must be positive.");
            }
        }

        return errors;
    }
}
