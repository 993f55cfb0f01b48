using Fellows.Server.Features.Delivery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using NUnit.Framework;
using static Fellows.Server.Tests.Delivery.DeliveryTestKit;

namespace Fellows.Server.Tests.Delivery;

/// <summary>What a restart must not do to the queue: lose a delivery, or send one twice.</summary>
[TestFixture]
public sealed class DeliveryRestartTests
{
    [Test]
    public async Task Deliveries_pending_across_a_restart_arrive_exactly_once()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        await using var receiver = await CountingReceiver.StartAsync();
        receiver.Default = CountingReceiver.Answer.Unreachable;
        await using var instance = await FellowsInstance.StartAsync("restart", b => b.Services.AddSingleton<TimeProvider>(clock), new Dictionary<string, string?>
        {
            ["Delivery:PollInterval"] = "00:00:00.200",
            ["Delivery:CircuitFailureThreshold"] = "1000",
        });
        var alice = await instance.CreateMemberAsync("alice");
        await AddRemoteFollowersAsync(instance.ConnectionString, alice.AccountId,
            Enumerable.Range(0, 3).Select(i => ($"f{i}", $"r{i}.test", receiver.Inbox($"r{i}/inbox"), (string?)null)));

        OutgoingActivity Activity(string name)
        {
            var id = $"{alice.ActorId}/activities/{name}";
            return new OutgoingActivity { ActivityId = id, ActorAccountId = alice.AccountId, Body = Body(id, alice.ActorId), ToFollowersOf = [alice.AccountId] };
        }

        // Two activities fail against an unreachable receiver and are pending when the server stops.
        var before = new[] { Activity("a"), Activity("b") };
        foreach (var a in before)
            await EnqueueAsync(instance.Services.GetRequiredService<NpgsqlDataSource>(), instance.Services.GetRequiredService<OutboxWriter>(), a);
        foreach (var a in before)
            await WaitUntilAsync(async () => (await DeliveriesOfAsync(instance.ConnectionString, a.ActivityId)) is { Count: 3 } d && d.All(x => x.Attempts >= 1 && x.State == 0),
                $"{a.ActivityId} attempted");
        await instance.StopAsync();

        // A third is committed while the server is down (another node, or the admin command line, wrote it).
        var during = Activity("c");
        await using (var db = NpgsqlDataSource.Create(instance.ConnectionString))
            await EnqueueAsync(db, new OutboxWriter(clock), during);

        receiver.Default = CountingReceiver.Answer.Accept;
        clock.Advance(TimeSpan.FromHours(1));
        await instance.StartAsync();

        var all = before.Append(during).ToList();
        foreach (var a in all)
            await WaitUntilAsync(async () => (await DeliveriesOfAsync(instance.ConnectionString, a.ActivityId)) is { Count: 3 } d && d.All(x => x.State == 1),
                $"{a.ActivityId} delivered");
        // Give a duplicate every chance to show up.
        instance.Services.GetRequiredService<DeliverySignals>().WakeDelivery();
        await Task.Delay(500);

        var accepted = receiver.Accepted;
        Assert.That(accepted, Has.Count.EqualTo(9));
        foreach (var a in all)
            for (var i = 0; i < 3; i++)
                Assert.That(accepted.Count(r => r.ActivityId == a.ActivityId && r.Path == $"/r{i}/inbox"), Is.EqualTo(1), $"{a.ActivityId} at r{i}");
    }
}
