using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Fellows.Federation.Http;

/// <summary>
/// Decides whether an IP address is on the public internet, so that a remote server cannot make
/// us fetch from our own machine or private network (SSRF) by naming such an address in an id,
/// an inbox, a redirect or a DNS record.
/// </summary>
/// <remarks>
/// IPv4 is a deny list of the special-purpose ranges. IPv6 is an allow list: only global unicast
/// (2000::/3) passes, minus the special ranges inside it, because the rest of the v6 space is either
/// local by design or unassigned. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
/// 6to4, Teredo) are judged by that IPv4 address, since a gateway on the path would deliver them there.
/// </remarks>
public static class AddressFilter
{
    // (network, prefix length) pairs for IPv4 special-purpose ranges that must never be reached.
    private static readonly (uint Network, int Prefix)[] BlockedV4 =
    [
        (0x00000000, 8),   // 0.0.0.0/8 "this network", includes the unspecified address
        (0x0A000000, 8),   // 10.0.0.0/8 private
        (0x64400000, 10),  // 100.64.0.0/10 carrier-grade NAT
        (0x7F000000, 8),   // 127.0.0.0/8 loopback
        (0xA9FE0000, 16),  // 169.254.0.0/16 link-local (cloud metadata lives here)
        (0xAC100000, 12),  // 172.16.0.0/12 private
        (0xC0000000, 24),  // 192.0.0.0/24 IETF protocol assignments
        (0xC0000200, 24),  // 192.0.2.0/24 TEST-NET-1
        (0xC0586300, 24),  // 192.88.99.0/24 deprecated 6to4 relay anycast
        (0xC0A80000, 16),  // 192.168.0.0/16 private
        (0xC6120000, 15),  // 198.18.0.0/15 benchmarking
        (0xC6336400, 24),  // 198.51.100.0/24 TEST-NET-2
        (0xCB007100, 24),  // 203.0.113.0/24 TEST-NET-3
        (0xE0000000, 4),   // 224.0.0.0/4 multicast
        (0xF0000000, 4),   // 240.0.0.0/4 reserved, includes 255.255.255.255 broadcast
    ];

    /// <summary>True when <paramref name="address"/> is a public unicast address we may connect to.</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => IsPublicV4(ToUInt32(address)),
            AddressFamily.InterNetworkV6 => IsPublicV6(address),
            _ => false,
        };
    }

    private static uint ToUInt32(IPAddress v4)
    {
        Span<byte> bytes = stackalloc byte[4];
        v4.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private static bool IsPublicV4(uint address)
    {
        foreach (var (network, prefix) in BlockedV4)
        {
            var mask = uint.MaxValue << (32 - prefix);
            if ((address & mask) == network)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPublicV6(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);

        var first32 = BinaryPrimitives.ReadUInt32BigEndian(b);
        var first64 = BinaryPrimitives.ReadUInt64BigEndian(b);
        var last32 = BinaryPrimitives.ReadUInt32BigEndian(b[12..]);
        var bits32To95 = BinaryPrimitives.ReadUInt64BigEndian(b[4..]);

        // ::ffff:a.b.c.d (IPv4-mapped): the socket layer connects to the IPv4 address itself.
        if (first64 == 0 && BinaryPrimitives.ReadUInt32BigEndian(b[8..]) == 0x0000FFFF)
        {
            return IsPublicV4(last32);
        }

        // ::ffff:0:a.b.c.d (IPv4-translated, SIIT).
        if (first64 == 0 && BinaryPrimitives.ReadUInt32BigEndian(b[8..]) == 0xFFFF0000)
        {
            return IsPublicV4(last32);
        }

        // ::a.b.c.d (deprecated IPv4-compatible). :: and ::1 fall in here too and are refused,
        // because 0.0.0.0/8 is refused as IPv4.
        if (first64 == 0 && BinaryPrimitives.ReadUInt32BigEndian(b[8..]) == 0)
        {
            return IsPublicV4(last32);
        }

        // 64:ff9b::/96 well-known NAT64 prefix: a NAT64 gateway forwards to the embedded IPv4.
        if (first32 == 0x0064FF9B && (bits32To95 == 0))
        {
            return IsPublicV4(last32);
        }

        // 2002::/16 6to4: the IPv4 address of the tunnel end point sits in bits 16..47.
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return IsPublicV4(BinaryPrimitives.ReadUInt32BigEndian(b[2..]));
        }

        // 2001::/32 Teredo: bits 32..63 are the Teredo server, the last 32 bits the client's
        // address with every bit inverted. Either one may point inside a private network.
        if (first32 == 0x20010000)
        {
            return IsPublicV4(BinaryPrimitives.ReadUInt32BigEndian(b[4..])) && IsPublicV4(~last32);
        }

        // Only global unicast 2000::/3 is public; this refuses ::/8 leftovers, 64:ff9b:1::/48,
        // 100::/64 discard, fc00::/7 unique-local, fe80::/10 link-local, fec0::/10 site-local and ff00::/8 multicast.
        if ((b[0] & 0xE0) != 0x20)
        {
            return false;
        }

        // 2001::/23 IETF protocol assignments (Teredo handled above): ORCHID, benchmarking 2001:2::/48 and the like.
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02)
        {
            return false;
        }

        // 2001:db8::/32 documentation.
        if (first32 == 0x20010DB8)
        {
            return false;
        }

        // 3fff::/20 documentation (RFC 9637).
        if (b[0] == 0x3F && b[1] == 0xFF && (b[2] & 0xF0) == 0)
        {
            return false;
        }

        return true;
    }
}
