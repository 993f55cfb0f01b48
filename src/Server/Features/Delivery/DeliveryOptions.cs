using Microsoft.Extensions.Options;

namespace Fellows.Server.Features.Delivery;

/// <summary>The <c>Delivery</c> section: how hard and how long the outbound queue tries.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>The most deliveries one claim takes; a claim never takes more than there are free send slots.</summary>
    public int BatchSize { get; set; } = 50;

    /// <summary>How many POSTs are in flight at once on this node.</summary>
    public int Parallelism { get; set; } = 16;

    /// <summary>Outbox rows fanned out per transaction round.</summary>
    public int FanOutBatchSize { get; set; } = 20;

    /// <summary>How long a claim is ours. Longer than <see cref="RequestTimeout"/>, so a slow send is not claimed twice;
    /// a node that dies holding claims gives them back when this runs out.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Timeout of one POST.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The safety-net poll, for a notification missed while the listening connection was down.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The shortest wait before a retry, and the first retry's scale.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between two retries.</summary>
    public TimeSpan BackoffCap { get; set; } = TimeSpan.FromHours(6);

    /// <summary>A delivery still failing this long after it was queued is given up (dead).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Consecutive failed attempts to one host that open its circuit.</summary>
    public int CircuitFailureThreshold { get; set; } = 10;

    /// <summary>How long the circuit first stays open; it doubles with every further failure, up to <see cref="CircuitOpenCap"/>.</summary>
    public TimeSpan CircuitOpenBase { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan CircuitOpenCap { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Turns the background workers off (the admin command line and some tests queue without sending).</summary>
    public bool WorkersEnabled { get; set; } = true;
}

/// <summary>Refuses settings that would make the queue spin, stall or send twice, at start-up rather than at 3 a.m.</summary>
public sealed class DeliveryOptionsValidator : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions o)
    {
        var errors = new List<string>();
        if (o.BatchSize is < 1 or > 1000) errors.Add("Delivery:BatchSize must be between 1 and 1000");
        if (o.Parallelism is < 1 or > 512) errors.Add("Delivery:Parallelism must be between 1 and 512");
        if (o.FanOutBatchSize is < 1 or > 1000) errors.Add("Delivery:FanOutBatchSize must be between 1 and 1000");
        if (o.RequestTimeout <= TimeSpan.Zero) errors.Add("Delivery:RequestTimeout must be positive");
        if (o.LeaseDuration <= o.RequestTimeout) errors.Add("Delivery:LeaseDuration must be longer than Delivery:RequestTimeout");
        if (o.PollInterval <= TimeSpan.Zero) errors.Add("Delivery:PollInterval must be positive");
        if (o.BackoffBase <= TimeSpan.Zero) errors.Add("Delivery:BackoffBase must be positive");
        if (o.BackoffCap < o.BackoffBase) errors.Add("Delivery:BackoffCap must not be shorter than Delivery:BackoffBase");
        if (o.MaxAge < o.BackoffBase) errors.Add("Delivery:MaxAge must not be shorter than Delivery:BackoffBase");
        if (o.CircuitFailureThreshold < 1) errors.Add("Delivery:CircuitFailureThreshold must be at least 1");
        if (o.CircuitOpenBase <= TimeSpan.Zero) errors.Add("Delivery:CircuitOpenBase must be positive");
        if (o.CircuitOpenCap < o.CircuitOpenBase) errors.Add("Delivery:CircuitOpenCap must not be shorter than Delivery:CircuitOpenBase");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
