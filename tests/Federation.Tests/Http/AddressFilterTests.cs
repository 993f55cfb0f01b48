using System.Net;
using Fellows.Federation.Http;
using NUnit.Framework;

namespace Fellows.Federation.Tests.Http;

public class AddressFilterTests
{
    [TestCase("8.8.8.8", true)]
    [TestCase("1.1.1.1", true)]
    [TestCase("93.184.215.14", true)]
    [TestCase("100.63.255.255", true)]
    [TestCase("100.128.0.1", true)]
    [TestCase("172.15.255.255", true)]
    [TestCase("172.32.0.1", true)]
    [TestCase("192.169.0.1", true)]
    [TestCase("198.20.0.1", true)]
    [TestCase("223.255.255.254", true)]
    [TestCase("0.0.0.0", false)]
    [TestCase("0.1.2.3", false)]
    [TestCase("10.0.0.1", false)]
    [TestCase("10.255.255.255", false)]
    [TestCase("100.64.0.1", false)]
    [TestCase("100.127.255.254", false)]
    [TestCase("127.0.0.1", false)]
    [TestCase("127.255.0.9", false)]
    [TestCase("169.254.169.254", false)]
    [TestCase("172.16.0.1", false)]
    [TestCase("172.31.255.254", false)]
    [TestCase("192.0.0.8", false)]
    [TestCase("192.0.2.10", false)]
    [TestCase("192.168.1.1", false)]
    [TestCase("198.18.0.1", false)]
    [TestCase("198.19.255.255", false)]
    [TestCase("198.51.100.7", false)]
    [TestCase("203.0.113.99", false)]
    [TestCase("224.0.0.1", false)]
    [TestCase("239.255.255.250", false)]
    [TestCase("240.0.0.1", false)]
    [TestCase("255.255.255.255", false)]
    [TestCase("2606:4700:4700::1111", true)]
    [TestCase("2a00:1450:4001:81b::200e", true)]
    [TestCase("2001:4860:4860::8888", true)]
    [TestCase("::", false)]
    [TestCase("::1", false)]
    [TestCase("fe80::1", false)]
    [TestCase("febf::1", false)]
    [TestCase("fec0::1", false)]
    [TestCase("fc00::1", false)]
    [TestCase("fd12:3456:789a::1", false)]
    [TestCase("ff02::1", false)]
    [TestCase("2001:db8::1", false)]
    [TestCase("3fff::1", false)]
    [TestCase("100::1", false)]
    [TestCase("64:ff9b:1::1", false)]
    // IPv4-mapped: judged by the IPv4 inside.
    [TestCase("::ffff:127.0.0.1", false)]
    [TestCase("::ffff:10.1.2.3", false)]
    [TestCase("::ffff:169.254.169.254", false)]
    [TestCase("::ffff:8.8.8.8", true)]
    // IPv4-translated (SIIT).
    [TestCase("::ffff:0:192.168.0.1", false)]
    [TestCase("::ffff:0:8.8.8.8", true)]
    // IPv4-compatible (deprecated).
    [TestCase("::127.0.0.1", false)]
    [TestCase("::10.0.0.1", false)]
    [TestCase("::8.8.8.8", true)]
    // NAT64 well-known prefix.
    [TestCase("64:ff9b::127.0.0.1", false)]
    [TestCase("64:ff9b::a9fe:a9fe", false)]
    [TestCase("64:ff9b::8.8.8.8", true)]
    // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
    [TestCase("2002:7f00:1::1", false)]
    [TestCase("2002:c0a8:101::1", false)]
    [TestCase("2002:0808:0808::1", true)]
    // Teredo: server in bits 32..63, client inverted in the last 32 bits.
    [TestCase("2001:0:4136:e378:8000:63bf:80ff:fffe", false)] // client ~0x80fffffe = 127.0.0.1
    [TestCase("2001:0:4136:e378:8000:63bf:f5ff:fffe", false)] // client 10.0.0.1
    [TestCase("2001:0:0a00:0001:8000:63bf:f7f7:f7f7", false)] // server 10.0.0.1
    [TestCase("2001:0:4136:e378:8000:63bf:f7f7:f7f7", true)]  // server 65.54.227.120, client 8.8.8.8
    [TestCase("2001:2::1", false)]
    [TestCase("2001:10::1", false)]
    public void IsPublic_address_returns_expected(string address, bool expected) =>
        Assert.That(AddressFilter.IsPublic(IPAddress.Parse(address)), Is.EqualTo(expected), address);
}
