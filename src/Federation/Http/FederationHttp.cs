using System.Net;
using System.Net.Sockets;

namespace Fellows.Federation.Http;

/// <summary>Builds the HTTP plumbing every outbound federation request goes through.</summary>
public static class FederationHttp
{
    /// <summary>
    /// A handler that resolves host names itself and connects only to addresses
    /// <see cref="AddressFilter"/> calls public (unless <see cref="FederationHttpOptions.AllowPrivateNetworks"/>).
    /// </summary>
    /// <remarks>
    /// The check sits in <see cref="SocketsHttpHandler.ConnectCallback"/> because that is the only place
    /// that sees the address actually dialled: checking a URL before the request cannot see redirects,
    /// and a second DNS answer (DNS rebinding) could differ from the one that was checked.
    /// Redirects are not followed here; <see cref="ActivityPubClient"/> follows them itself so it can
    /// re-sign each hop and know the final URL.
    /// </remarks>
    public static SocketsHttpHandler CreateHandler(FederationHttpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = options.PooledConnectionLifetime,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.All,
            AllowAutoRedirect = false,
            UseCookies = false,
            // A proxy would make the connect step dial the proxy, not the host, and the address check meaningless.
            UseProxy = false,
            ConnectCallback = (context, ct) => ConnectAsync(context.DnsEndPoint, options, ct),
        };
    }

    /// <summary>
    /// An <see cref="HttpClient"/> on <see cref="CreateHandler"/> with our User-Agent and no client-wide
    /// timeout (the per-request timeouts of <see cref="ActivityPubClient"/> apply instead).
    /// </summary>
    public static HttpClient CreateClient(FederationHttpOptions options)
    {
        var client = new HttpClient(CreateHandler(options), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
        return client;
    }

    internal static bool IsAllowed(IPEndPoint endPoint, FederationHttpOptions options) =>
        options.EndPointFilter?.Invoke(endPoint)
        ?? (options.AllowPrivateNetworks || AddressFilter.IsPublic(endPoint.Address));

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint target, FederationHttpOptions options, CancellationToken ct)
    {
        var host = target.Host.TrimStart('[').TrimEnd(']');
        var resolved = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);

        var allowed = resolved.Where(a => IsAllowed(new IPEndPoint(a, target.Port), options)).ToArray();
        if (allowed.Length == 0)
        {
            throw new BlockedAddressException(target.Host, resolved);
        }

        // Dial exactly the addresses that passed the check; never hand the name back to the OS resolver.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, target.Port, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
