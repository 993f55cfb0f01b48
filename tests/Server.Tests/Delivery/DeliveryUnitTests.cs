using Fellows.Server.Features.Delivery;
using NUnit.Framework;

namespace Fellows.Server.Tests.Delivery;

public sealed class DeliveryUnitTests
{
    static readonly TimeSpan Base = TimeSpan.FromMinutes(1);
    static readonly TimeSpan Cap = TimeSpan.FromHours(6);
    static readonly string[] ExpectedDomainCandidates = ["a.b.example.com:8443", "a.b.example.com", "b.example.com", "example.com"];
    static readonly string[] ExpectedAddressCandidates = ["127.0.0.1:80", "127.0.0.1"];

    [Test]
    public void Backoff_next_delay_stays_between_base_and_three_times_previous_and_under_cap()
    {
        var random = new Random(42);
        TimeSpan? previous = null;
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 40; i++)
        {
            var next = Backoff.NextDelay(previous, Base, Cap, random);
            var upper = TimeSpan.FromTicks(Math.Min(Cap.Ticks, (previous ?? Base).Ticks * 3));
            Assert.That(next, Is.InRange(Base, upper));
            delays.Add(next);
            previous = next;
        }
        Assert.That(delays.Distinct().Count(), Is.GreaterThan(30), "jittered");
        Assert.That(delays.Skip(20).Average(d => d.TotalMinutes), Is.GreaterThan(delays.Take(3).Average(d => d.TotalMinutes)), "grows");
    }

    [Test]
    public void Backoff_circuit_open_time_doubles_per_failure_past_threshold_and_is_capped()
    {
        Assert.That(Backoff.CircuitOpenFor(5, 5, Base, Cap), Is.EqualTo(Base));
        Assert.That(Backoff.CircuitOpenFor(6, 5, Base, Cap), Is.EqualTo(Base * 2));
        Assert.That(Backoff.CircuitOpenFor(8, 5, Base, Cap), Is.EqualTo(Base * 8));
        Assert.That(Backoff.CircuitOpenFor(500, 5, TimeSpan.FromDays(1), Cap), Is.EqualTo(Cap));
    }

    [Test]
    public void RemoteHost_block_candidates_cover_parent_domains_and_drop_the_port()
    {
        Assert.That(RemoteHost.BlockCandidates("a.b.example.com:8443"), Is.EqualTo(ExpectedDomainCandidates));
        Assert.That(RemoteHost.BlockCandidates("127.0.0.1:80"), Is.EqualTo(ExpectedAddressCandidates));
        Assert.That(RemoteHost.Of(new Uri("https://Coop.Example/inbox")), Is.EqualTo("coop.example"));
        Assert.That(RemoteHost.Of(new Uri("http://127.0.0.1:8181/inbox")), Is.EqualTo("127.0.0.1:8181"));
    }

    [Test]
    public void Options_validator_refuses_a_lease_shorter_than_the_request_timeout()
    {
        var result = new DeliveryOptionsValidator().Validate(null, new DeliveryOptions { LeaseDuration = TimeSpan.FromSeconds(10), RequestTimeout = TimeSpan.FromSeconds(30) });
        Assert.That(result.Failed, Is.True);
        Assert.That(new DeliveryOptionsValidator().Validate(null, new DeliveryOptions()).Succeeded, Is.True);
    }
}
