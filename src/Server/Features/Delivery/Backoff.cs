namespace Fellows.Server.Features.Delivery;

/// <summary>
/// When to try a failed delivery again: decorrelated jitter (the next wait is drawn between the base and three
/// times the previous wait, capped). Waits grow about 1.5x per failure on average, yet thousands of deliveries
/// that failed together (a host went down) come back spread out rather than in one thundering herd.
/// </summary>
public static class Backoff
{
    /// <param name="previousDelay">The wait before the attempt that just failed; null for the first failure.</param>
    public static TimeSpan NextDelay(TimeSpan? previousDelay, TimeSpan baseDelay, TimeSpan cap, Random random)
    {
        var previous = previousDelay is { } p && p > baseDelay ? p : baseDelay;
        var upper = Math.Min(cap.Ticks, previous.Ticks * 3);
        if (upper <= baseDelay.Ticks) return TimeSpan.FromTicks(Math.Min(baseDelay.Ticks, cap.Ticks));
        return TimeSpan.FromTicks(baseDelay.Ticks + (long)(random.NextDouble() * (upper - baseDelay.Ticks)));
    }

    /// <summary>How long a host's circuit stays open after <paramref name="failures"/> consecutive failures.</summary>
    public static TimeSpan CircuitOpenFor(int failures, int threshold, TimeSpan openBase, TimeSpan cap)
    {
        var doublings = Math.Clamp(failures - threshold, 0, 30);
        // Compared by shifting the cap down, so a long base doubled many times cannot overflow.
        return openBase.Ticks > cap.Ticks >> doublings ? cap : TimeSpan.FromTicks(openBase.Ticks << doublings);
    }
}
