using System.Net;

namespace Fellows.Federation.Http;

/// <summary>
/// Thrown from the connect step when every address a host resolves to is refused by
/// <see cref="AddressFilter"/>. <see cref="HttpClient"/> surfaces it as the inner exception
/// of an <see cref="HttpRequestException"/>.
/// </summary>
public sealed class BlockedAddressException : Exception
{
    /// <summary>Creates the exception for <paramref name="host"/> and the addresses it resolved to.</summary>
    public BlockedAddressException(string host, IReadOnlyList<IPAddress> addresses)
        : base($"Refusing to connect to {host}: no public address among [{string.Join(", ", addresses)}].")
    {
        Host = host;
        Addresses = addresses;
    }

    /// <summary>Creates the exception with no detail.</summary>
    public BlockedAddressException()
        : this("(unknown)", [])
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BlockedAddressException(string message) : base(message)
    {
        Host = "(unknown)";
        Addresses = [];
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public BlockedAddressException(string message, Exception innerException) : base(message, innerException)
    {
        Host = "(unknown)";
        Addresses = [];
    }

    /// <summary>The host name (or literal) that was asked for.</summary>
    public string Host { get; }

    /// <summary>What the host resolved to; all of it was refused.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>True when <paramref name="exception"/> or one of its inner exceptions is a <see cref="BlockedAddressException"/>.</summary>
    public static bool IsCause(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BlockedAddressException)
            {
                return true;
            }
        }

        return false;
    }
}
