using System.Threading.Channels;

namespace Fellows.Server.Features.Delivery;

/// <summary>
/// Wake-ups for the two workers. A wake-up only says "look again": any number of them before the worker looks
/// collapse into one, and a worker that finds nothing waits for the next one or for its poll interval.
/// </summary>
public sealed class DeliverySignals
{
    public const string OutboxChannel = "fellows_outbox";
    public const string DeliveryChannel = "fellows_delivery";

    readonly Channel<bool> _outbox = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    readonly Channel<bool> _delivery = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void WakeFanOut() => _outbox.Writer.TryWrite(true);

    public void WakeDelivery() => _delivery.Writer.TryWrite(true);

    public void Wake(string channel)
    {
        if (channel == OutboxChannel) WakeFanOut();
        else if (channel == DeliveryChannel) WakeDelivery();
    }

    /// <summary>Waits for a fan-out wake-up or <paramref name="timeout"/>; true when woken.</summary>
    public Task<bool> WaitFanOutAsync(TimeSpan timeout, CancellationToken ct) => WaitAsync(_outbox, timeout, ct);

    /// <summary>Waits for a delivery wake-up or <paramref name="timeout"/>; true when woken.</summary>
    public Task<bool> WaitDeliveryAsync(TimeSpan timeout, CancellationToken ct) => WaitAsync(_delivery, timeout, ct);

    static async Task<bool> WaitAsync(Channel<bool> channel, TimeSpan timeout, CancellationToken ct)
    {
        if (channel.Reader.TryRead(out _)) return true;
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Wall-clock on purpose: the poll bounds how long a lost notification delays work, whatever the
        // application clock (which tests freeze) says.
        timer.CancelAfter(timeout);
        try
        {
            await channel.Reader.WaitToReadAsync(timer.Token);
            channel.Reader.TryRead(out _);
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
