using System.Diagnostics;
using Fellows.Server.Features.Inbox;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NUnit.Framework;

namespace Fellows.Server.Tests.Inbox;

/// <summary>The inbox's wake-ups: the local worker at once, other nodes by one NOTIFY per burst rather than per activity.</summary>
public sealed class InboxSignalsTests
{
    [Test]
    public async Task ActivityStored_burst_wakes_the_local_worker_at_once_and_other_nodes_with_few_notifies()
    {
        await using var db = NpgsqlDataSource.Create(await TestCluster.CreateDatabaseAsync("inbox_signals"));
        var signals = new InboxSignals(db, NullLogger<InboxSignals>.Instance);
        await using var listener = await db.OpenConnectionAsync();
        var notifications = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref notifications);
        await using (var listen = new NpgsqlCommand($"LISTEN {InboxSignals.NotifyChannel}", listener)) await listen.ExecuteNonQueryAsync();

        Assert.That(await signals.WaitAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None), Is.False, "nothing stored yet");
        for (var i = 0; i < 200; i++) signals.ActivityStored();
        var clock = Stopwatch.StartNew();
        Assert.That(await signals.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None), Is.True);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "the local worker is woken without waiting for a NOTIFY");

        await WaitForNotificationsAsync(listener, () => notifications >= 1);
        await Task.Delay(500); // any NOTIFY the burst still owes has been sent by now
        var afterBurst = notifications;
        Assert.That(afterBurst, Is.InRange(1, 3), "200 stored activities in a burst cost a NOTIFY or two, not 200");

        // A store after the burst has settled is still announced.
        signals.ActivityStored();
        await WaitForNotificationsAsync(listener, () => notifications > afterBurst);
        Assert.That(notifications, Is.EqualTo(afterBurst + 1));
    }

    static async Task WaitForNotificationsAsync(NpgsqlConnection listener, Func<bool> done)
    {
        var deadline = Stopwatch.StartNew();
        while (!done())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10)) Assert.Fail("no NOTIFY arrived");
            await listener.WaitAsync(TimeSpan.FromMilliseconds(100));
        }
    }
}
